/**
 * The in-mesh path the sidecar benches measure, on this machine without containers: the client's
 * app → its own sidecar (plaintext, keep-alive, Host header) → mutual TLS → the server's sidecar
 * (STRICT, the seed's AuthorizationPolicy) → the echo app, with either data plane as both sidecars,
 * each rendered from the same istiod-style translation the pods get. Memory is read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoySidecarArgs, ENVOY_READY_LINE } from '../harness/dataplane/envoy/envoy-adapter.ts';
import { writeEnvoyConfig } from '../harness/dataplane/envoy/bootstrap-files.ts';
import { renderEnvoyConfig } from '../harness/dataplane/envoy/envoy-config.ts';
import { translateProxy } from '../harness/dataplane/istiod/proxy-config.ts';
import { outboundPorts } from '../harness/dataplane/outbound-ports.ts';
import { renderSidecarConfig, SIDECAR_CONFIG_FILE } from '../harness/dataplane/reference/render.ts';
import { LocalPod, waitForReadyLine } from '../harness/dataplane/reference/testing/local-pod.ts';
import { SIDECAR_CERT_DIR } from '../harness/dataplane/types.ts';
import { policiesFromYaml } from '../harness/model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../harness/model/resolve.ts';
import { topologyFromYaml } from '../harness/model/topology.ts';
import type { MeshCa } from '../harness/pki/mesh-ca.ts';
import { writeWorkloadFiles } from '../harness/pki/workload-files.ts';
import { projectRoot } from '../harness/project-root.ts';
import { bundleEntry } from '../harness/runtime/images/build-context.ts';
import { SEED_POLICIES } from '../suites/shared/testing/seed-mesh.ts';
import { spawnChild } from './sidecar-bench-common.ts';

export interface Memory {
  /** VmRSS: every resident page of the process. */
  readonly rss: number;
  /** RssAnon: the process's own memory (heap, stacks, buffers). */
  readonly anon: number;
  /** RssFile: pages of files it maps, mostly its binary, shared with every process of the same binary. */
  readonly file: number;
  /** Pss: resident memory with each shared page divided among the processes sharing it. */
  readonly pss: number;
}

/** Memory of a process now, in MB (Linux /proc). */
export function memoryMb(pid: number): Memory {
  const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN) / 1024;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rss: field(status, 'VmRSS'), anon: field(status, 'RssAnon'), file: field(status, 'RssFile'), pss: field(rollup, 'Pss') };
}

export function maxMemory(a: Memory, b: Memory): Memory {
  return { rss: Math.max(a.rss, b.rss), anon: Math.max(a.anon, b.anon), file: Math.max(a.file, b.file), pss: Math.max(a.pss, b.pss) };
}

export const showMemory = (m: Memory): string => `VmRSS ${m.rss.toFixed(1)} (anon ${m.anon.toFixed(1)} + file ${m.file.toFixed(1)}), PSS ${m.pss.toFixed(1)}`;

export function benchTopology(serverPort: number): string {
  return `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod-namespace]
workloads:
- {name: payment-service, namespace: prod-namespace, serviceAccount: payment-service-sa, labels: {app: payment-service}, ports: [{port: ${serverPort}, protocol: http}]}
services:
- {name: payment-service, namespace: prod-namespace, selector: {app: payment-service}, ports: [{port: 80, targetPort: ${serverPort}}]}
clients:
- {name: order-client, namespace: prod-namespace, serviceAccount: order-service-sa}
`;
}

/** Two sidecars of one data plane, running; `close()` stops them and removes their folders. */
export interface TwoHops {
  readonly dataPlane: string;
  /** The client sidecar's outbound listener for payment-service:80 (send `host: payment-service:80`). */
  readonly outboundPort: number;
  readonly pids: { readonly client: number; readonly server: number };
  close(): Promise<void>;
}

