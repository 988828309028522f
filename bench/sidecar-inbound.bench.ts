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
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePorts, LocalPod } from '../harness/dataplane/reference/testing/local-pod.ts';
import { MeshCa } from '../harness/pki/mesh-ca.ts';
import { projectRoot } from '../harness/project-root.ts';
import { READY_LINE } from '../harness/runtime/types.ts';
import { SEED_POLICIES } from '../suites/shared/testing/seed-mesh.ts';

const LATENCY_REQUESTS = 3_000;
const WARMUP = 500;
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 5_000);

const [echoPort, sidecarPort] = (await freePorts(2)) as [number, number];
const podDir = mkdtempSync(join(tmpdir(), 'meshproof-bench-echo-'));
const echo = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(projectRoot, 'harness/apps/echo/main.ts')], {
  env: { ...process.env, ECHO_PORT: String(echoPort), POD_DIR: podDir, POD_NAME: 'payment-service-0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  echo.stdout!.on('data', (chunk: Buffer) => (chunk.toString().includes(READY_LINE) ? resolve() : undefined));
  echo.once('exit', (code) => reject(new Error(`echo exited with ${code}`)));
});

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
  const pool = target.pool(1);
  try {
    for (let i = 0; i < WARMUP; i++) await once(pool);
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_REQUESTS; i++) {
      const t = performance.now();
      await once(pool);
      samples.push(performance.now() - t);
    }
    return samples.sort((a, b) => a - b);
  } finally {
    await pool.destroy();
  }
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

const pct = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

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
