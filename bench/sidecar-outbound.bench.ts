/**
 * What the reference sidecar costs on the full in-mesh path: the client's app → its own sidecar
 * (plaintext, keep-alive, Host header) → mutual TLS → the server's sidecar (RBAC) → the echo app.
 * Requests/s with CONCURRENCY connections for DURATION_MS, latency with one request in flight,
 * and the resident memory (VmRSS) of each sidecar process, sampled every 100 ms under load, next to
 * that of a bare Node process of the same binary (the floor of any sidecar written for Node).
 *
 * Four processes on this machine: the echo app, the server sidecar, the client sidecar (both
 * running the same esbuild bundle the sidecar image carries, rendered by the reference render
 * from a STRICT policy and the seed's AuthorizationPolicy, no DestinationRule: Istio's unlimited
 * circuit breakers, keep-alive without a request limit), and this load generator (undici pools).
 * Running main.ts instead (BENCH_SIDECAR=source) adds Node's TypeScript stripper to each
 * sidecar's memory, which the image does not carry.
 * Run: sh scripts/node.sh bench/sidecar-outbound.bench.ts   (figures are printed, never asserted)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { SIDECAR_CERT_DIR } from '../harness/dataplane/types.ts';
import { renderSidecarConfig, SIDECAR_CONFIG_FILE } from '../harness/dataplane/reference/render.ts';
import { freePorts, LocalPod, waitForReadyLine } from '../harness/dataplane/reference/testing/local-pod.ts';
import { policiesFromYaml } from '../harness/model/load-policies.ts';
import { resolveMesh } from '../harness/model/resolve.ts';
import { topologyFromYaml } from '../harness/model/topology.ts';
import { MeshCa } from '../harness/pki/mesh-ca.ts';
import { writeWorkloadFiles } from '../harness/pki/workload-files.ts';
import { projectRoot } from '../harness/project-root.ts';
import { bundleEntry } from '../harness/runtime/images/build-context.ts';
import { READY_LINE } from '../harness/runtime/types.ts';
import { rawLoad } from './raw-load.ts';
import { SEED_POLICIES } from '../suites/shared/testing/seed-mesh.ts';
import { CONCURRENCY, DURATION_MS, LATENCY_REQUESTS, WARMUP, pct, sequentialLatency, spawnChild, startEcho } from './sidecar-bench-common.ts';

interface Memory {
  /** VmRSS: every resident page of the process. */
  readonly rss: number;
  /** RssAnon: the process's own memory (heap, stacks, buffers). */
  readonly anon: number;
  /** RssFile: pages of files it maps, mostly the node binary, shared with every node process of the host. */
  readonly file: number;
  /** Pss: resident memory with each shared page divided among the processes sharing it. */
  readonly pss: number;
}

/** Memory of a process now, in MB (Linux /proc). */
function memoryMb(pid: number): Memory {
  const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN) / 1024;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rss: field(status, 'VmRSS'), anon: field(status, 'RssAnon'), file: field(status, 'RssFile'), pss: field(rollup, 'Pss') };
}

function maxMemory(a: Memory, b: Memory): Memory {
  return { rss: Math.max(a.rss, b.rss), anon: Math.max(a.anon, b.anon), file: Math.max(a.file, b.file), pss: Math.max(a.pss, b.pss) };
}

const showMemory = (m: Memory): string => `VmRSS ${m.rss.toFixed(1)} (anon ${m.anon.toFixed(1)} + file ${m.file.toFixed(1)}), PSS ${m.pss.toFixed(1)}`;

const [echoPort, serverPort, outboundBase] = (await freePorts(3)) as [number, number, number];
const bundleDir = mkdtempSync(join(tmpdir(), 'meshproof-bench-bundle-'));
const SIDECAR_SCRIPT =
  process.env['BENCH_SIDECAR'] === 'source'
    ? join(projectRoot, 'harness/dataplane/reference/sidecar/main.ts')
    : join(bundleDir, 'sidecar.mjs');
