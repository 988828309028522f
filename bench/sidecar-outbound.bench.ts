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
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePorts, waitForReadyLine } from '../harness/dataplane/reference/testing/local-pod.ts';
import { MeshCa } from '../harness/pki/mesh-ca.ts';
import { READY_LINE } from '../harness/runtime/types.ts';
import { rawLoad } from './raw-load.ts';
import { CONCURRENCY, DURATION_MS, LATENCY_REQUESTS, WARMUP, pct, sequentialLatency, spawnChild, startEcho } from './sidecar-bench-common.ts';
import { maxMemory, memoryMb, referenceTwoHops, showMemory, type Memory } from './two-hop-setups.ts';

const [echoPort, serverPort, outboundBase] = (await freePorts(3)) as [number, number, number];
const echoDir = mkdtempSync(join(tmpdir(), 'meshproof-bench-echo-'));
const echo = await startEcho(echoPort, echoDir, 'payment-service-0.prod-namespace');
const ca = await MeshCa.create();
const hops = await referenceTwoHops(ca, { echo: echoPort, server: serverPort, outboundBase });
const outboundPort = hops.outboundPort;

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
  const idle = { client: memoryMb(hops.pids.client), server: memoryMb(hops.pids.server) };
  const peak = { ...idle };
  const sample = (): void => {
    peak.client = maxMemory(peak.client, memoryMb(hops.pids.client));
    peak.server = maxMemory(peak.server, memoryMb(hops.pids.server));
  };
  process.stdout.write(`meshproof sidecar-outbound bench: Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}\n`);
  process.stdout.write(`sidecars: ${hops.dataPlane}\n`);
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
  await hops.close();
  echo.kill('SIGTERM');
  rmSync(echoDir, { recursive: true, force: true });
}
