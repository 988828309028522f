/**
 * A reference pod without containers, for unit tests and the benchmark: the echo app and the
 * reference sidecar on 127.0.0.1, with certificates from a MeshCa, configured by the same render
 * a container gets. The sidecar runs in this process (fast to start, easy to inspect) or as a
 * child process (what the benchmark measures, so that it does not share an event loop).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EchoServer } from '../../../apps/echo/echo-server.ts';
import { policiesFromYaml } from '../../../model/load-policies.ts';
import { findWorkload, resolveMesh } from '../../../model/resolve.ts';
import { topologyFromYaml } from '../../../model/topology.ts';
import type { MeshCa } from '../../../pki/mesh-ca.ts';
import { writeWorkloadFiles } from '../../../pki/workload-files.ts';
import type { WorkloadCredentials } from '../../../pki/workload-credentials.ts';
import { projectRoot } from '../../../project-root.ts';
import { READY_LINE } from '../../../runtime/types.ts';
import { SIDECAR_CERT_DIR } from '../../types.ts';
import { unixGet } from '../../unix-http.ts';
import { ACCESS_LOG_FILE, ADMIN_SOCKET, SIDECAR_CONFIG_FILE, renderSidecarConfig } from '../render.ts';
import { Sidecar } from '../sidecar/sidecar.ts';
import { readFile, rename, writeFile } from 'node:fs/promises';

/** Ports nothing listens on right now (bound to 0, read, released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

let nextLoopback = 0;
/** A loopback address of its own (127.66.x.y) for a local pod's outbound listeners, so that pods in one process do not collide. */
export function privateLoopback(): string {
  nextLoopback += 1;
  return `127.66.${Math.floor(nextLoopback / 250) % 250}.${(nextLoopback % 250) + 1}`;
}

export interface LocalPodOptions {
  readonly ca: MeshCa;
  readonly topologyYaml: string;
  readonly policiesYaml: string;
  /** `namespace/name` of the workload this pod runs. */
  readonly workload: string;
  readonly sidecar?: 'in-process' | 'child-process';
  /** Print the access log on the child's stdout (default false). */
  readonly accessLogStdout?: boolean;
  readonly drainTimeoutMs?: number;
  readonly istioAlpnOnPermissive?: boolean;
  /** An app already listening on 127.0.0.1 at this port (the benchmark's echo process); default: an EchoServer here. */
  readonly appPort?: number;
  /** The program a child-process sidecar runs (e.g. the image's bundle); default sidecar/main.ts. */
  readonly sidecarScript?: string;
}

export class LocalPod {
  readonly dir: string;
  readonly #echo: EchoServer | undefined;
  readonly appPort: number;
  readonly credentials: WorkloadCredentials;
  /** Where this pod's outbound listeners bind. */
  readonly outboundAddress = privateLoopback();
  readonly #options: LocalPodOptions;
  #sidecar: Sidecar | undefined;
  #child: ChildProcess | undefined;
  #generation = 1;

  private constructor(options: LocalPodOptions, dir: string, echo: EchoServer | undefined, credentials: WorkloadCredentials) {
    this.#options = options;
    this.dir = dir;
    this.#echo = echo;
    this.appPort = options.appPort ?? echo!.port();
    this.credentials = credentials;
  }

