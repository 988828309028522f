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

/** What the access log records: the evidence a verdict rests on (response flags, peer identity, details). */
const ACCESS_LOG_FORMAT: JsonObject = {
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  authority: '%REQ(:AUTHORITY)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_host: '%UPSTREAM_HOST%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  downstream_peer_uri_san: '%DOWNSTREAM_PEER_URI_SAN%',
  duration_ms: '%DURATION%',
};

export function stdoutAccessLog(): JsonObject[] {
  return [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': typeUrl('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog'), log_format: { json_format: ACCESS_LOG_FORMAT } } }];
}

export function hcmFilter(config: JsonObject): JsonObject {
  return { name: HCM_FILTER, typed_config: { '@type': HCM_TYPE, ...config } };
}

export function tcpProxyFilter(statPrefix: string, cluster: string, accessLog: boolean): JsonObject {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: { '@type': typeUrl('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'), stat_prefix: statPrefix, cluster, ...(accessLog ? { access_log: stdoutAccessLog() } : {}) },
  };
}

export function socketAddress(address: string, port: number): JsonObject {
  return { socket_address: { address, port_value: port } };
}

/** One endpoint per host; `metadata` marks endpoints Istio's auto mTLS sends TLS to. */
export function loadAssignment(cluster: string, endpoints: readonly { readonly host: string; readonly port: number; readonly metadata?: JsonObject }[]): JsonObject {
  return {
    cluster_name: cluster,
    endpoints: [{ lb_endpoints: endpoints.map((e) => ({ endpoint: { address: socketAddress(e.host, e.port) }, ...(e.metadata === undefined ? {} : { metadata: e.metadata }) })) }],
  };
}

export function defaultThresholds(trackRemaining: boolean): JsonObject {
  return { max_connections: UNLIMITED, max_pending_requests: UNLIMITED, max_requests: UNLIMITED, max_retries: UNLIMITED, track_remaining: trackRemaining };
}
