/**
 * The Docker runtime, over testcontainers.
 *
 * Every container and network it creates carries `org.meshproof.run=<run id>`, the owner label
 * and this runtime's session label, and close() removes everything carrying the session label
 * (asking the engine, not a list kept in memory, so that a half-started pod is removed too).
 * close() runs on success, on failure (callers use try/finally), and on SIGINT/SIGTERM/SIGHUP
 * (cleanup-on-signal.ts). Before anything else the runtime starts its reaper and holds a
 * connection to it (reaper-client.ts): when the process ends without close() (SIGKILL, a crash),
 * the reaper removes what it left. The sweep at start removes only runs whose owner is proved
 * gone (sweeper.ts), never a run that may be alive in another PID namespace or on another machine.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GenericContainer, StartedNetwork, Wait, type StartedTestContainer } from 'testcontainers';
import { resolveTimeouts, type Timeouts } from '../../config/timeouts.ts';
import { ErrorCode, MeshproofError, isMeshproofError } from '../../errors.ts';
import { publish } from '../../events.ts';
import { projectRoot as defaultProjectRoot } from '../../project-root.ts';
import { registerCleanup } from '../cleanup-on-signal.ts';
import { currentOwner, formatOwner } from '../owner.ts';
import {
  OWNER_LABEL,
  POD_DIR_IN_CONTAINER,
  POD_LABEL,
  ROLE_LABEL,
  RUN_LABEL,
  SESSION_LABEL,
  type ContainerRole,
  type ContainerSpec,
  type ImageName,
  type ImageRef,
  type Pod,
  type PodDirs,
  type PodSpec,
  type RunNetwork,
  type Runtime,
  type WireTap,
  type WireTapBounds,
} from '../types.ts';
import { connectDocker, isEngineGone, runtimeUnavailable, type DockerClient } from './docker-connection.ts';
import { demuxLogs } from './demux-logs.ts';
import { DockerContainer, DockerPod } from './docker-pod.ts';
import { ImageBuilder } from './image-builder.ts';
import { ReaperClient } from './reaper-client.ts';
import { checkSocketRoom, runsRoot } from './runs-root.ts';
import { sweep } from './sweeper.ts';
import { DockerWireTap, TCPDUMP_LISTENING, WIRE_FILE, bridgeOf, findTcpdump, tcpdumpArgs } from './wire-tap.ts';
import { newRunId } from '../../spec/run.ts';

export { runsRoot };

export interface DockerRuntimeOptions {
  readonly timeouts?: Partial<Timeouts>;
  readonly projectRoot?: string;
  /** Defaults to a fresh id: `mp-<yyyymmdd-hhmmss>-<4 hex>`. */
  readonly runId?: string;
  /** Use this published image instead of building the scratch base (default: env MESHPROOF_BASE_IMAGE). */
  readonly baseImage?: string;
}

interface CloseSummary {
  readonly containers: number;
  readonly networks: number;
  readonly engineGone: boolean;
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  readonly runId: string;
  /** Identifies this open runtime among opens of the same run id; every object carries it. */
  readonly session: string;
  readonly runDir: string;
  readonly timeouts: Timeouts;
  readonly #client: DockerClient;
  readonly #images: ImageBuilder;
  readonly #labels: Readonly<Record<string, string>>;
  readonly #unregister: () => void;
  readonly #networks = new Map<string, StartedNetwork>();
  #reaper: ReaperClient | undefined;
  readonly #podIndex = new Map<string, number>();
  /** Container starts in flight: close() waits for them, so none lands after it removed the rest. */
  readonly #starting = new Set<Promise<unknown>>();
  #closing: Promise<CloseSummary> | undefined;

  /**
   * Connects (failing fast when no engine answers), sweeps runs whose owner is proved gone, opens a
   * new run and starts its reaper. The run creates nothing before the reaper holds its connection.
   */
  static async start(options: DockerRuntimeOptions = {}): Promise<DockerRuntime> {
    const timeouts = resolveTimeouts(options.timeouts);
    const root = runsRoot();
    const client = await connectDocker(timeouts.runtimeConnect);
    await sweep(client.container.dockerode, root, { scope: 'gone' });
    const runtime = new DockerRuntime(client, timeouts, options, root);
    try {
      await runtime.#startReaper();
    } catch (error) {
      await runtime.close();
      throw error;
    }
    return runtime;
  }