  /** The echo app this pod started (not when it was given an appPort). */
  get echo(): EchoServer {
    if (this.#echo === undefined) throw new Error('this pod forwards to an app it did not start');
    return this.#echo;
  }

  static async start(options: LocalPodOptions): Promise<LocalPod> {
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-local-pod-'));
    const mesh = resolveMesh(policiesFromYaml(options.policiesYaml), topologyFromYaml(options.topologyYaml));
    const w = findWorkload(mesh, options.workload);
    const credentials = await options.ca.issue({ namespace: w.namespace, serviceAccount: w.serviceAccount });
    await writeWorkloadFiles(join(dir, SIDECAR_CERT_DIR), credentials);
    const echo = options.appPort === undefined ? new EchoServer({ pod: `${w.name}-0`, host: '127.0.0.1', port: 0 }) : undefined;
    await echo?.listen();
    const pod = new LocalPod(options, dir, echo, credentials);
    await pod.#writeConfig(options.policiesYaml);
    try {
      if (options.sidecar === 'child-process') await pod.#startChild();
      else pod.#sidecar = await Sidecar.start({ configPath: join(dir, SIDECAR_CONFIG_FILE), pollMs: 200, diagnostics: () => undefined });
    } catch (error) {
      await pod.close();
      throw error;
    }
    return pod;
  }

  get sidecar(): Sidecar {
    if (this.#sidecar === undefined) throw new Error('the sidecar runs in a child process');
    return this.#sidecar;
  }

  get generation(): number {
    return this.#generation;
  }

  /** The sidecar's process id when it runs as a child process (the benchmarks read its memory). */
  get sidecarPid(): number | undefined {
    return this.#child?.pid;
  }

  async #writeConfig(policiesYaml: string): Promise<void> {
    const o = this.#options;
    const mesh = resolveMesh(policiesFromYaml(policiesYaml), topologyFromYaml(o.topologyYaml));
    const w = findWorkload(mesh, o.workload);
    const config = renderSidecarConfig(mesh, { kind: 'workload', workload: w, pod: `${w.name}-0` }, {
      generation: this.#generation,
      appPort: this.appPort,
      bindAddress: '127.0.0.1',
      adminPort: null,
      accessLogStdout: o.accessLogStdout ?? false,
      outboundBindAddress: this.outboundAddress,
      ...(o.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: o.drainTimeoutMs }),
      ...(o.istioAlpnOnPermissive === undefined ? {} : { istioAlpnOnPermissive: o.istioAlpnOnPermissive }),
    });
    const path = join(this.dir, SIDECAR_CONFIG_FILE);
    await writeFile(`${path}.tmp`, JSON.stringify(config, null, 2));
    await rename(`${path}.tmp`, path);
  }

  /** Renders the new policies as the next generation and writes them over the config (the sidecar reloads). */
  async apply(policiesYaml: string): Promise<number> {
    this.#generation += 1;
    await this.#writeConfig(policiesYaml);
    return this.#generation;
  }

  /** Writes a new certificate for the same identity (the PKI's `..data` switch). */
  async rotate(): Promise<WorkloadCredentials> {
    const mesh = resolveMesh(policiesFromYaml(this.#options.policiesYaml), topologyFromYaml(this.#options.topologyYaml));
    const w = findWorkload(mesh, this.#options.workload);
    const next = await this.#options.ca.issue({ namespace: w.namespace, serviceAccount: w.serviceAccount });
    await writeWorkloadFiles(join(this.dir, SIDECAR_CERT_DIR), next);
    return next;
  }

  async admin(path: string): Promise<{ status: number; body: string }> {
    return unixGet(join(this.dir, ADMIN_SOCKET), path, 5_000);
  }

  async accessLog(): Promise<Record<string, unknown>[]> {
    const text = await readFile(join(this.dir, ACCESS_LOG_FILE), 'utf8').catch(() => '');
    return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async #startChild(): Promise<void> {
    const main = this.#options.sidecarScript ?? join(projectRoot, 'harness/dataplane/reference/sidecar/main.ts');
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', main], {
      env: { ...process.env, SIDECAR_CONFIG: join(this.dir, SIDECAR_CONFIG_FILE) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    // A caller that exits without close() (a failed bench, an uncaught error) must not leave the
    // sidecar running and holding its ports: kill it as this process exits.
    const killOnExit = (): void => {
      if (child.exitCode === null) child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    await waitForReadyLine(child, 'sidecar');
  }

  async close(): Promise<void> {
    await this.#sidecar?.close();
    if (this.#child !== undefined && this.#child.exitCode === null) {
      const exited = new Promise((resolve) => this.#child!.once('exit', resolve));
      this.#child.kill('SIGTERM');
      await exited;
    }
    await this.#echo?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves when a child process prints READY_LINE; rejects, with its stderr, if it exits first. */
export function waitForReadyLine(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      if (out.includes(READY_LINE)) return;
      out += chunk.toString();
      if (out.includes(READY_LINE)) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code} before it was ready: ${err}`)));
  });
}
