/**
 * Envoy against the reference sidecar on the same in-mesh path (two-hop-setups.ts): the client's
 * app → its sidecar → mutual TLS → the server's sidecar (STRICT + the seed's RBAC) → the echo app.
 * For each data plane in turn, with nothing else of the bench running: latency with one request
 * in flight (and p50 added over the app alone), requests/s with CONCURRENCY keep-alive connections
 * of the raw-socket generator (which shares the 2 cores), and each sidecar's memory sampled every
 * 100 ms under that load. Envoy's figures are printed with the reference sidecar's beside them, as
 * ratios. Targets (the Envoy issue): at least 5,000 req/s, under 0.5 ms added at p50, each Envoy
 * under 60 MB resident at peak.
 * Run: sh scripts/node.sh bench/two-hops.bench.ts   (figures are printed, never asserted)
 */
import { cpus } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { checkEnvoyAvailability } from '../harness/dataplane/envoy/availability.ts';
import { freePorts } from '../harness/dataplane/reference/testing/local-pod.ts';
import { MeshCa } from '../harness/pki/mesh-ca.ts';
import { rawLoad } from './raw-load.ts';
import { CONCURRENCY, DURATION_MS, LATENCY_REQUESTS, WARMUP, pct, sequentialLatency, startEcho } from './sidecar-bench-common.ts';
import { envoyTwoHops, maxMemory, memoryMb, referenceTwoHops, showMemory, type Memory, type TwoHops } from './two-hop-setups.ts';

interface Figures {
  readonly name: string;
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
  readonly peak?: { readonly client: Memory; readonly server: Memory };
  readonly idle?: { readonly client: Memory; readonly server: Memory };
}

async function once(pool: Pool, host: string | undefined): Promise<void> {
  const r = await pool.request({ method: 'POST', path: '/pay/1', headers: host === undefined ? {} : { host } });
  await r.body.text();
  if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
}

async function measure(name: string, port: number, host: string | undefined, pids?: TwoHops['pids']): Promise<Figures> {
  const samples = await sequentialLatency(new Pool(`http://127.0.0.1:${port}`, { connections: 1, pipelining: 1 }), (pool) => once(pool, host));
  const idle = pids === undefined ? undefined : { client: memoryMb(pids.client), server: memoryMb(pids.server) };
  const peak = idle === undefined ? undefined : { ...idle };
  const timer = setInterval(() => {
    if (pids === undefined || peak === undefined) return;
    peak.client = maxMemory(peak.client, memoryMb(pids.client));
    peak.server = maxMemory(peak.server, memoryMb(pids.server));
  }, 100);
  try {
    const request = `POST /pay/1 HTTP/1.1\r\nhost: ${host ?? `127.0.0.1:${port}`}\r\ncontent-length: 0\r\n\r\n`;
    await rawLoad(port, request, CONCURRENCY, 1_000);
    const result = await rawLoad(port, request, CONCURRENCY, DURATION_MS);
    if (result.errors > 0) throw new Error(`${name}: ${result.errors} of ${result.requests} responses were not 2xx`);
    return { name, p50: pct(samples, 0.5), p99: pct(samples, 0.99), rps: result.requestsPerSecond, ...(peak === undefined ? {} : { peak, idle }) };
  } finally {
    clearInterval(timer);
  }
}

const availability = await checkEnvoyAvailability({});
const envoyBinary = availability.source?.kind === 'binary' ? availability.source.path : undefined;
const [echoPort, refServer, refOutbound, envoyServer, envoyOutbound] = (await freePorts(5)) as [number, number, number, number, number];
const echoDir = mkdtempSync(join(tmpdir(), 'meshproof-bench-echo-'));
const echo = await startEcho(echoPort, echoDir, 'payment-service-0.prod-namespace');
const ca = await MeshCa.create();
process.stdout.write(`meshproof two-hops bench: Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}\n`);
process.stdout.write(`latency: ${LATENCY_REQUESTS} sequential POST /pay/1 on one keep-alive connection after ${WARMUP} warm-up; throughput: ${CONCURRENCY} keep-alive connections of bench/raw-load.ts for ${DURATION_MS} ms\n`);
try {
  const direct = await measure('echo app directly (plaintext)', echoPort, undefined);
  const rows: Figures[] = [direct];
  const run = async (start: () => Promise<TwoHops>): Promise<Figures> => {
    const hops = await start();
    try {
      return await measure(`${hops.dataPlane}: app → sidecar → mTLS → sidecar → app`, hops.outboundPort, 'payment-service:80', hops.pids);
    } finally {
      await hops.close();
    }
  };
  const reference = await run(() => referenceTwoHops(ca, { echo: echoPort, server: refServer, outboundBase: refOutbound }));
  rows.push(reference);
  let envoy: Figures | undefined;
  if (envoyBinary === undefined) process.stdout.write(`Envoy: not measured (${availability.reason ?? 'no local Envoy binary'})\n`);
  else {
    envoy = await run(() => envoyTwoHops(envoyBinary, ca, { echo: echoPort, server: envoyServer, outboundBase: envoyOutbound }));
    rows.push(envoy);
  }
  for (const r of rows) process.stdout.write(`  ${r.name.padEnd(72)} p50 ${r.p50.toFixed(3)} ms (+${(r.p50 - direct.p50).toFixed(3)})  p99 ${r.p99.toFixed(3)} ms  ${r.rps.toFixed(0)} req/s\n`);
  process.stdout.write('memory in MB (peaks of each figure on its own, sampled every 100 ms under load):\n');
  for (const r of rows) {
    if (r.peak === undefined || r.idle === undefined) continue;
    for (const side of ['client', 'server'] as const) process.stdout.write(`  ${r.name.split(':')[0]!.padEnd(40)} ${side}  idle ${showMemory(r.idle[side])}\n${' '.repeat(50)}peak ${showMemory(r.peak[side])}\n`);
  }
  if (envoy?.peak !== undefined && reference.peak !== undefined) {
    const envoyPeak = Math.max(envoy.peak.client.rss, envoy.peak.server.rss);
    const refPeak = Math.max(reference.peak.client.rss, reference.peak.server.rss);
    process.stdout.write(`Envoy / reference: ${(envoy.rps / reference.rps).toFixed(2)}× the requests/s, ${((envoy.p50 - direct.p50) / (reference.p50 - direct.p50)).toFixed(2)}× the added p50, ${(envoyPeak / refPeak).toFixed(2)}× the peak VmRSS\n`);
    process.stdout.write(`Envoy targets: ${envoy.rps.toFixed(0)} req/s (${envoy.rps >= 5_000 ? 'at least' : 'NOT at least'} 5,000); +${(envoy.p50 - direct.p50).toFixed(3)} ms p50 (${envoy.p50 - direct.p50 < 0.5 ? 'under' : 'NOT under'} 0.5 ms); peak VmRSS ${envoyPeak.toFixed(1)} MB (${envoyPeak < 60 ? 'under' : 'NOT under'} 60 MB)\n`);
  }
} finally {
  echo.kill('SIGTERM');
  rmSync(echoDir, { recursive: true, force: true });
}