  private constructor(client: DockerClient, timeouts: Timeouts, options: DockerRuntimeOptions, root: string) {
    this.#client = client;
    this.timeouts = timeouts;
    this.runId = options.runId ?? newRunId();
    this.session = `${this.runId}.${randomBytes(4).toString('hex')}`;
    this.#labels = { [RUN_LABEL]: this.runId, [OWNER_LABEL]: formatOwner(currentOwner()), [SESSION_LABEL]: this.session };
    this.runDir = join(root, this.runId);
    checkSocketRoom(this.runDir);
    mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(this.runDir, 'owner'), this.#labels[OWNER_LABEL]!);
    this.#images = new ImageBuilder(client, {
      projectRoot: options.projectRoot ?? defaultProjectRoot,
      timeoutMs: timeouts.imageBuild,
      baseImageOverride: options.baseImage ?? process.env['MESHPROOF_BASE_IMAGE'],
    });
    this.#unregister = registerCleanup(async () => {
      const removed = await this.#closeOnce('interrupted');
      return removed.engineGone
        ? `run ${this.runId}: the engine stopped answering; \`meshproof clean\` lists what is left`
        : `removed run ${this.runId}: ${removed.containers} container(s), ${removed.networks} network(s) and its folder`;
    });
  }

  async #startReaper(): Promise<void> {
    const image = await this.#images.ensure('reaper');
    this.#reaper = await ReaperClient.start({
      docker: this.#client.container.dockerode,
      image: image.tag,
      command: this.#images.commandOf('reaper'),
      name: `${this.runId}-reaper-${this.session.slice(-8)}`,
      session: this.session,
      runId: this.runId,
      runsRoot: dirname(this.runDir),
      labels: this.#labels,
      ownerText: this.#labels[OWNER_LABEL]!,
      readyTimeoutMs: this.timeouts.containerReady,
    });
  }

  /** The engine's version string, for reports and `meshproof doctor`. */
  get engineVersion(): string {
    return String(this.#client.info.containerRuntime.serverVersion);
  }

  async prepareImages(images: readonly (ImageName | ImageRef)[]): Promise<void> {
    this.#assertOpen();
    for (const ref of images) {
      if (typeof ref === 'string') await this.#images.ensure(ref);
      else await this.#images.ensure(ref.image, ref.hostBinary);
    }
  }

  async createNetwork(name = 'net'): Promise<RunNetwork> {
    this.#assertOpen();
    const fullName = `${this.runId}-${name}`;
    const options = {
      Name: fullName,
      CheckDuplicate: true,
      Driver: 'bridge',
      Internal: false,
      Attachable: false,
      Ingress: false,
      EnableIPv6: false,
      Labels: { ...this.#labels },
    };
    try {
      // A pod cut off by a partition must come back at the same address, and Docker allows a fixed
      // address only on networks whose subnet was stated at creation. So let Docker choose a free
      // subnet from its pools, then create the network again stating that subnet.
      const probe = await this.#client.network.create(options);
      const subnet = (await probe.inspect()).IPAM?.Config?.[0] as { Subnet?: string; Gateway?: string } | undefined;
      await probe.remove();
      const network = await this.#client.network.create(
        subnet?.Subnet === undefined ? options : { ...options, IPAM: { Driver: 'default', Config: [{ Subnet: subnet.Subnet, ...(subnet.Gateway === undefined ? {} : { Gateway: subnet.Gateway }) }] } },
      );
      this.#networks.set(network.id, new StartedNetwork(this.#client, fullName, network));
      publish('runtime:network', { runId: this.runId, network: fullName, action: 'created' });
      return { id: network.id, name: fullName };
    } catch (error) {
      throw this.#operationError(`creating network ${fullName}`, error);
    }
  }

  async startWireTap(network: RunNetwork, bounds: WireTapBounds): Promise<WireTap> {
    this.#assertOpen();
    if (!this.#networks.has(network.id)) throw new MeshproofError(ErrorCode.Internal, `network ${network.name} does not belong to run ${this.runId}`);
    const tcpdump = findTcpdump();
    const { iface, subnet } = bridgeOf(await this.#client.container.dockerode.getNetwork(network.id).inspect());
    let container: DockerContainer;
    try {
      container = await this.#startContainer({ name: 'wire' }, 'observer', { image: 'tcpdump', hostBinary: tcpdump, args: tcpdumpArgs(iface, subnet, bounds), readyLine: TCPDUMP_LISTENING }, (c) => c.withNetworkMode('host'));
    } catch (error) {
      // The observer that could not start goes now, not with the run. tcpdump's own last words say why (no such device, no permission, …).
      const docker = this.#client.container.dockerode;
      const left = await docker.listContainers({ all: true, filters: { label: [`${SESSION_LABEL}=${this.session}`, `${ROLE_LABEL}=observer`] } }).catch(() => []);
      await Promise.allSettled(left.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
      throw new MeshproofError(ErrorCode.WireCapture, `the pod network (${iface}) cannot be captured here: ${(error as Error).message}`, { cause: error });
    }
    return new DockerWireTap(container, this.#client.container.dockerode, iface, join(container.hostDir, WIRE_FILE), bounds);
  }

  async startPod(spec: PodSpec): Promise<Pod> {
    this.#assertOpen();
    const network = this.#networks.get(spec.network.id);
    if (network === undefined) throw new MeshproofError(ErrorCode.Internal, `network ${spec.network.name} does not belong to run ${this.runId}`);
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(spec.name)) {
      throw new MeshproofError(ErrorCode.BadArgument, `pod name '${spec.name}' must be a DNS label (lower case letters, digits, '-', '.')`);
    }
    // The sidecar, when there is one, owns the network namespace; the app joins it. So killing
    // the app leaves the sidecar answering (with errors), as in a Kubernetes pod.
    const dirs: PodDirs = { app: this.#podDir(spec.name, 'app'), sidecar: spec.sidecar === undefined ? undefined : this.#podDir(spec.name, 'sidecar') };
    await spec.prepare?.(dirs);
    const ownerRole: ContainerRole = spec.sidecar === undefined ? 'app' : 'sidecar';
    const ownerSpec = spec.sidecar ?? spec.app;
    const owner = await this.#startContainer(spec, ownerRole, ownerSpec, (c) =>
      c.withNetwork(network).withNetworkAliases(spec.name, ...(spec.aliases ?? [])).withHostname(spec.name),
    );
    const app = spec.sidecar === undefined ? owner : await this.#startContainer(spec, 'app', spec.app, (c) => c.withNetworkMode(`container:${owner.id}`));
    const ip = owner.started.getIpAddress(network.getName());
    return new DockerPod({
      name: spec.name,
      netctl: { prepare: async () => ({ image: (await this.#images.ensure('netctl', hostIpBinary())).tag, command: this.#images.commandOf('netctl'), labels: { ...this.#labels, [ROLE_LABEL]: 'netctl' } }) },
      ip,
      app,
      sidecar: spec.sidecar === undefined ? undefined : owner,
      network,
      aliases: [spec.name, ...(spec.aliases ?? [])],
      docker: this.#client.container.dockerode,
      wrapError: (what, error) => this.#operationError(what, error),
    });
  }

  async #startContainer(
    pod: Pick<PodSpec, 'name' | 'labels'>,
    role: ContainerRole,
    spec: ContainerSpec,
    attach: (container: GenericContainer) => GenericContainer,
  ): Promise<DockerContainer> {
    const image = await this.#images.ensure(spec.image, spec.hostBinary);
    const name = `${this.runId}-${pod.name}-${role}`;
    const hostDir = this.#podDir(pod.name, role);
    let container = new GenericContainer(image.tag)
      .withName(name)
      .withLabels({ ...pod.labels, ...this.#labels, [POD_LABEL]: pod.name, [ROLE_LABEL]: role })
      .withEnvironment({ POD_NAME: pod.name, POD_ROLE: role, MESHPROOF_RUN: this.runId, ...spec.env })
      .withCommand([...this.#images.commandOf(spec.image), ...(spec.args ?? [])])
      .withBindMounts([{ source: hostDir, target: POD_DIR_IN_CONTAINER, mode: 'rw' }])
      .withStartupTimeout(this.timeouts.containerReady)
      .withWaitStrategy(spec.readyLine === undefined ? Wait.forListeningPorts() : Wait.forLogMessage(spec.readyLine));
    container = attach(container);
    publish('runtime:container', { runId: this.runId, container: name, action: 'starting' });
    let started: StartedTestContainer;
    try {
      const starting = container.start();
      this.#starting.add(starting);
      try {
        started = await starting;
      } finally {
        this.#starting.delete(starting);
      }
    } catch (error) {
      if (isEngineGone(error)) throw runtimeUnavailable(error);
      const logs = await this.#logsOf(name);
      throw new MeshproofError(ErrorCode.ContainerStart, `container ${name} (${image.tag}) did not become ready: ${(error as Error).message}${logs}`, {
        cause: error,
        hint: spec.readyLine === undefined ? undefined : `it never printed '${spec.readyLine}' within ${this.timeouts.containerReady} ms (timeouts.containerReady)`,
      });
    }
    publish('runtime:container', { runId: this.runId, container: name, action: 'started' });
    return new DockerContainer(started, role, hostDir, this.#client.container.dockerode, (what, error) => this.#operationError(what, error), {
      line: spec.readyLine,
      timeoutMs: this.timeouts.containerReady,
    });
  }

  /** `<run folder>/pods/<n>/<a|s>`: short and of fixed length, so the sockets in it stay reachable (runs-root.ts). */
  #podDir(pod: string, role: ContainerRole): string {
    let index = this.#podIndex.get(pod);
    if (index === undefined) {
      index = this.#podIndex.size;
      this.#podIndex.set(pod, index);
    }
    const dir = join(this.runDir, 'pods', String(index), role === 'app' ? 'a' : role === 'sidecar' ? 's' : 'o');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  async #logsOf(name: string): Promise<string> {
    try {
      const buffer = await this.#client.container.dockerode.getContainer(name).logs({ stdout: true, stderr: true, tail: 20 });
      const text = demuxLogs(buffer).trim();
      return text === '' ? '' : `\n--- last lines of its output ---\n${text}`;
    } catch {
      return '';
    }
  }

  close(): Promise<void> {
    return this.#closeOnce('normal').then(() => undefined);
  }

  #closeOnce(how: 'normal' | 'interrupted'): Promise<CloseSummary> {
    this.#closing ??= this.#close(how);
    return this.#closing;
  }

  /**
   * Removes the session's objects, then releases the reaper. A normal close first waits (bounded)
   * for container starts in flight. An interrupted one does not wait: when a start is still in
   * flight it keeps the reaper holding, and when the process exits a moment later the reaper
   * removes whatever that start created.
   */
  async #close(how: 'normal' | 'interrupted'): Promise<CloseSummary> {
    const docker = this.#client.container.dockerode;
    const filter = { label: [`${SESSION_LABEL}=${this.session}`] };
    let removed: CloseSummary = { containers: 0, networks: 0, engineGone: false };
    try {
      let settled = true;
      if (how === 'normal' && this.#starting.size > 0) {
        const bound = new Promise<false>((resolve) => setTimeout(() => resolve(false), this.timeouts.containerReady).unref());
        settled = await Promise.race([Promise.allSettled([...this.#starting]).then(() => true), bound]);
      }
      // The reaper goes by its release; one that never took the connection (start interrupted) goes here.
      const containers = (await docker.listContainers({ all: true, filters: filter })).filter((c) => c.Labels?.[ROLE_LABEL] !== 'reaper' || this.#reaper === undefined);
      const gone = await Promise.allSettled(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
      for (const c of containers) publish('runtime:container', { runId: this.runId, container: c.Names[0]?.replace(/^\//, '') ?? c.Id, action: 'removed' });
      const networks = await docker.listNetworks({ filters: filter });
      const goneNets = await Promise.allSettled(networks.map((n) => docker.getNetwork(n.Id).remove()));
      for (const n of networks) publish('runtime:network', { runId: this.runId, network: n.Name, action: 'removed' });
      removed = { containers: gone.filter((g) => g.status === 'fulfilled').length, networks: goneNets.filter((g) => g.status === 'fulfilled').length, engineGone: false };
      // Released only when nothing can land any more; otherwise the reaper stays until the process ends.
      if (settled && this.#starting.size === 0) await this.#reaper?.release(this.timeouts.runCleanup);
    } catch (error) {
      // The engine is gone: nothing more can be removed now (`meshproof clean` can later).
      if (!isEngineGone(error)) throw error;
      removed = { ...removed, engineGone: true };
    } finally {
      rmSync(this.runDir, { recursive: true, force: true });
      this.#unregister();
    }
    return removed;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new MeshproofError(ErrorCode.Internal, `run ${this.runId} is closed`);
  }

  #operationError(what: string, error: unknown): MeshproofError {
    if (isMeshproofError(error)) return error;
    if (isEngineGone(error)) return runtimeUnavailable(error);
    return new MeshproofError(ErrorCode.RuntimeOperation, `${what} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** iproute2's `ip` on this host, which docker/netctl packs for partitions. */
function hostIpBinary(): string {
  const found = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));
  if (found === undefined) throw new MeshproofError(ErrorCode.RuntimeOperation, 'a partition needs iproute2\'s ip on this host (packed into the netctl image), and none was found', { hint: 'install iproute2 (apt-get install -y iproute2)' });
  return found;
}
