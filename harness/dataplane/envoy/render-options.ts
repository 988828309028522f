/**
 * Where things are in an Envoy pod, and how the configuration reaches Envoy. One pure function
 * fills the defaults.
 *
 * Pod layout (the same as the reference sidecar's, so both data planes are called alike): inbound
 * listeners on 0.0.0.0:<workload port>, the app on 127.0.0.1:15080, outbound listeners for the app
 * on 127.0.0.1 from 15001 up, the admin interface on a Unix socket in the sidecar's private folder
 * (only the harness reaches it), the access log beside it. Envoy's files are under envoy/: the
 * bootstrap, and the listeners, clusters and secrets it watches (xds `files`), or everything in
 * the bootstrap (xds `static`, for reading and tests).
 */
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { POD_DIR_IN_CONTAINER } from '../../runtime/types.ts';
import type { CertificateSource } from './tls.ts';

export interface EnvoyRenderOptions {
  /** The app's port on 127.0.0.1 (default 15080). */
  readonly appPort?: number;
  /** Folder in the sidecar holding cert-chain.pem, key.pem, root-cert.pem (`..data` layout). */
  readonly certDir?: string;
  /**
   * `sds` (default): file-based SDS secrets `default` and `ROOTCA` with `watched_directory`, so a
   * rotated `..data` link is picked up, as Istio's agent-served SDS is. `files`: the certificate
   * files inline in each TLS context, as the mapping's reference configs write them (read once).
   */
  readonly certificates?: CertificateSource;
  /** `files` (default): listeners and clusters from files Envoy watches, rewritten as istiod pushes. `static`: all in the bootstrap. */
  readonly xds?: 'files' | 'static';
  /** Folder of the bootstrap, xDS and SDS files inside the sidecar. */
  readonly configDir?: string;
  /** The admin interface: a Unix socket path (default `<pod dir>/admin.sock`), or null for 127.0.0.1:15000. */
  readonly adminSocket?: string | null;
  /** JSON-lines access log file (default `<pod dir>/access.log`), or null for none. */
  readonly accessLog?: string | null;
  /** Circuit-breaker `track_remaining` (Istio ≤ 1.28: true, ≥ 1.29: false). Default true, for the remaining_* gauges. */
  readonly trackRemaining?: boolean;
}

export interface ResolvedRenderOptions {
  readonly appPort: number;
  readonly certDir: string;
  readonly certificates: CertificateSource;
  readonly xds: 'files' | 'static';
  readonly configDir: string;
  readonly adminSocket: string | null;
  readonly accessLog: string | null;
  readonly trackRemaining: boolean;
}

/** Where the bootstrap and the files it watches live inside the sidecar container. */
export const ENVOY_CONFIG_DIR = `${POD_DIR_IN_CONTAINER}/envoy`;
export const ENVOY_BOOTSTRAP_FILE = 'envoy.yaml';
export const ENVOY_LDS_FILE = 'lds.yaml';
export const ENVOY_CDS_FILE = 'cds.yaml';
export const ENVOY_ADMIN_SOCKET = 'admin.sock';
export const ENVOY_ACCESS_LOG = 'access.log';
export const ENVOY_APP_PORT = 15080;
/** Admin on loopback when no socket is used (Istio's 15000). */
export const ENVOY_ADMIN_PORT = 15000;

export function resolveRenderOptions(options: EnvoyRenderOptions = {}): ResolvedRenderOptions {
  const appPort = options.appPort ?? ENVOY_APP_PORT;
  if (!Number.isInteger(appPort) || appPort < 1 || appPort > 65535) throw new MeshproofError(ErrorCode.BadArgument, `app port must be a port number, found ${String(options.appPort)}`);
  return {
    appPort,
    certDir: options.certDir ?? `${POD_DIR_IN_CONTAINER}/certs`,
    certificates: options.certificates ?? 'sds',
    xds: options.xds ?? 'files',
    configDir: options.configDir ?? ENVOY_CONFIG_DIR,
    adminSocket: options.adminSocket === undefined ? `${POD_DIR_IN_CONTAINER}/${ENVOY_ADMIN_SOCKET}` : options.adminSocket,
    accessLog: options.accessLog === undefined ? `${POD_DIR_IN_CONTAINER}/${ENVOY_ACCESS_LOG}` : options.accessLog,
    trackRemaining: options.trackRemaining ?? true,
  };
}
