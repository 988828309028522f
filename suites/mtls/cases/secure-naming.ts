/**
 * Secure naming, from the client's side (istio-semantics.md §6): the client checks that the
 * server's certificate names a service account allowed to run the destination. Here the pod
 * behind payment-service presents a valid certificate from the mesh CA, but for another service
 * account (`prod-namespace/impostor`), as a compromised or misrouted endpoint would. The in-mesh
 * client must refuse to talk to it, and nothing reaches the app.
 *
 * What the client observes: a failed handshake where the client's TLS itself refuses, or the 503
 * (`UF`, upstream connection failure) a client sidecar answers when its upstream handshake fails.
 */
import { Feature, SIDECAR_CERT_DIR, and, appNeverSaw, awaitConvergence, or, rejectedBeforeHttp, responseFlag, status, workloadPod, writeWorkloadFiles, type ConformanceCase } from '../../../harness/index.ts';
import { join } from 'node:path';
import { PROBE_HEADER } from '../../shared/live-decision.ts';
import { callLive } from '../../shared/live-call.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { BASE_MANIFESTS, ORDER_CLIENT } from './common.ts';

const IMPOSTOR = { namespace: 'prod-namespace', serviceAccount: 'impostor' } as const;

export const secureNamingCase: ConformanceCase<SecurityEnv> = {
  shortName: 'secure-naming-refuses-impostor-server',
  description:
    "The pod behind payment-service presents a valid mesh certificate for prod-namespace/impostor instead of payment-service-sa: order-service's call is refused by the client side before any request is sent, and payment-service's app never sees it.",
  area: 'mtls',
  features: [Feature.IdentitySecureNaming],
  manifests: BASE_MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    await env.use(BASE_MANIFESTS);
    const paymentPod = workloadPod({ name: 'payment-service', namespace: 'prod-namespace' }, 0);
    const pod = env.mesh.pod(paymentPod);
    const certDir = join(pod.pod.sidecar!.hostDir, SIDECAR_CERT_DIR);
    const impostor = await env.ca.issue(IMPOSTOR);
    const impostorUri = env.ca.spiffeUriOf(IMPOSTOR);
    try {
      await writeWorkloadFiles(certDir, impostor);
      await awaitConvergence(
        async () => {
          const e = await callLive(env.mesh, env.attacker, { to: paymentPod, protocol: 'tls-handshake', tls: env.mesh.credentialsOf(ORDER_CLIENT).clientTls() });
          const presented = e.observation.tls?.peerChain[0]?.uriSans ?? [];
          return presented.includes(impostorUri) ? undefined : new Error(`payment-service's pod presents [${presented.join(', ')}], not the impostor's certificate yet`);
        },
        { name: "payment-service's pod presents the impostor certificate", timeoutMs: env.mesh.timeouts.convergence, intervalMs: env.mesh.timeouts.convergenceInterval, consecutiveSuccesses: 1 },
      );
      const e = await callLive(env.mesh, ORDER_CLIENT, { to: paymentPod, method: 'POST', path: '/pay/1', headers: { [PROBE_HEADER]: 'secure-naming' } });
      ctx.expect(e, and(or(rejectedBeforeHttp(), and(status(503), responseFlag('UF'))), appNeverSaw()));
    } finally {
      // Give the pod a genuine certificate again, whatever happened, before the next case.
      const genuine = await env.mesh.rotateCertificates(paymentPod);
      await awaitConvergence(
        async () => {
          const e = await callLive(env.mesh, ORDER_CLIENT, { to: paymentPod, protocol: 'tls-handshake' });
          return e.observation.tls?.peerChain[0]?.fingerprint256 === genuine.fingerprint256 ? undefined : new Error('payment-service does not present its genuine certificate again yet');
        },
        { name: "payment-service's genuine certificate back in use", timeoutMs: env.mesh.timeouts.convergence, intervalMs: env.mesh.timeouts.convergenceInterval, consecutiveSuccesses: 1 },
      );
    }
  },
};
