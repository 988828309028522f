/** Pod and container handles over testcontainers and the engine API. */
import type Dockerode from 'dockerode';
import type { StartedNetwork, StartedTestContainer } from 'testcontainers';
import { POD_LABEL, type ContainerHandle, type ContainerRole, type ExecResult, type Pod } from '../types.ts';
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

/** What a pod needs to run `ip` in its own network namespace (the netctl image, built on first use). */
export interface NetctlLauncher {
  /** The image's tag (built or found), its command, and the run's labels for the one-shot container. */
  prepare(): Promise<{ readonly image: string; readonly command: readonly string[]; readonly labels: Readonly<Record<string, string>> }>;
}

export interface DockerPodParts {
  readonly name: string;
  readonly netctl: NetctlLauncher;
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
  /** The interface taken down by a partition, and the default routes to put back. */
  #cut: { readonly device: string; readonly routes: readonly string[] } | undefined;

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

  /**
   * A partition: the pod's interface on the run network goes down inside its own network
   * namespace, so nothing reaches it and nothing leaves it, while the engine keeps its address and
   * its name in the network's DNS (as Kubernetes keeps an unreachable pod in the service's
   * endpoints until its readiness fails). Done by a one-shot container with NET_ADMIN in the pod's
   * namespace running iproute2's `ip` (docker/netctl); no privilege is needed on the host.
   */
  async disconnect(): Promise<void> {
    if (this.#cut !== undefined) return;
    const device = (await this.#ip(['-4', '-o', 'addr', 'show'])).split('\n').find((line) => line.includes(` ${this.ip}/`))?.split(/\s+/)[1];
    if (device === undefined) throw this.#parts.wrapError(`partitioning pod ${this.name}`, new Error(`no interface holds ${this.ip}`));
    const routes = (await this.#ip(['-4', 'route', 'show', 'default'])).split('\n').map((l) => l.trim()).filter((l) => l !== '');
    await this.#ip(['link', 'set', 'dev', device, 'down']);
    this.#cut = { device, routes };
  }

  /** Ends the partition: the interface comes up with the same address, and the default route is put back. */
  async reconnect(): Promise<void> {
    const cut = this.#cut;
    if (cut === undefined) return;
    await this.#ip(['link', 'set', 'dev', cut.device, 'up']);
    for (const route of cut.routes) await this.#ip(['route', 'replace', ...route.split(/\s+/)]);
    this.#cut = undefined;
  }

  /** Runs `ip ARGS` in the pod's network namespace and returns its output. */
  async #ip(args: readonly string[]): Promise<string> {
    const { docker, wrapError, netctl } = this.#parts;
    const what = `ip ${args.join(' ')} in pod ${this.name}`;
    let container: Dockerode.Container | undefined;
    try {
      const { image, command, labels } = await netctl.prepare();
      container = await docker.createContainer({
        Image: image,
        Cmd: [...command, ...args],
        Labels: { ...labels, [POD_LABEL]: this.name },
        HostConfig: { NetworkMode: `container:${this.#owner.id}`, CapAdd: ['NET_ADMIN'] },
      });
      await container.start();
      const result = (await container.wait()) as { StatusCode?: number };
      const output = demuxLogs(await container.logs({ stdout: true, stderr: true }));
      if (result.StatusCode !== 0) throw new Error(`exit ${result.StatusCode}: ${output.trim()}`);
      return output;
    } catch (error) {
      throw wrapError(what, error);
    } finally {
      await container?.remove({ force: true }).catch(() => undefined);
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