/** The reference sidecar as both sidecars: the esbuild bundle its image carries (or main.ts with BENCH_SIDECAR=source). */
export async function referenceTwoHops(ca: MeshCa, ports: { readonly echo: number; readonly server: number; readonly outboundBase: number }): Promise<TwoHops> {
  const bundleDir = mkdtempSync(join(tmpdir(), 'meshproof-bench-bundle-'));
  const script = process.env['BENCH_SIDECAR'] === 'source' ? join(projectRoot, 'harness/dataplane/reference/sidecar/main.ts') : join(bundleDir, 'sidecar.mjs');
  if (process.env['BENCH_SIDECAR'] !== 'source') writeFileSync(script, await bundleEntry(join(projectRoot, 'harness/dataplane/reference/sidecar/main.ts')));
  const topology = benchTopology(ports.server);
  const server = await LocalPod.start({ ca, appPort: ports.echo, sidecar: 'child-process', sidecarScript: script, workload: 'prod-namespace/payment-service', topologyYaml: topology, policiesYaml: SEED_POLICIES });
  const clientDir = mkdtempSync(join(tmpdir(), 'meshproof-bench-client-'));
  const mesh = resolveMesh(policiesFromYaml(SEED_POLICIES), topologyFromYaml(topology));
  await writeWorkloadFiles(join(clientDir, SIDECAR_CERT_DIR), await ca.issue({ namespace: 'prod-namespace', serviceAccount: 'order-service-sa' }));
  const config = renderSidecarConfig(mesh, { kind: 'client', client: mesh.clients[0]!, pod: 'order-client.prod-namespace' }, {
    generation: 1,
    appPort: 1,
    adminPort: null,
    accessLogStdout: false,
    outboundBindAddress: '127.0.0.1',
    outboundBasePort: ports.outboundBase,
    endpointAddress: (_w, _replica, port) => ({ address: '127.0.0.1', port }),
  });
  await writeFile(join(clientDir, SIDECAR_CONFIG_FILE), JSON.stringify(config, null, 2));
  const outboundPort = config.outbound!.listeners.find((l) => l.protocol === 'http' && l.servicePort === 80)!.port;
  const client = spawnChild([script], { ...process.env, SIDECAR_CONFIG: join(clientDir, SIDECAR_CONFIG_FILE) }, 'pipe');
  await waitForReadyLine(client, 'client sidecar');
  const serverPid = server.sidecarPid;
  if (serverPid === undefined) throw new Error('the server sidecar runs in this process, not as a child: no memory of its own to read');
  return {
    dataPlane: `reference sidecar (${script.endsWith('.mjs') ? 'the image bundle' : 'main.ts'})`,
    outboundPort,
    pids: { client: client.pid!, server: serverPid },
    close: async () => {
      client.kill('SIGTERM');
      await server.close();
      rmSync(clientDir, { recursive: true, force: true });
      rmSync(bundleDir, { recursive: true, force: true });
    },
  };
}

function startEnvoy(binary: string, bootstrap: string, name: string): Promise<ChildProcess> {
  const child = spawn(binary, envoySidecarArgs(bootstrap), { stdio: ['ignore', 'ignore', 'pipe'] });
  process.once('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${name}: no '${ENVOY_READY_LINE}' within 20 s:\n${output.slice(-2000)}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ENVOY_READY_LINE)) {
        clearTimeout(timer);
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${output.slice(-2000)}`)));
  });
}

/**
 * Upstream Envoy as both sidecars, as the pods run it (two workers, the translation's listeners,
 * clusters, RBAC and TLS, certificate files), with no access log: istiod's default
 * (meshConfig.accessLogFile empty); the pods add one for the harness to read.
 */
export async function envoyTwoHops(binary: string, ca: MeshCa, ports: { readonly echo: number; readonly server: number; readonly outboundBase: number }): Promise<TwoHops> {
  const mesh: ResolvedMesh = resolveMesh(policiesFromYaml(SEED_POLICIES), topologyFromYaml(benchTopology(ports.server)));
  const dir = mkdtempSync(join(tmpdir(), 'meshproof-bench-envoy-'));
  const side = async (name: string, identity: { namespace: string; serviceAccount: string }, proxy: ReturnType<typeof translateProxy>): Promise<ChildProcess> => {
    const podDir = join(dir, name);
    const certDir = join(podDir, 'certs');
    await writeWorkloadFiles(certDir, await ca.issue(identity));
    const config = renderEnvoyConfig(proxy, { appPort: ports.echo, certDir, certificates: 'files', xds: 'static', configDir: join(podDir, 'envoy'), adminSocket: join(podDir, 'admin.sock'), accessLog: null });
    const written = await writeEnvoyConfig(join(podDir, 'envoy'), config);
    if (written.problems.length > 0) throw new Error(`${name}: ${written.problems.map((p) => p.message).join('; ')}`);
    return startEnvoy(binary, join(podDir, 'envoy', 'envoy.yaml'), `${name} Envoy`);
  };
  const workload = mesh.workloads[0]!;
  const serverProxy = translateProxy(mesh, { kind: 'workload', workload, pod: 'payment-service-0.prod-namespace' }, { generation: 1, taken: new Set([ports.echo]) });
  const clientProxy = translateProxy(mesh, { kind: 'client', client: mesh.clients[0]!, pod: 'order-client.prod-namespace' }, {
    generation: 1,
    basePort: ports.outboundBase,
    bindAddress: '127.0.0.1',
    taken: new Set([ports.echo, ports.server]),
    endpointAddress: (_w, _replica, port) => ({ address: '127.0.0.1', port }),
  });
  const outboundPort = outboundPorts(clientProxy.outbound!).http.get(80);
  if (outboundPort === undefined) throw new Error('the client Envoy has no outbound listener for payment-service:80');
  const server = await side('server', { namespace: 'prod-namespace', serviceAccount: 'payment-service-sa' }, serverProxy);
  const client = await side('client', { namespace: 'prod-namespace', serviceAccount: 'order-service-sa' }, clientProxy);
  return {
    dataPlane: 'Envoy',
    outboundPort,
    pids: { client: client.pid!, server: server.pid! },
    close: async () => {
      client.kill('SIGTERM');
      server.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
