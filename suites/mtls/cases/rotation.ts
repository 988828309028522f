/**
 * Certificate rotation under steady traffic (istio-semantics.md §6: the agent rotates workload
 * certificates and hands them to the proxy over SDS, with no restart). Both ends rotate three
 * times while order-service calls payment-service without pause: the server's next handshakes
 * present its new certificate, the client's next calls present the client's new one, and not one
 * request fails.
 */
import { Feature, awaitConvergence, fingerprint256, workloadPod, type ConformanceCase } from '../../../harness/index.ts';
import { settle } from '../../shared/case-support.ts';
import { callLive } from '../../shared/live-call.ts';
import { SteadyTraffic } from '../../shared/steady-traffic.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { BASE_MANIFESTS, ORDER_CLIENT, PAYMENT } from './common.ts';

const ROTATIONS = 3;
/** Steady requests wanted after each rotation took effect. */
const REQUESTS_PER_ROTATION = 5;

export const rotationCase: ConformanceCase<SecurityEnv> = {
  shortName: 'rotation-under-steady-traffic',
  description: `payment-service (STRICT) and its caller order-service each get a new workload certificate ${ROTATIONS} times while order-service calls payment-service without pause: each new certificate is the one presented in the next handshakes, and no request fails.`,
  area: 'mtls',
  features: [Feature.IdentityRotation, Feature.MtlsStrict],
  manifests: BASE_MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    await env.use(BASE_MANIFESTS);
    const paymentPod = workloadPod({ name: 'payment-service', namespace: 'prod-namespace' }, 0);
    const steady = SteadyTraffic.start(env.prober, { source: { kind: 'participant', name: ORDER_CLIENT }, to: PAYMENT, method: 'POST', path: '/pay/steady' });
    const timings: string[] = [];
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
        const from = steady.count;
        await steady.atLeast(from + REQUESTS_PER_ROTATION);
        const presentedByClient = steady.results.slice(from).map((r) => r.result.evidence.observation.request.tls?.certChainPem);
        const newest = presentedByClient.at(-1);
        ctx.verify(
          `order-service presents its certificate of rotation ${i} in its next calls`,
          newest !== undefined && fingerprint256(newest) === clientCert.fingerprint256 ? undefined : new Error(`its last call presented ${newest === undefined ? 'no certificate' : fingerprint256(newest)}, not ${clientCert.fingerprint256}`),
        );
      }
    } finally {
      await steady.stop();
    }
    ctx.finding(timings.join('; '));
    ctx.verify(`steady traffic ran throughout (${steady.count} requests)`, steady.count >= REQUESTS_PER_ROTATION * (ROTATIONS + 1) ? undefined : new Error(`only ${steady.count} requests completed`));
    settle(
      ctx,
      steady.results.map((r) => r.result),
      'order-service → payment-service while certificates rotate',
    );
  },
};
