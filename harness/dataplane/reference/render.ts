/**
 * Render: the istiod translation of one proxy (istiod/proxy-config.ts) → the reference sidecar's
 * config file (config.ts). The translation decides what the proxy enforces; this adds only where
 * the reference sidecar puts things in its pod: inbound listeners on the workload ports with the
 * app behind them on 127.0.0.1:<appPort>, the admin socket and port, the access log, drain and
 * header limits. Paths in the config are relative to the config file's folder, so the same file
 * works in a pod (/run/meshproof) and in a local folder.
 */
import { ErrorCode, MeshproofError } from '../../errors.ts';
import type { ResolvedMesh } from '../../model/resolve.ts';
import { OUTBOUND_BASE_PORT, translateProxy } from '../istiod/proxy-config.ts';
import type { OutboundTranslateOptions } from '../istiod/translate-outbound.ts';
import { RESPONSE_FLAGS_HEADER, SIDECAR_CERT_DIR, type ProxyTarget, type RenderOptions } from '../types.ts';
import { SIDECAR_CONFIG_API, type SidecarConfig } from './config.ts';

export const SIDECAR_CONFIG_FILE = 'sidecar.json';
export const ADMIN_SOCKET = 'admin.sock';
export const ACCESS_LOG_FILE = 'access.log';
/** Envoy's admin port, inside the pod only. */
export const ADMIN_PORT = 15000;

export interface ReferenceRenderOptions extends RenderOptions {
  /** The port the app listens on, on 127.0.0.1; must differ from every workload port. */
  readonly appPort: number;
  /** Inbound bind address. Default 0.0.0.0 (every address of the pod). */
  readonly bindAddress?: string;
  /** Admin TCP port on 127.0.0.1; null for the Unix socket only. Default 15000. */
  readonly adminPort?: number | null;
  /** Also print the access log on stdout. Default true. */
  readonly accessLogStdout?: boolean;
  /** How long connections of an older config may stay open. Default 1 s, the Envoy adapter's `--drain-time-s` (Istio drains for 45 s). */
  readonly drainTimeoutMs?: number;
  /** Istio's ALPN rule on PERMISSIVE ports (default true; see ProxyInboundPort.mtlsAlpn). */
  readonly istioAlpnOnPermissive?: boolean;
  /** First outbound listener port. Default 15001. */
  readonly outboundBasePort?: number;
  /** Where outbound listeners bind. Default 127.0.0.1 (only the pod's own app reaches them). */
  readonly outboundBindAddress?: string;
  /** Where a replica serves a workload port (default: its pod's DNS name, that port). */
  readonly endpointAddress?: OutboundTranslateOptions['endpointAddress'];
  /** Header carrying the response flags on outbound responses; null for none. Default RESPONSE_FLAGS_HEADER. */
  readonly responseFlagsHeader?: string | null;
}

export function renderSidecarConfig(mesh: ResolvedMesh, target: ProxyTarget, options: ReferenceRenderOptions): SidecarConfig {
  const adminPort = options.adminPort === undefined ? ADMIN_PORT : options.adminPort;
  if (target.kind === 'workload') {
    const w = target.workload;
    for (const p of w.ports) {
      if (p.port === options.appPort || p.port === adminPort) {
        throw new MeshproofError(ErrorCode.BadArgument, `workload ${w.key} port ${p.port} collides with the ${p.port === options.appPort ? 'app port' : 'sidecar admin port'} of the reference sidecar`, {
          hint: `use another port in the topology, or render with another ${p.port === options.appPort ? 'appPort' : 'adminPort'}`,
        });
      }
    }
  }
  const flagsHeader = options.responseFlagsHeader === undefined ? RESPONSE_FLAGS_HEADER : options.responseFlagsHeader;
  const proxy = translateProxy(mesh, target, {
    generation: options.generation,
    ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    basePort: options.outboundBasePort ?? OUTBOUND_BASE_PORT,
    taken: new Set([options.appPort, ...(adminPort === null ? [] : [adminPort])]),
    ...(options.istioAlpnOnPermissive === undefined ? {} : { istioAlpnOnPermissive: options.istioAlpnOnPermissive }),
    ...(options.outboundBindAddress === undefined ? {} : { bindAddress: options.outboundBindAddress }),
    ...(options.endpointAddress === undefined ? {} : { endpointAddress: options.endpointAddress }),
    ...(options.endpointOverrides === undefined ? {} : { endpointOverrides: options.endpointOverrides }),
    ...(flagsHeader === null ? {} : { responseFlagsHeader: flagsHeader }),
  });
  return {
    apiVersion: SIDECAR_CONFIG_API,
    generation: proxy.generation,
    node: proxy.node,
    mesh: proxy.mesh,
    certificates: { dir: SIDECAR_CERT_DIR },
    admin: { socket: ADMIN_SOCKET, ...(adminPort === null ? {} : { port: adminPort, address: '127.0.0.1' }) },
    accessLog: { path: ACCESS_LOG_FILE, stdout: options.accessLogStdout ?? true },
    inbound: {
      bindAddress: options.bindAddress ?? '0.0.0.0',
      appAddress: '127.0.0.1',
      ports: proxy.inbound.ports.map((p) => ({ ...p, appPort: options.appPort })),
      rbac: proxy.inbound.rbac,
      ...(proxy.inbound.jwtAuthn === undefined ? {} : { jwtAuthn: proxy.inbound.jwtAuthn }),
      listenerFiltersTimeoutMs: 15_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 1_000,
      maxRequestHeadersKb: 60,
    },
    ...(proxy.outbound === undefined ? {} : { outbound: proxy.outbound }),
    notes: proxy.notes,
    sources: proxy.sources,
  };
}
