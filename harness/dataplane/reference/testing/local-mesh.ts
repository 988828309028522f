/**
 * A small mesh without containers, for the outbound side's tests: every workload replica is an
 * echo app plus a reference sidecar on a loopback address of its own (127.77.<w>.<r>, at the
 * workload's ports), and one in-mesh client is a reference sidecar whose outbound listeners the
 * test calls as the client's app would (plaintext, Host header). Every sidecar runs in this
 * process and is rendered by the same render a container gets; certificates come from a MeshCa.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { EchoServer } from '../../../apps/echo/echo-server.ts';
import { policiesFromYaml } from '../../../model/load-policies.ts';
import { resolveMesh, type ResolvedMesh, type ResolvedWorkload } from '../../../model/resolve.ts';
import { topologyFromYaml } from '../../../model/topology.ts';
import type { MeshCa } from '../../../pki/mesh-ca.ts';
import { writeWorkloadFiles } from '../../../pki/workload-files.ts';
import type { AccessLogEntry } from '../../../traffic/types.ts';
import { SIDECAR_CERT_DIR, type ProxyTarget } from '../../types.ts';
import { unixGet } from '../../unix-http.ts';
import type { OutboundConfig } from '../../istiod/outbound-config.ts';
import { RESPONSE_FLAGS_HEADER } from '../../types.ts';
import { ACCESS_LOG_FILE, ADMIN_SOCKET, SIDECAR_CONFIG_FILE, renderSidecarConfig } from '../render.ts';
import { podName } from '../../istiod/translate-outbound.ts';
import { Sidecar } from '../sidecar/sidecar.ts';
import { privateLoopback } from './local-pod.ts';

export interface LocalMeshOptions {
  readonly ca: MeshCa;
  readonly topologyYaml: string;
  readonly policiesYaml: string;
  /** `namespace/name` of the in-mesh client whose sidecar the test calls through. */
  readonly client: string;
  readonly timeScale?: number;
  readonly seed?: number;
  /** Pod name → address its endpoints use instead (DNS spoofing), for the client's sidecar. */
  readonly endpointOverrides?: ReadonlyMap<string, string>;
}

export interface LocalReplica {
  readonly pod: string;
  readonly address: string;
  readonly echo: EchoServer;
  readonly sidecar: Sidecar;
  readonly dir: string;
}

export interface LocalResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The echo pod that answered (its report, or the x-meshproof-pod header of a failing answer). */
  readonly servedBy?: string;
  readonly flags: string;
  readonly durationMs: number;
}

export class LocalMesh {
  readonly replicas: readonly LocalReplica[];
  readonly clientDir: string;
  readonly client: Sidecar;
  readonly #options: LocalMeshOptions;
  readonly #addresses: ReadonlyMap<string, string>;
  readonly #outboundAddress: string;
  #generation = 1;
  readonly #http = new Map<number, Client>();

  private constructor(options: LocalMeshOptions, replicas: LocalReplica[], clientDir: string, client: Sidecar, addresses: Map<string, string>, outboundAddress: string) {
    this.#options = options;
    this.replicas = replicas;
    this.clientDir = clientDir;
    this.client = client;
    this.#addresses = addresses;
    this.#outboundAddress = outboundAddress;
  }