if (process.env['BENCH_SIDECAR'] !== 'source') writeFileSync(SIDECAR_SCRIPT, await bundleEntry(join(projectRoot, 'harness/dataplane/reference/sidecar/main.ts')));
const echoDir = mkdtempSync(join(tmpdir(), 'meshproof-bench-echo-'));
const echo = await startEcho(echoPort, echoDir, 'payment-service-0.prod-namespace');

const TOPOLOGY = `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod-namespace]
workloads:
- {name: payment-service, namespace: prod-namespace, serviceAccount: payment-service-sa, labels: {app: payment-service}, ports: [{port: ${serverPort}, protocol: http}]}
services:
- {name: payment-service, namespace: prod-namespace, selector: {app: payment-service}, ports: [{port: 80, targetPort: ${serverPort}}]}
clients:
- {name: order-client, namespace: prod-namespace, serviceAccount: order-service-sa}
`;

const ca = await MeshCa.create();
const server = await LocalPod.start({ ca, appPort: echoPort, sidecar: 'child-process', sidecarScript: SIDECAR_SCRIPT, workload: 'prod-namespace/payment-service', topologyYaml: TOPOLOGY, policiesYaml: SEED_POLICIES });

// The client sidecar: rendered for order-client, its endpoint the server sidecar on loopback.
const clientDir = mkdtempSync(join(tmpdir(), 'meshproof-bench-client-'));
const mesh = resolveMesh(policiesFromYaml(SEED_POLICIES), topologyFromYaml(TOPOLOGY));
await writeWorkloadFiles(join(clientDir, SIDECAR_CERT_DIR), await ca.issue({ namespace: 'prod-namespace', serviceAccount: 'order-service-sa' }));
const config = renderSidecarConfig(mesh, { kind: 'client', client: mesh.clients[0]!, pod: 'order-client.prod-namespace' }, {
  generation: 1,
  appPort: 1,
  adminPort: null,
  accessLogStdout: false,
  outboundBindAddress: '127.0.0.1',
  outboundBasePort: outboundBase,
  endpointAddress: (_w, _replica, port) => ({ address: '127.0.0.1', port }),
});
await writeFile(join(clientDir, SIDECAR_CONFIG_FILE), JSON.stringify(config, null, 2));
const outboundPort = config.outbound!.listeners.find((l) => l.protocol === 'http' && l.servicePort === 80)!.port;
const clientSidecar = spawnChild([SIDECAR_SCRIPT], { ...process.env, SIDECAR_CONFIG: join(clientDir, SIDECAR_CONFIG_FILE) }, 'pipe');
await waitForReadyLine(clientSidecar, 'client sidecar');
const serverPid = server.sidecarPid;
if (serverPid === undefined) throw new Error('the server sidecar runs in this process, not as a child: no memory of its own to read');

interface Target {
  readonly name: string;
  readonly port: number;
  readonly pool: (connections: number) => Pool;
  readonly host?: string;
}

const direct: Target = { name: 'echo app directly (plaintext)', port: echoPort, pool: (connections) => new Pool(`http://127.0.0.1:${echoPort}`, { connections, pipelining: 1 }) };
const twoHops: Target = {
  name: 'app → client sidecar → mTLS → server sidecar → app',
  port: outboundPort,
  pool: (connections) => new Pool(`http://127.0.0.1:${outboundPort}`, { connections, pipelining: 1 }),
  host: 'payment-service:80',
};

async function once(pool: Pool, target: Target): Promise<void> {
  const r = await pool.request({ method: 'POST', path: '/pay/1', headers: target.host === undefined ? {} : { host: target.host } });
  await r.body.text();
  if (r.statusCode !== 200) throw new Error(`${target.name}: status ${r.statusCode}`);
}

async function latency(target: Target): Promise<number[]> {
  return sequentialLatency(target.pool(1), (pool) => once(pool, target));
}

