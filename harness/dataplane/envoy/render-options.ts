/**
 * What a rendering needs besides the resolved mesh: where things listen inside a pod, where the
 * certificates are, how other pods are named, and the run's time scale. One pure function fills
 * the defaults.
 *
 * Port layout (harness choice, Istio's numbers where it has one): admin 127.0.0.1:15000; one
 * inbound listener per workload port on 0.0.0.0, from 15006 up in the workload's port order, to
 * the app on 127.0.0.1:<workload port>; outbound listeners on 127.0.0.1, one per HTTP service
 * port (routing on Host, as Istio's route config per port does) and one per TCP service port of
 * each service, from 15001 up, skipping ports already taken; Prometheus stats on a Unix socket
 * in the sidecar's private folder (the harness cannot reach a container's loopback).
 */
import { POD_DIR_IN_CONTAINER } from '../../runtime/types.ts';
import { ErrorCode, MeshproofError } from '../../errors.ts';

export type CertificateSource = 'sds' | 'files';

export interface EnvoyRenderOptions {
  /** Multiplies every policy duration and the Istio defaults the suites depend on (default 1). */
  readonly timeScale?: number;
  /** Folder in the sidecar holding cert-chain.pem, key.pem, root-cert.pem (`..data` layout). */
  readonly certDir?: string;
  /**
   * `sds` (default): file-based SDS secrets `default` and `ROOTCA` with `watched_directory`, so a
   * rotated `..data` link is picked up, as Istio's agent-served SDS is. `files`: the certificate
   * files inline in each TLS context, as the mapping's reference configs write them (read once).
   */
  readonly certificates?: CertificateSource;
  /** Where the SDS resource files are written inside the sidecar (default: next to the bootstrap). */
  readonly sdsDir?: string;
  readonly adminPort?: number;
  readonly inboundBasePort?: number;
  readonly outboundBasePort?: number;
  /** Unix socket serving GET /stats/prometheus (null: none). */
  readonly statsSocket?: string | null;
  /** The DNS name (or IP) of replica `index` of a workload, as the runtime names its pods. */
  readonly podHost?: (workload: { readonly namespace: string; readonly name: string }, index: number) => string;
  /** Envoy access log on stdout with the response flags (default true). */
  readonly accessLog?: boolean;
  /** Circuit-breaker `track_remaining` (Istio ≤ 1.28: true, ≥ 1.29: false). Default true, for the remaining_* gauges. */
  readonly trackRemaining?: boolean;
}

export interface ResolvedRenderOptions {
  readonly timeScale: number;
  readonly certDir: string;
  readonly certificates: CertificateSource;
  readonly sdsDir: string;
  readonly adminPort: number;
  readonly inboundBasePort: number;
  readonly outboundBasePort: number;
  readonly statsSocket: string | null;
  readonly podHost: (workload: { readonly namespace: string; readonly name: string }, index: number) => string;
  readonly accessLog: boolean;
  readonly trackRemaining: boolean;
}

/** Where the bootstrap and SDS files live inside the sidecar container. */
export const ENVOY_CONFIG_DIR = `${POD_DIR_IN_CONTAINER}/envoy`;
export const ENVOY_BOOTSTRAP_FILE = 'envoy.yaml';

export function defaultPodHost(workload: { readonly namespace: string; readonly name: string }, index: number): string {
  return `${workload.name}-${index}.${workload.namespace}`;
}

export function resolveRenderOptions(options: EnvoyRenderOptions = {}): ResolvedRenderOptions {
  const timeScale = options.timeScale ?? 1;
  if (!Number.isFinite(timeScale) || timeScale <= 0) {
    throw new MeshproofError(ErrorCode.BadArgument, `time scale must be a positive number, found ${String(options.timeScale)}`, { hint: 'use e.g. --time-scale 0.02 to run 50 times faster' });
  }
  return {
    timeScale,
    certDir: options.certDir ?? `${POD_DIR_IN_CONTAINER}/certs`,
    certificates: options.certificates ?? 'sds',
    sdsDir: options.sdsDir ?? ENVOY_CONFIG_DIR,
    adminPort: options.adminPort ?? 15000,
    inboundBasePort: options.inboundBasePort ?? 15006,
    outboundBasePort: options.outboundBasePort ?? 15001,
    statsSocket: options.statsSocket === undefined ? `${POD_DIR_IN_CONTAINER}/envoy-stats.sock` : options.statsSocket,
    podHost: options.podHost ?? defaultPodHost,
    accessLog: options.accessLog ?? true,
    trackRemaining: options.trackRemaining ?? true,
  };
}

/**
 * A duration as Envoy's JSON writes it, after the time scale: `30000 ms × 0.02` → `0.6s`.
 * Scaled values are rounded to whole milliseconds, and a positive duration never becomes 0.
 */
export function envoyDuration(ms: number, scale = 1): string {
  const scaled = ms === 0 ? 0 : Math.max(1, Math.round(ms * scale));
  return `${scaled / 1000}s`;
}
