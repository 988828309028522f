/**
 * What the reference sidecar costs on the inbound path: requests/s through one sidecar with
 * mutual TLS and keep-alive, and the latency it adds over calling the echo app directly.
 *
 * Three processes on this machine: the echo app (harness/apps/echo/main.ts), the reference
 * sidecar (sidecar/main.ts, rendered from a STRICT policy with the seed's AuthorizationPolicy, so
 * every request is authorized), and this load generator (undici pools). Latency is measured with
 * one request in flight; throughput with CONCURRENCY connections for DURATION_MS.
 * Run: sh scripts/node.sh bench/sidecar-inbound.bench.ts   (figures are printed, never asserted)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePorts, LocalPod } from '../harness/dataplane/reference/testing/local-pod.ts';
import { MeshCa } from '../harness/pki/mesh-ca.ts';
import { SEED_POLICIES } from '../suites/shared/testing/seed-mesh.ts';
import { CONCURRENCY, DURATION_MS, LATENCY_REQUESTS, WARMUP, pct, sequentialLatency, startEcho } from './sidecar-bench-common.ts';

const [echoPort, sidecarPort] = (await freePorts(2)) as [number, number];
const podDir = mkdtempSync(join(tmpdir(), 'meshproof-bench-echo-'));
const echo = await startEcho(echoPort, podDir, 'payment-service-0');

const ca = await MeshCa.create();
const order = await ca.issue({ namespace: 'prod-namespace', serviceAccount: 'order-service-sa' });
const pod = await LocalPod.start({
  ca,
  appPort: echoPort,
  sidecar: 'child-process',
  workload: 'prod-namespace/payment-service',
  topologyYaml: `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod-namespace]
workloads:
- {name: payment-service, namespace: prod-namespace, serviceAccount: payment-service-sa, labels: {app: payment-service}, ports: [{port: ${sidecarPort}, protocol: http}]}
`,
  policiesYaml: SEED_POLICIES,
});

interface Target {
  readonly name: string;
  readonly pool: (connections: number) => Pool;
}

const direct: Target = { name: 'echo app directly (plaintext)', pool: (connections) => new Pool(`http://127.0.0.1:${echoPort}`, { connections, pipelining: 1 }) };
const sidecar: Target = {
  name: 'through the sidecar (mTLS + RBAC)',
  pool: (connections) =>
    new Pool(`https://127.0.0.1:${sidecarPort}`, {
      connections,
      pipelining: 1,
      connect: { cert: order.certChainPem, key: order.keyPem, ca: ca.rootCertPem, checkServerIdentity: () => undefined },
    }),
};

async function once(pool: Pool): Promise<void> {
  const r = await pool.request({ method: 'POST', path: '/pay/1' });
  await r.body.text();
  if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
}

async function latency(target: Target): Promise<number[]> {
  return sequentialLatency(target.pool(1), once);
}

async function throughput(target: Target): Promise<number> {
  const pool = target.pool(CONCURRENCY);
  try {
    const warmUntil = performance.now() + 1_000;
    const run = async (until: number): Promise<number> => {
      let n = 0;
      while (performance.now() < until) {
        await once(pool);
        n += 1;
      }
      return n;
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => run(warmUntil)));
    const start = performance.now();
    const counts = await Promise.all(Array.from({ length: CONCURRENCY }, () => run(start + DURATION_MS)));
    return (counts.reduce((a, b) => a + b, 0) * 1000) / (performance.now() - start);
  } finally {
    await pool.destroy();
  }
}

try {
  process.stdout.write(`meshproof sidecar-inbound bench: Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}\n`);
  process.stdout.write(`latency: ${LATENCY_REQUESTS} sequential POST /pay/1 on one keep-alive connection after ${WARMUP} warm-up; throughput: ${CONCURRENCY} connections for ${DURATION_MS} ms\n`);
  const lat = new Map<string, number[]>();
  const rps = new Map<string, number>();
  for (const target of [direct, sidecar]) {
    const samples = await latency(target);
    lat.set(target.name, samples);
    rps.set(target.name, await throughput(target));
    process.stdout.write(
      `  ${target.name.padEnd(36)} p50 ${pct(samples, 0.5).toFixed(3)} ms  p90 ${pct(samples, 0.9).toFixed(3)} ms  p99 ${pct(samples, 0.99).toFixed(3)} ms  ${rps.get(target.name)!.toFixed(0)} req/s\n`,
    );
  }
  const p50Direct = pct(lat.get(direct.name)!, 0.5);
  const p50Sidecar = pct(lat.get(sidecar.name)!, 0.5);
  const added = p50Sidecar - p50Direct;
  const through = rps.get(sidecar.name)!;
  process.stdout.write(`p50 added by the sidecar: ${added.toFixed(3)} ms (${(p50Sidecar / p50Direct).toFixed(2)}x the direct p50): ${added < 1 ? 'under' : 'NOT under'} the 1 ms target\n`);
  process.stdout.write(`throughput through the sidecar: ${through.toFixed(0)} req/s (${(through / rps.get(direct.name)!).toFixed(2)}x direct): ${through >= 3_000 ? 'at least' : 'NOT at least'} the 3,000 req/s target\n`);
} finally {
  await pod.close();
  echo.kill('SIGTERM');
  rmSync(podDir, { recursive: true, force: true });
}
