/** Pod and container handles over testcontainers and the engine API. */
import type Dockerode from 'dockerode';
import type { StartedNetwork, StartedTestContainer } from 'testcontainers';
import type { ContainerHandle, ContainerRole, ExecResult, Pod } from '../types.ts';
import { demuxLogs } from './demux-logs.ts';

type WrapError = (what: string, error: unknown) => Error;

export class DockerContainer implements ContainerHandle {
  readonly id: string;
  readonly name: string;
  readonly role: ContainerRole;
  readonly hostDir: string;
  readonly started: StartedTestContainer;
  readonly #docker: Dockerode;
  readonly #wrap: WrapError;
  readonly #readyLine: string | undefined;
  readonly #readyTimeoutMs: number;

  constructor(started: StartedTestContainer, role: ContainerRole, hostDir: string, docker: Dockerode, wrap: WrapError, ready: { line: string | undefined; timeoutMs: number }) {
    this.started = started;
    this.id = started.getId();
    this.name = started.getName().replace(/^\//, '');
    this.role = role;
    this.hostDir = hostDir;
    this.#docker = docker;
    this.#wrap = wrap;
    this.#readyLine = ready.line;
    this.#readyTimeoutMs = ready.timeoutMs;
  }

  async exec(command: readonly string[]): Promise<ExecResult> {
    try {
      const result = await this.started.exec([...command]);
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    } catch (error) {
      throw this.#wrap(`exec ${command[0] ?? ''} in ${this.name}`, error);
    }
  }

  async logs(): Promise<string> {
    try {
      return demuxLogs(await this.#docker.getContainer(this.id).logs({ stdout: true, stderr: true }));
    } catch (error) {
      throw this.#wrap(`reading logs of ${this.name}`, error);
    }
  }

  async pause(): Promise<void> {
    await this.#call('pausing', (c) => c.pause());
  }

  async unpause(): Promise<void> {
    await this.#call('unpausing', (c) => c.unpause());
  }

  async kill(signal = 'SIGKILL'): Promise<void> {
    await this.#call(`sending ${signal} to`, (c) => c.kill({ signal }));
  }

  async start(): Promise<void> {
    const since = Math.floor(Date.now() / 1000);
    await this.#call('starting', (c) => c.start());
    if (this.#readyLine !== undefined) await this.#waitForLine(this.#readyLine, since);
  }

  /** Polls the container's output (since `since`, seconds) until the line appears. */
  async #waitForLine(line: string, since: number): Promise<void> {
    const deadline = Date.now() + this.#readyTimeoutMs;
    while (Date.now() < deadline) {
      const output = demuxLogs(await this.#docker.getContainer(this.id).logs({ stdout: true, stderr: true, since }));
      if (output.includes(line)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw this.#wrap(`waiting for ${this.name} to print '${line}' after a restart`, new Error(`not within ${this.#readyTimeoutMs} ms (timeouts.containerReady)`));
  }

  async isRunning(): Promise<boolean> {
    try {
      const info = await this.#docker.getContainer(this.id).inspect();
      return info.State.Running;
    } catch (error) {
      throw this.#wrap(`inspecting ${this.name}`, error);
    }
  }

  async #call(what: string, action: (container: Dockerode.Container) => Promise<unknown>): Promise<void> {
    try {
      await action(this.#docker.getContainer(this.id));
    } catch (error) {
      throw this.#wrap(`${what} ${this.name}`, error);
    }
  }
}

export interface DockerPodParts {
  readonly name: string;
  readonly ip: string;
  readonly app: DockerContainer;
  readonly sidecar: DockerContainer | undefined;
  readonly network: StartedNetwork;
  readonly aliases: readonly string[];
  readonly docker: Dockerode;
  readonly wrapError: WrapError;
}

export class DockerPod implements Pod {
  readonly name: string;
  readonly ip: string;
  readonly app: DockerContainer;
  readonly sidecar: DockerContainer | undefined;
  readonly #parts: DockerPodParts;

  constructor(parts: DockerPodParts) {
    this.#parts = parts;
    this.name = parts.name;
    this.ip = parts.ip;
    this.app = parts.app;
    this.sidecar = parts.sidecar;
  }

  /** The container that owns the pod's network namespace. */
  get #owner(): DockerContainer {
    return this.sidecar ?? this.app;
  }

  async disconnect(): Promise<void> {
    const { docker, network, wrapError } = this.#parts;
    try {
      await docker.getNetwork(network.getId()).disconnect({ Container: this.#owner.id, Force: true });
    } catch (error) {
      throw wrapError(`disconnecting pod ${this.name}`, error);
    }
  }

  async reconnect(): Promise<void> {
    const { docker, network, aliases, wrapError } = this.#parts;
    try {
      await docker.getNetwork(network.getId()).connect({
        Container: this.#owner.id,
        EndpointConfig: { Aliases: [...aliases], IPAMConfig: { IPv4Address: this.ip } },
      });
    } catch (error) {
      throw wrapError(`reconnecting pod ${this.name}`, error);
    }
  }

  async remove(): Promise<void> {
    const { docker, wrapError } = this.#parts;
    try {
      for (const container of [this.app, this.sidecar]) {
        if (container !== undefined) await docker.getContainer(container.id).remove({ force: true, v: true });
      }
    } catch (error) {
      throw wrapError(`removing pod ${this.name}`, error);
    }
  }
}
