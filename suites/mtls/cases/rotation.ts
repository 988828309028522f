/**
 * Certificate rotation under steady traffic (istio-semantics.md §6: the agent rotates workload
 * certificates and hands them to the proxy over SDS, with no restart). Both ends rotate three
 * times while order-service calls payment-service without pause: the server's next handshakes
 * present its new certificate, the client's next calls present the client's new one (as the
 * server's sidecar reports it to the app: x-forwarded-client-cert Hash), and not one request fails.
 */
import { Feature, awaitConvergence, workloadPod, type ConformanceCase } from '../../../harness/index.ts';
import { settle } from '../../shared/case-support.ts';
import { callLive } from '../../shared/live-call.ts';
import { PROBE_HEADER, clientCertificateHash } from '../../shared/live-decision.ts';
import type { LiveProbeResult } from '../../shared/live-prober.ts';
import { SteadyTraffic } from '../../shared/steady-traffic.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { BASE_MANIFESTS, ORDER_CLIENT, PAYMENT } from './common.ts';

/** The seed's DestinationRule for payment-service recycles client connections every 10 requests. */
const MANIFESTS = [...BASE_MANIFESTS, '../../fixtures/seed/destination-rule.yaml'];
const ROTATIONS = 3;
/** Steady requests wanted after each rotation took effect. */
const REQUESTS_PER_ROTATION = 5;

export const rotationCase: ConformanceCase<SecurityEnv> = {
  shortName: 'rotation-under-steady-traffic',
  description: `payment-service (STRICT) and its caller order-service each get a new workload certificate ${ROTATIONS} times while order-service calls payment-service without pause: each new certificate is the one presented in the handshakes that follow (payment-service's to new clients; order-service's on the new connections the seed DestinationRule's maxRequestsPerConnection makes it open), and no request fails.`,
  area: 'mtls',
  features: [Feature.IdentityRotation, Feature.MtlsStrict],
  manifests: MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    await env.use(MANIFESTS);
    const paymentPod = workloadPod({ name: 'payment-service', namespace: 'prod-namespace' }, 0);
    const steady = SteadyTraffic.start(env.prober, { source: { kind: 'participant', name: ORDER_CLIENT }, to: PAYMENT, method: 'POST', path: '/pay/steady' });
    const timings: string[] = [];
    const checks: LiveProbeResult[] = [];
    try {
      await steady.atLeast(REQUESTS_PER_ROTATION);
      for (let i = 1; i <= ROTATIONS; i += 1) {
        const serverCert = await env.mesh.rotateCertificates(paymentPod);
        const clientCert = await env.mesh.rotateCertificates(ORDER_CLIENT);
        const converged = await awaitConvergence(
          async () => {
            const e = await callLive(env.mesh, ORDER_CLIENT, { to: paymentPod, protocol: 'tls-handshake' });
            const presented = e.observation.tls?.peerChain[0]?.fingerprint256;
            return presented === serverCert.fingerprint256 ? undefined : new Error(`payment-service still presents ${presented ?? 'nothing'}, not the certificate issued at rotation ${i} (${serverCert.fingerprint256})`);
          },
          { name: `payment-service presents its certificate of rotation ${i}`, timeoutMs: env.mesh.timeouts.convergence, intervalMs: env.mesh.timeouts.convergenceInterval, consecutiveSuccesses: 1 },
        );
        timings.push(`rotation ${i}: new server certificate in use after ${converged.elapsedMs} ms`);
        // The client's side, as the server sees it: order-service's new connections present the
        // rotated certificate (x-forwarded-client-cert Hash). A connection keeps the certificate it
        // was opened with, as in Envoy; the seed's DestinationRule (maxRequestsPerConnection: 10)
        // makes order-service's sidecar open new ones as traffic goes on.
        const wanted = clientCert.fingerprint256.replaceAll(':', '').toLowerCase();
        const clientConverged = await awaitConvergence(
          async () => {
            const r = await env.prober.run({ source: { kind: 'participant', name: ORDER_CLIENT }, to: PAYMENT, method: 'POST', path: `/pay/rotation-${i}` });
            checks.push(r);
            const seen = clientCertificateHash(r.evidence.serverSaw?.find((x) => x.headers[PROBE_HEADER] === r.tag)?.headers['x-forwarded-client-cert']);
            return seen === wanted ? undefined : new Error(`payment-service's sidecar saw client certificate ${seen ?? '(none reported)'}, not order-service's rotation ${i} certificate ${wanted}`);
          },
          { name: `order-service presents its certificate of rotation ${i}`, timeoutMs: env.mesh.timeouts.convergence, intervalMs: env.mesh.timeouts.convergenceInterval, consecutiveSuccesses: 1 },
        );
        timings.push(`order-service's new certificate seen after ${clientConverged.elapsedMs} ms`);
        await steady.atLeast(steady.count + REQUESTS_PER_ROTATION);
      }
    } finally {
      await steady.stop();
    }
    ctx.finding(timings.join('; '));
    ctx.verify(`steady traffic ran throughout (${steady.count} requests)`, steady.count >= REQUESTS_PER_ROTATION * (ROTATIONS + 1) ? undefined : new Error(`only ${steady.count} requests completed`));
    settle(
      ctx,
      [...steady.results.map((r) => r.result), ...checks],
      'order-service → payment-service while certificates rotate',
    );
  },
};
