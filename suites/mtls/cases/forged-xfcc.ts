/**
 * A forged x-forwarded-client-cert (envoy-mapping.md, inbound HCM: istiod sets
 * forward_client_cert_details APPEND_FORWARD with set_current_client_cert_details). The app trusts
 * that header for its caller's identity, so a client must not be able to write it:
 * - on plaintext (a PERMISSIVE and a DISABLE port) there is no client certificate, and Envoy
 *   removes the client's header: the app learns no identity, and no header it gets names the
 *   forged principal;
 * - on mutual TLS the client's header is forwarded and the server sidecar appends its own element,
 *   the last one, which names the certificate's identity: the app's caller is the real client;
 * - through the client's own sidecar the app's header never leaves the pod (outbound SANITIZE).
 */
import { Feature, allowed, and, peerIdentity, workloadPod, xfccNeverNames, type ConformanceCase } from '../../../harness/index.ts';
import { PROBE_HEADER } from '../../shared/live-decision.ts';
import { callLive } from '../../shared/live-call.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { BASE_MANIFESTS, LEGACY_CLIENT, ORDER_CLIENT, ORDER_SA } from './common.ts';

/** The principal a forger claims. */
export const FORGED_PRINCIPAL = 'spiffe://cluster.local/ns/prod-namespace/sa/admin';
const FORGED_XFCC = `By=spiffe://cluster.local/ns/prod-namespace/sa/product-service-sa;Hash=0000;URI=${FORGED_PRINCIPAL}`;

/** Plaintext ports under BASE_MANIFESTS. */
const PLAINTEXT_PORTS = [
  { port: 8082, mode: 'PERMISSIVE' },
  { port: 8083, mode: 'DISABLE' },
] as const;

export const forgedXfccCase: ConformanceCase<SecurityEnv> = {
  shortName: 'forged-xfcc-not-trusted',
  description:
    "A client-written x-forwarded-client-cert naming prod-namespace/admin: on plaintext (PERMISSIVE and DISABLE ports) the app learns no identity and never sees the forged principal; on mutual TLS the element the app trusts (the last, the server sidecar's) names the real client.",
  area: 'mtls',
  features: [Feature.MtlsPermissive, Feature.MtlsDisable, Feature.MtlsStrict],
  manifests: BASE_MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    const mesh = await env.use(BASE_MANIFESTS);
    const headers = (probe: string): Record<string, string> => ({ [PROBE_HEADER]: probe, 'x-forwarded-client-cert': FORGED_XFCC });
    for (const { port, mode } of PLAINTEXT_PORTS) {
      const resolved = mesh.workloads.find((w) => w.key === 'prod-namespace/product-service')?.ports.find((p) => p.port === port)?.mtlsMode;
      if (resolved !== mode) ctx.verify(`product-service:${port} is ${mode} under ${BASE_MANIFESTS.join(', ')}`, new Error(`the policies resolve it to ${resolved ?? 'no such port'}`));
      const e = await callLive(env.mesh, LEGACY_CLIENT, { to: 'prod-namespace/product-service', port, method: 'GET', path: `/xfcc/plaintext-${mode.toLowerCase()}`, headers: headers(`xfcc-${port}`), tls: false });
      ctx.expect(e, and(allowed(), peerIdentity(undefined), xfccNeverNames(FORGED_PRINCIPAL)));
    }
    const real = env.ca.spiffeUriOf(ORDER_SA);
    // Mutual TLS with order-service's own certificate, made by the client itself: the forged header reaches the server sidecar.
    const credentials = await env.prober.credentialsFor(real);
    const direct = await callLive(env.mesh, env.attacker, { to: workloadPod({ name: 'payment-service', namespace: 'prod-namespace' }, 0), method: 'POST', path: '/pay/1', headers: headers('xfcc-mtls-direct'), tls: credentials.clientTls({}) });
    ctx.expect(direct, and(allowed(), peerIdentity(real)));
    // The in-mesh client as its app calls: through its own sidecar, which makes the mutual-TLS call.
    // istiod leaves that outbound HCM's forward_client_cert_details unset, so Envoy's default
    // (SANITIZE) drops the app's header there: the server's app sees only its own sidecar's element.
    const viaSidecar = await callLive(env.mesh, ORDER_CLIENT, { to: 'prod-namespace/payment-service', method: 'POST', path: '/pay/1', headers: headers('xfcc-mtls-sidecar') });
    ctx.expect(viaSidecar, and(allowed(), peerIdentity(real), xfccNeverNames(FORGED_PRINCIPAL)));
  },
};