  static async start(options: LocalMeshOptions): Promise<LocalMesh> {
    const mesh = resolveMesh(policiesFromYaml(options.policiesYaml), topologyFromYaml(options.topologyYaml));
    const addresses = new Map<string, string>();
    mesh.workloads.forEach((w, wi) => {
      for (let r = 0; r < w.replicas; r++) addresses.set(podName(w, r), `127.77.${wi + 1}.${r + 1}`);
    });
    const replicas: LocalReplica[] = [];
    const started: Sidecar[] = [];
    try {
      for (const w of mesh.workloads) {
        for (let r = 0; r < w.replicas; r++) {
          const pod = podName(w, r);
          const dir = mkdtempSync(join(tmpdir(), 'meshproof-local-mesh-'));
          await writeWorkloadFiles(join(dir, SIDECAR_CERT_DIR), await options.ca.issue({ namespace: w.namespace, serviceAccount: w.serviceAccount }));
          const echo = new EchoServer({ pod, host: '127.0.0.1', port: 0, seed: options.seed ?? 1 });
          await echo.listen();
          await writeConfig(dir, mesh, { kind: 'workload', workload: w, pod }, { appPort: echo.port(), bindAddress: addresses.get(pod)!, outboundBindAddress: privateLoopback(), addresses, generation: 1, options });
          const sidecar = await Sidecar.start({ configPath: join(dir, SIDECAR_CONFIG_FILE), pollMs: 200, diagnostics: () => undefined });
          started.push(sidecar);
          replicas.push({ pod, address: addresses.get(pod)!, echo, sidecar, dir });
        }
      }
      const c = mesh.clients.find((x) => x.key === options.client);
      if (c === undefined) throw new Error(`no client ${options.client} in the topology`);
      const clientDir = mkdtempSync(join(tmpdir(), 'meshproof-local-client-'));
      await writeWorkloadFiles(join(clientDir, SIDECAR_CERT_DIR), await options.ca.issue({ namespace: c.client.namespace, serviceAccount: c.client.serviceAccount! }));
      const outboundAddress = privateLoopback();
      await writeConfig(clientDir, mesh, { kind: 'client', client: c, pod: `${c.client.name}.${c.client.namespace}` }, { appPort: 1, bindAddress: '127.0.0.1', outboundBindAddress: outboundAddress, addresses, generation: 1, options });
      const client = await Sidecar.start({ configPath: join(clientDir, SIDECAR_CONFIG_FILE), pollMs: 200, diagnostics: () => undefined });
      return new LocalMesh(options, replicas, clientDir, client, addresses, outboundAddress);
    } catch (error) {
      await Promise.allSettled(started.map((s) => s.close()));
      await Promise.allSettled(replicas.map((r) => r.echo.close()));
      throw error;
    }
  }

  replica(pod: string): LocalReplica {
    const r = this.replicas.find((x) => x.pod === pod);
    if (r === undefined) throw new Error(`no replica ${pod}`);
    return r;
  }

  /** The client's outbound config in force. */
  get outbound(): OutboundConfig {
    return (this.client.configDump() as { config: { outbound: OutboundConfig } }).config.outbound;
  }

  /** The address a replica (or its impostor) listens on. */
  address(pod: string): string {
    const a = this.#addresses.get(pod);
    if (a === undefined) throw new Error(`no pod ${pod}`);
    return a;
  }

  /** The client's local HTTP listener for a port number (a service port, or a workload port for one pod). */
  httpPort(servicePort: number): number {
    const l = this.outbound.listeners.find((x) => x.protocol === 'http' && x.servicePort === servicePort);
    if (l === undefined) throw new Error(`the client has no HTTP listener for port ${servicePort}`);
    return l.port;
  }

  get outboundAddress(): string {
    return this.#outboundAddress;
  }

  /** One request from the client's app through its sidecar (a keep-alive connection shared by sequential calls). */
  async request(authority: string, path = '/', options: { method?: string; headers?: Record<string, string>; body?: string; servicePort?: number } = {}): Promise<LocalResponse> {
    const port = this.httpPort(options.servicePort ?? (Number(authority.split(':')[1] ?? 80) || 80));
    let client = this.#http.get(port);
    if (client === undefined) {
      client = new Client(`http://${this.#outboundAddress}:${port}`, { pipelining: 1 });
      this.#http.set(port, client);
    }
    return send(client, authority, path, options);
  }

