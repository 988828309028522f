/**
 * The runtime interface: how the harness starts pods and clients, whatever runs them.
 *
 * Only harness/runtime/docker/ knows about Docker or testcontainers. Everything else sees
 * these types, so the core is unit-testable without an engine.
 *
 * A pod is an app container plus, optionally, a sidecar container that shares its network
 * namespace. The app listens on 127.0.0.1 only, so the sidecar is the only way in, as with
 * Istio's traffic capture. Each container gets a private host folder mounted at
 * POD_DIR_IN_CONTAINER; programs put their control sockets there (so only the harness can reach
 * them) and the harness puts config and certificate files there (so a rewrite is seen at once).
 */

/** Programs in our images print a line starting with this when they are ready to serve. */
export const READY_LINE = 'meshproof:ready';

/** Where each container's private host folder is mounted. */
export const POD_DIR_IN_CONTAINER = '/run/meshproof';

/** Image names the harness builds; see docker/<name>/image.json. */
export type ImageName = 'base' | 'echo' | 'sidecar' | (string & {});

/** An image to build: a recipe, and for recipes that take one (image.json `hostBinary`), the host binary to put in it. */
export interface ImageRef {
  readonly image: ImageName;
  /** Absolute path of a host binary the recipe packs, with the shared libraries it links, on scratch. */
  readonly hostBinary?: string;
}

export interface ContainerSpec extends ImageRef {
  /** A recipe name from docker/ (built on demand, cached by content hash). */
  readonly image: ImageName;
  /** Arguments after the image's entrypoint. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** A line the program prints to stdout when it is ready; start() waits for it. */
  readonly readyLine?: string;
}

export interface PodSpec {
  /** Unique within the run; becomes the hostname and a DNS name on the network. */
  readonly name: string;
  /** More DNS names on the network (a service name shared by replicas, for example). */
  readonly aliases?: readonly string[];
  readonly network: RunNetwork;
  readonly app: ContainerSpec;
  /** Joins the network namespace of the pod. Absent for a client without a sidecar. */
  readonly sidecar?: ContainerSpec;
  /** Extra labels (the run label is always added). */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Called with each container's host folder after the folders exist and before any container
   * starts: write config and certificate files here so a sidecar finds them at its first read.
   */
  readonly prepare?: (dirs: PodDirs) => Promise<void>;
}

/** Host folders mounted at POD_DIR_IN_CONTAINER, one per container of a pod. */
export interface PodDirs {
  readonly app: string;
  readonly sidecar: string | undefined;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `observer`: a run's capture of its pod network (WireTap), in no pod. */
export type ContainerRole = 'app' | 'sidecar' | 'observer';

export interface ContainerHandle {
  readonly id: string;
  /** The engine's name for it: `<run id>-<pod>-<role>`. */
  readonly name: string;
  readonly role: ContainerRole;
  /** Host folder mounted at POD_DIR_IN_CONTAINER in this container. */
  readonly hostDir: string;
  exec(command: readonly string[]): Promise<ExecResult>;
  logs(): Promise<string>;
  /** Freezes every process in the container (cgroup freezer); connections stay open. */
  pause(): Promise<void>;
  unpause(): Promise<void>;
  /** Sends a signal (default SIGKILL). The container stays, stopped, until the run ends. */
  kill(signal?: string): Promise<void>;
  /** Starts a stopped (killed) container again, and waits for its ready line if it has one. */
  start(): Promise<void>;
  /** True while the container runs (paused counts as running). */
  isRunning(): Promise<boolean>;
}

export interface Pod {
  readonly name: string;
  /** The pod's address on its network. */
  readonly ip: string;
  readonly app: ContainerHandle;
  readonly sidecar: ContainerHandle | undefined;
  /** Cuts the pod off its network (a partition); reconnect() undoes it with the same address. */
  disconnect(): Promise<void>;
  reconnect(): Promise<void>;
  /** Removes the pod's containers now, rather than at the end of the run. */
  remove(): Promise<void>;
}

export interface RunNetwork {
  readonly id: string;
  readonly name: string;
}

/** How much of a run network a WireTap may capture before it stops itself. */
export interface WireTapBounds {
  /** tcpdump's own bound (`-c`). */
  readonly maxPackets: number;
  /** The capture is stopped once its file reaches this size. */
  readonly maxBytes: number;
  /** … or this long after it started. */
  readonly maxDurationMs: number;
}

/**
 * A passive capture of every TCP packet crossing a run network (between its pods), written as
 * pcap to a host file that grows while it runs. It lives as long as the run at most: stop() ends
 * it, the run's close() and its reaper remove it like any other container of the run.
 */
export interface WireTap {
  /** The interface captured (the run network's bridge on the engine's host). */
  readonly iface: string;
  /** The pcap file on the host. */
  readonly file: string;
  /** When the capture was listening (ms since the epoch): traffic before it is not in the file. */
  readonly listeningAt: number;
  /** Why the capture stopped before stop() was called (a bound reached, tcpdump gone); undefined while it runs. */
  endedBecause(): Promise<string | undefined>;
  /** Stops the capture and removes its container; the file stays until the run's folder goes. Idempotent. */
  stop(): Promise<void>;
}

export interface Runtime {
  /** Labels every container and network as `org.meshproof.run=<runId>`. */
  readonly runId: string;
  readonly kind: 'docker';
  /** A per-run host folder, removed by close(). Private keys live below it with mode 0600. */
  readonly runDir: string;
  createNetwork(name?: string): Promise<RunNetwork>;
  startPod(spec: PodSpec): Promise<Pod>;
  /** Builds (or finds cached) every image the run needs, so that the first pod start is not slow. */
  prepareImages(images: readonly (ImageName | ImageRef)[]): Promise<void>;
  /**
   * Starts capturing the run network's traffic between pods. Throws MESHPROOF_ERR_WIRE_CAPTURE
   * with the reason when it cannot be captured here (no tcpdump, no permission, not a bridge).
   */
  startWireTap(network: RunNetwork, bounds: WireTapBounds): Promise<WireTap>;
  /** Removes every container, network and file of this run. Idempotent; safe on any path. */
  close(): Promise<void>;
}

export const RUN_LABEL = 'org.meshproof.run';
/** The process that made the object (owner.ts): lets a later run prove that process gone, or keep its objects. */
export const OWNER_LABEL = 'org.meshproof.owner';
/** One open runtime (a run id may be opened again after a close): what its reaper and close() remove. */
export const SESSION_LABEL = 'org.meshproof.session';
export const POD_LABEL = 'org.meshproof.pod';
export const ROLE_LABEL = 'org.meshproof.role';

/** An answer from the engine's image store. */
export type ImageAnswer = { readonly ok: true; readonly output: string } | { readonly ok: false; readonly error: string };

/** Questions about published images (e.g. envoyproxy/envoy), asked before a data plane is used. */
export interface ImageQuestions {
  /** Is the image in the engine's store? */
  hasImage(image: string, timeoutMs: number): Promise<ImageAnswer>;
  /** Try to pull it; a pull still running at the deadline is a failure. */
  pull(image: string, timeoutMs: number): Promise<ImageAnswer>;
}
