/**
 * Plaintext on a STRICT port, byte by byte (istio-semantics.md §1): every HTTP probe of the mode
 * matrix goes through an HTTP/1.1 client, so a sidecar that sniffs plaintext and lets some of it
 * through (an HTTP/1.0 request line, a request without Host, an HTTP/0.9 `GET /`) would pass it.
 * Here a client with no sidecar writes those requests on a raw socket to a namespace-wide STRICT
 * port and to a port-level STRICT port. Envoy's TLS inspector sees no ClientHello, no filter chain
 * matches, and the connection is closed: the client reads no byte at all (an HTTP 400 or 426
 * would mean the bytes reached an HTTP stack), the app records nothing, and the sidecar logs the
 * connection with response flag NR (no route / no filter chain).
 */
import { Feature, and, appNeverSaw, closedWithNoBytes, responseFlag, type ConformanceCase } from '../../../harness/index.ts';
import { callLive } from '../../shared/live-call.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { LEGACY_CLIENT, PROD_STRICT } from './common.ts';

/** prod-namespace STRICT, product-service DISABLE but STRICT on 8083: one namespace-level and one port-level STRICT port. */
const MANIFESTS: readonly string[] = [PROD_STRICT, 'cases/product-port-level.yaml'];

/** The STRICT ports probed: a service port, and the workload port whose mode the table states. */
const PORTS = [
  { to: 'prod-namespace/payment-service', port: 80, workload: 'prod-namespace/payment-service', workloadPort: 8080, scope: 'namespace STRICT' },
  { to: 'prod-namespace/product-service', port: 8083, workload: 'prod-namespace/product-service', workloadPort: 8083, scope: 'port-level STRICT' },
] as const;

/** Plaintext an HTTP/1.1 client never sends. */
const PAYLOADS = [
  { name: 'GET / HTTP/1.0 with Host', bytes: 'GET / HTTP/1.0\r\nHost: payment-service\r\n\r\n' },
  { name: 'GET / HTTP/1.0 without Host', bytes: 'GET / HTTP/1.0\r\n\r\n' },
  { name: 'GET / HTTP/1.1 without Host', bytes: 'GET / HTTP/1.1\r\n\r\n' },
  { name: 'HTTP/0.9 GET /', bytes: 'GET /\r\n' },
] as const;

export const rawPlaintextCase: ConformanceCase<SecurityEnv> = {
  shortName: 'strict-refuses-raw-plaintext',
  description:
    'Raw-socket plaintext (HTTP/1.0 with and without Host, HTTP/1.1 without Host, HTTP/0.9) to a namespace-wide and a port-level STRICT port: the connection is closed before any byte of answer, the app sees nothing, and the sidecar logs NR.',
  area: 'mtls',
  features: [Feature.MtlsStrict, Feature.MtlsPortLevel],
  manifests: MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    const mesh = await env.use(MANIFESTS);
    for (const target of PORTS) {
      const mode = mesh.workloads.find((w) => w.key === target.workload)?.ports.find((p) => p.port === target.workloadPort)?.mtlsMode;
      if (mode !== 'STRICT') ctx.verify(`${target.workload}:${target.workloadPort} is STRICT under ${MANIFESTS.join(', ')}`, new Error(`the policies resolve it to ${mode ?? 'no such port'}`));
      for (const payload of PAYLOADS) {
        const e = await callLive(env.mesh, LEGACY_CLIENT, { to: target.to, port: target.port, protocol: 'tcp', tls: false, method: 'RAW', path: `[${payload.name}] (${target.scope})`, body: payload.bytes });
        ctx.expect(e, and(closedWithNoBytes(), appNeverSaw(), responseFlag('NR')));
      }
    }
  },
};
