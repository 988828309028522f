/**
 * The data-plane adapter interface: what the mesh environment (harness/mesh) needs from a data
 * plane — the reference sidecar, Envoy, later others — to run one pod's proxy.
 *
 * An adapter renders, from the resolved model, one proxy: the container that runs it, the files
 * it reads (written into the sidecar's private host folder, mounted at /run/meshproof), and where
 * it listens. The mesh environment adds the workload certificates in SIDECAR_CERT_DIR (the PKI's
 * `..data` layout) and starts the pod. Changing policies at run time is a new render written
 * over the old files; an adapter whose proxy picks that up by itself says so with `liveReload`.
 */
import type { DataPlaneInfo } from '../spec/data-plane.ts';
import type { Feature } from '../spec/features.ts';
import type { ResolvedClient, ResolvedMesh, ResolvedWorkload } from '../model/resolve.ts';
import type { ContainerSpec } from '../runtime/types.ts';

/** Where, inside the sidecar's folder, the mesh environment writes cert-chain.pem, key.pem and root-cert.pem. */
export const SIDECAR_CERT_DIR = 'certs';

/** The response header in which an in-mesh client's sidecar reports each outbound request's response flags. */
export const RESPONSE_FLAGS_HEADER = 'x-meshproof-response-flags';

/** The proxy to render: the sidecar of one workload replica, or an in-mesh client's. */
export type ProxyTarget =
  | { readonly kind: 'workload'; readonly workload: ResolvedWorkload; readonly pod: string }
  | { readonly kind: 'client'; readonly client: ResolvedClient; readonly pod: string };

export interface RenderOptions {
  /** Grows with every render for the same pod; a live-reloading proxy reports the one it enforces. */
  readonly generation: number;
  /** Multiplies policy durations (DestinationRule, VirtualService); 1 = real time. */
  readonly timeScale?: number;
  /** The run seed: fault-injection rolls and other random choices in the proxy derive from it. */
  readonly seed?: number;
  /** Pod name → the address the proxy uses for that pod's endpoints instead (a DNS spoofing fault). */
  readonly endpointOverrides?: ReadonlyMap<string, string>;
}

/** Where the app reaches its own proxy's outbound side (on 127.0.0.1 in the pod). */
export interface OutboundPorts {
  /** Port number called (a service port, or a workload port for one pod) → local HTTP listener; the Host header picks the destination. */
  readonly http: ReadonlyMap<number, number>;
  /** `<service FQDN or pod name>:<port>` → local TCP listener for that destination only. */
  readonly tcp: ReadonlyMap<string, number>;
}

export interface RenderedProxy {
  readonly container: ContainerSpec;
  /** Writes the proxy's files (never the certificates) into the sidecar's host folder, replacing older ones. */
  write(sidecarDir: string): Promise<void>;
  /** The port the app must listen on, on 127.0.0.1 in the pod. */
  readonly appPort: number;
  /** Workload port → the pod port its inbound listener binds (where other pods connect). */
  readonly inboundPorts: ReadonlyMap<number, number>;
  /** Unix socket in the sidecar's folder answering GET /stats/prometheus (relative path). */
  readonly metricsSocket?: string;
  /** JSON-lines access log (AccessLogEntry per line) in the sidecar's folder (relative path). */
  readonly accessLog?: string;
  /** How long after a request ends its log line may still be unwritten (the proxy's log flush interval); 0 or absent: written before the response ends. */
  readonly accessLogFlushMs?: number;
  /** Present when the proxy has an outbound side: in-mesh calls then go app → proxy → destination. */
  readonly outbound?: OutboundPorts;
  /** Response header in which the proxy reports each outbound request's response flags. */
  readonly responseFlagsHeader?: string;
  /**
   * Load balancers that pick upstream hosts each on their own (Envoy: one per worker thread). A
   * round robin is round robin per balancer: a host may be passed by up to this many rounds. Default 1.
   */
  readonly loadBalancers?: number;
  /** How late a change of an upstream host's health (an ejection, its end) may reach the balancers (Envoy's update_merge_window). Default 0. */
  readonly hostHealthLagMs?: number;
  /** What the render could not express or chose to do differently, for the report. */
  readonly notes: readonly string[];
}

export interface LiveReload {
  /** The generation the proxy whose folder is `sidecarDir` enforces now; undefined when it cannot tell yet. */
  appliedGeneration(sidecarDir: string): Promise<number | undefined>;
}

export interface DataPlaneAdapter {
  /** `reference`, `envoy`, … */
  readonly name: string;
  /** Features the proxy implements; cases needing others are reported not-supported. */
  readonly features: ReadonlySet<Feature>;
  /** Name, version, claimed features and whether it can run here (never throws). */
  info(): Promise<DataPlaneInfo>;
  render(mesh: ResolvedMesh, target: ProxyTarget, options: RenderOptions): Promise<RenderedProxy>;
  /** Present when rewritten files take effect in a running proxy; absent means new config needs new pods. */
  readonly liveReload?: LiveReload;
}
