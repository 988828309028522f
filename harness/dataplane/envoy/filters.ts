/** The small Envoy building blocks every listener and cluster of a sidecar shares. */
import { typeUrl, type JsonObject } from './json.ts';

export const HCM_FILTER = 'envoy.filters.network.http_connection_manager';
const HCM_TYPE = typeUrl('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
export const FAULT_FILTER = 'envoy.filters.http.fault';
export const FAULT_TYPE = typeUrl('envoy.extensions.filters.http.fault.v3.HTTPFault');

/** Istio's circuit-breaker default: every threshold at its maximum (not Envoy's 1024/1024/1024/3). */
export const UNLIMITED = 4294967295;

export const ROUTER_FILTER: JsonObject = { name: 'envoy.filters.http.router', typed_config: { '@type': typeUrl('envoy.extensions.filters.http.router.v3.Router') } };
/** Empty at the HCM; per-route `typed_per_filter_config` does the work (istiod listener_builder). */
export const EMPTY_FAULT_FILTER: JsonObject = { name: FAULT_FILTER, typed_config: { '@type': FAULT_TYPE } };
export const TLS_INSPECTOR: JsonObject = { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': typeUrl('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector') } };
export const RAW_BUFFER_SOCKET: JsonObject = { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': typeUrl('envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer') } };

/** A duration in milliseconds (already time-scaled by the translation) as Envoy's JSON writes it. */
export function seconds(ms: number): string {
  return `${Math.round(ms) / 1000}s`;
}

/** Where an access log goes and what it says about the sidecar that writes it. */
export interface AccessLogContext {
  /** The file, as the container sees it. */
  readonly path: string;
  /** The pod whose sidecar writes the line. */
  readonly pod: string;
  readonly direction?: 'inbound' | 'outbound';
  /** Set on chains whose transport is known: `mutual_tls` on an mTLS chain, `none` on a plaintext one. */
  readonly connectionSecurity?: 'mutual_tls' | 'none';
}

/**
 * One JSON line per request or connection, with the fields of meshproof's AccessLogEntry
 * (harness/traffic/types.ts): the evidence a verdict rests on (response flags, code details
 * naming the RBAC policy, the peer's identity, the upstream host). Empty values are left out.
 */
export function fileAccessLog(ctx: AccessLogContext): JsonObject[] {
  const format: Record<string, string> = {
    time: '%START_TIME%',
    direction: ctx.direction ?? 'inbound',
    pod: ctx.pod,
    downstreamAddress: '%DOWNSTREAM_REMOTE_ADDRESS%',
    downstreamPrincipal: '%DOWNSTREAM_PEER_URI_SAN%',
    method: '%REQ(:METHOD)%',
    path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
    authority: '%REQ(:AUTHORITY)%',
    status: '%RESPONSE_CODE%',
    responseFlags: '%RESPONSE_FLAGS%',
    responseCodeDetails: '%RESPONSE_CODE_DETAILS%',
    connectionTerminationDetails: '%CONNECTION_TERMINATION_DETAILS%',
    upstreamTransportFailureReason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
    upstreamCluster: '%UPSTREAM_CLUSTER%',
    upstreamHost: '%UPSTREAM_HOST%',
    durationMs: '%DURATION%',
    auditHint: '%DYNAMIC_METADATA(envoy.common:access_log_hint)%',
  };
  if (ctx.connectionSecurity !== undefined) format['connectionSecurity'] = ctx.connectionSecurity;
  return [
    {
      name: 'envoy.access_loggers.file',
      typed_config: { '@type': typeUrl('envoy.extensions.access_loggers.file.v3.FileAccessLog'), path: ctx.path, log_format: { json_format: format, omit_empty_values: true } },
    },
  ];
}

export function hcmFilter(config: JsonObject): JsonObject {
  return { name: HCM_FILTER, typed_config: { '@type': HCM_TYPE, ...config } };
}

export function tcpProxyFilter(statPrefix: string, cluster: string, accessLog: JsonObject[] | undefined): JsonObject {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: { '@type': typeUrl('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'), stat_prefix: statPrefix, cluster, ...(accessLog === undefined ? {} : { access_log: accessLog }) },
  };
}

export function socketAddress(address: string, port: number): JsonObject {
  return { socket_address: { address, port_value: port } };
}

/** One endpoint per host. */
export function loadAssignment(cluster: string, endpoints: readonly { readonly host: string; readonly port: number }[]): JsonObject {
  return { cluster_name: cluster, endpoints: [{ lb_endpoints: endpoints.map((e) => ({ endpoint: { address: socketAddress(e.host, e.port) } })) }] };
}

export function defaultThresholds(trackRemaining: boolean): JsonObject {
  return { max_connections: UNLIMITED, max_pending_requests: UNLIMITED, max_requests: UNLIMITED, max_retries: UNLIMITED, track_remaining: trackRemaining };
}