  /** Many requests with `concurrency` in flight, each on its own connection pool slot. */
  async load(authority: string, count: number, concurrency: number, path = '/', servicePort = 80): Promise<LocalResponse[]> {
    const port = this.httpPort(servicePort);
    const clients = Array.from({ length: concurrency }, () => new Client(`http://${this.#outboundAddress}:${port}`, { pipelining: 1 }));
    const out: LocalResponse[] = new Array(count);
    let next = 0;
    try {
      await Promise.all(
        clients.map(async (client) => {
          for (;;) {
            const i = next++;
            if (i >= count) return;
            out[i] = await send(client, authority, path, {});
          }
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.destroy()));
    }
    return out;
  }

  async admin(path: string): Promise<string> {
    return (await unixGet(join(this.clientDir, ADMIN_SOCKET), path, 5_000)).body;
  }

  async accessLog(): Promise<AccessLogEntry[]> {
    const text = await readFile(join(this.clientDir, ACCESS_LOG_FILE), 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AccessLogEntry);
  }

  /** New policies for the client's sidecar (the next generation); resolves once it enforces them. */
  async apply(policiesYaml: string, change: { readonly endpointOverrides?: ReadonlyMap<string, string>; readonly seed?: number } = {}): Promise<void> {
    this.#generation += 1;
    const o = this.#options;
    const mesh = resolveMesh(policiesFromYaml(policiesYaml), topologyFromYaml(o.topologyYaml));
    const c = mesh.clients.find((x) => x.key === o.client)!;
    await writeConfig(this.clientDir, mesh, { kind: 'client', client: c, pod: `${c.client.name}.${c.client.namespace}` }, {
      appPort: 1,
      bindAddress: '127.0.0.1',
      outboundBindAddress: this.#outboundAddress,
      addresses: this.#addresses,
      generation: this.#generation,
      options: { ...o, ...change },
    });
    await this.client.reload();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#http.values()].map((c) => c.destroy()));
    await this.client.close();
    await Promise.allSettled(this.replicas.map((r) => r.sidecar.close()));
    await Promise.allSettled(this.replicas.map((r) => r.echo.close()));
    for (const dir of [this.clientDir, ...this.replicas.map((r) => r.dir)]) rmSync(dir, { recursive: true, force: true });
  }
}

async function writeConfig(
  dir: string,
  mesh: ResolvedMesh,
  target: ProxyTarget,
  o: { appPort: number; bindAddress: string; outboundBindAddress: string; addresses: ReadonlyMap<string, string>; generation: number; options: LocalMeshOptions },
): Promise<void> {
  const config = renderSidecarConfig(mesh, target, {
    generation: o.generation,
    appPort: o.appPort,
    bindAddress: o.bindAddress,
    adminPort: null,
    accessLogStdout: false,
    outboundBindAddress: o.outboundBindAddress,
    timeScale: o.options.timeScale ?? 1,
    seed: o.options.seed ?? 1,
    endpointAddress: (w: ResolvedWorkload, replica: number, port: number) => ({ address: o.addresses.get(podName(w, replica))!, port }),
    ...(o.options.endpointOverrides === undefined ? {} : { endpointOverrides: o.options.endpointOverrides }),
  });
  const path = join(dir, SIDECAR_CONFIG_FILE);
  await writeFile(`${path}.tmp`, JSON.stringify(config, null, 2));
  await rename(`${path}.tmp`, path);
}

async function send(client: Client, authority: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<LocalResponse> {
  const started = performance.now();
  const response = await client.request({ method: options.method ?? 'GET', path, headers: { host: authority, ...options.headers }, body: options.body ?? null });
  const body = await response.body.text();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(response.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  let servedBy = headers['x-meshproof-pod'];
  if (headers['x-meshproof-echo'] !== undefined || servedBy === undefined) {
    try {
      servedBy = (JSON.parse(body) as { pod?: string }).pod ?? servedBy;
    } catch {
      // not an echo report
    }
  }
  return { status: response.statusCode, headers, body, ...(servedBy === undefined ? {} : { servedBy }), flags: headers[RESPONSE_FLAGS_HEADER] ?? '', durationMs: performance.now() - started };
}
