/**
 * The TLS floor (istio-semantics.md §1 "TLS parameters"): the minimum protocol version is TLS 1.2
 * and the maximum TLS 1.3. A client holding a valid mesh certificate that really offers TLS 1.0,
 * then TLS 1.1 (both bounds set, OpenSSL's security level lowered so the ClientHello is sent) is
 * refused by the server with a protocol_version alert; TLS 1.2 and TLS 1.3 clients get through,
 * and the connection uses the version asked. Only the server's alert counts: our own client
 * failing before it sends anything is an infrastructure error (versionRefusedByServer).
 */
import { Feature, and, appNeverSaw, versionRefusedByServer, workloadPod, type Check, type ClientTls, type ConformanceCase } from '../../../harness/index.ts';
import { PROBE_HEADER } from '../../shared/live-decision.ts';
import { callLive } from '../../shared/live-call.ts';
import { settle } from '../../shared/case-support.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { BASE_MANIFESTS, ORDER_SA, PAYMENT } from './common.ts';

/** The TLS version the connection used. */
function negotiated(version: string): Check {
  return ({ observation }) => (observation.tls?.protocol === version ? undefined : new Error(`expected the connection to use ${version}, it used ${observation.tls?.protocol ?? 'no TLS'}`));
}

export const tlsVersionCase: ConformanceCase<SecurityEnv> = {
  shortName: 'tls-version-floor',
  description: 'payment-service (STRICT) refuses TLS 1.0 and TLS 1.1 clients that hold a valid mesh certificate with a protocol_version alert, before any request reaches the app; TLS 1.2 and TLS 1.3 clients get through on the version they asked for.',
  area: 'mtls',
  features: [Feature.MtlsStrict],
  manifests: BASE_MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    await env.use(BASE_MANIFESTS);
    const identity = env.ca.spiffeUriOf(ORDER_SA);
    const pod = workloadPod({ name: 'payment-service', namespace: 'prod-namespace' }, 0);
    const credentials = await env.prober.credentialsFor(identity);
    const tls = (bounds: Pick<ClientTls, 'minVersion' | 'maxVersion'>): ClientTls => credentials.clientTls(bounds);
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      const old = await callLive(env.mesh, env.attacker, { to: pod, method: 'POST', path: '/pay/1', headers: { [PROBE_HEADER]: version.toLowerCase() }, tls: tls({ minVersion: version, maxVersion: version }) });
      ctx.expect(old, and(versionRefusedByServer(), appNeverSaw()));
    }
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const result = await env.prober.run({ source: { kind: 'identity', identity }, to: PAYMENT, method: 'POST', path: '/pay/1', tlsVersions: { minVersion: version, maxVersion: version } });
      settle(ctx, [result], `a ${version} client`);
      ctx.expect(result.evidence, negotiated(version));
    }
  },
};