/** Requests/s from the lean raw-socket generator (raw-load.ts), sampling memory meanwhile. */
async function throughput(target: Target, sample: () => void): Promise<number> {
  const timer = setInterval(sample, 100);
  try {
    const request = `POST /pay/1 HTTP/1.1\r\nhost: ${target.host ?? `127.0.0.1:${target.port}`}\r\ncontent-length: 0\r\n\r\n`;
    await rawLoad(target.port, request, CONCURRENCY, 1_000); // warm-up
    const result = await rawLoad(target.port, request, CONCURRENCY, DURATION_MS);
    if (result.errors > 0) throw new Error(`${target.name}: ${result.errors} of ${result.requests} responses were not 2xx`);
    return result.requestsPerSecond;
  } finally {
    clearInterval(timer);
  }
}

/**
 * The runtime's own floor: a Node process of the same binary that runs no code, idle. Its file
 * pages are the part of the node binary that any Node process maps; a sidecar written for Node
 * cannot be smaller than this.
 */
async function runtimeFloor(): Promise<Memory> {
  const bare = spawnChild(['-e', `process.stdout.write(${JSON.stringify(`${READY_LINE}\n`)}); setInterval(() => {}, 60_000)`]);
  try {
    await waitForReadyLine(bare, 'bare node');
    await new Promise((r) => setTimeout(r, 500));
    return memoryMb(bare.pid!);
  } finally {
    bare.kill('SIGKILL');
  }
}

try {
  const idle = { client: memoryMb(clientSidecar.pid!), server: memoryMb(serverPid) };
  const peak = { ...idle };
  const sample = (): void => {
    peak.client = maxMemory(peak.client, memoryMb(clientSidecar.pid!));
    peak.server = maxMemory(peak.server, memoryMb(serverPid));
  };
  process.stdout.write(`meshproof sidecar-outbound bench: Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}\n`);
  process.stdout.write(`sidecars run ${SIDECAR_SCRIPT.endsWith('.mjs') ? 'the image bundle (sidecar.mjs)' : 'main.ts (TypeScript stripped at load)'}\n`);
  process.stdout.write(`latency: ${LATENCY_REQUESTS} sequential POST /pay/1 on one keep-alive connection after ${WARMUP} warm-up; throughput: ${CONCURRENCY} keep-alive connections of the raw-socket generator (bench/raw-load.ts) for ${DURATION_MS} ms\n`);
  let through = 0;
  for (const target of [direct, twoHops]) {
    const samples = await latency(target);
    const rps = await throughput(target, sample);
    if (target === twoHops) through = rps;
    process.stdout.write(`  ${target.name.padEnd(52)} p50 ${pct(samples, 0.5).toFixed(3)} ms  p90 ${pct(samples, 0.9).toFixed(3)} ms  p99 ${pct(samples, 0.99).toFixed(3)} ms  ${rps.toFixed(0)} req/s\n`);
  }
  process.stdout.write(`through both sidecars: ${through.toFixed(0)} req/s: ${through >= 2_000 ? 'at least' : 'NOT at least'} the 2,000 req/s target\n`);
  process.stdout.write(`memory in MB (peaks are of each figure on its own, sampled every 100 ms under load):\n`);
  for (const side of ['client', 'server'] as const) {
    process.stdout.write(`  ${side} sidecar  idle: ${showMemory(idle[side])}\n                  peak: ${showMemory(peak[side])}\n`);
  }
  const floor = await runtimeFloor();
  process.stdout.write(`  bare Node ${process.version}, no code (the runtime's floor): ${showMemory(floor)}\n`);
  const worst = Math.max(peak.client.rss, peak.server.rss);
  process.stdout.write(`peak VmRSS ${worst.toFixed(1)} MB: ${worst < 80 ? 'under' : 'NOT under'} the 80 MB target\n`);
} finally {
  clientSidecar.kill('SIGTERM');
  await server.close();
  echo.kill('SIGTERM');
  rmSync(echoDir, { recursive: true, force: true });
  rmSync(clientDir, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
}
