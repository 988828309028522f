/**
 * The istiod translation's outbound side (istiod/outbound-config.ts) written as Envoy listeners
 * and clusters. Every decision (which clusters, their limits and outlier detection, routes with
 * timeouts, retries and faults, durations after the time scale) was made by the translation; here
 * each field is written where Envoy reads it (envoy-mapping.md §3):
 *
 * - cluster: `circuit_breakers.thresholds[0]`, `HttpProtocolOptions` (idle timeout, requests per
 *   connection), `outlier_detection` with Istio's enforcing percentages (100, or 0 when off) and
 *   `enforcing_success_rate: 0`, `common_lb_config.healthy_panic_threshold`, endpoints by DNS name
 *   (STRICT_DNS) labelled `tlsMode: istio` where auto mTLS sends TLS, and Istio's
 *   `transport_socket_matches` (mutual TLS with secure naming, else plaintext), or one
 *   `transport_socket` where the DestinationRule sets ISTIO_MUTUAL;
 * - route: one Envoy route per match entry, `timeout`, `retry_policy` (previous-hosts predicate,
 *   back-off when not Envoy's 25 ms), fault as per-route config of the HCM's empty fault filter,
 *   and the response flags in a response header (`%RESPONSE_FLAGS%`) when the translation asks.
 */
import type { ClusterConfig, FaultConfig, OutboundConfig, OutboundListenerConfig, RetryConfig, RouteConfig, RouteMatchConfig, StringMatchConfig } from '../istiod/outbound-config.ts';
import { ENVOY_SERVER_NAME } from '../istiod/istio-constants.ts';
import { EMPTY_FAULT_FILTER, FAULT_FILTER, FAULT_TYPE, fileAccessLog, hcmFilter, RAW_BUFFER_SOCKET, ROUTER_FILTER, seconds, socketAddress, tcpProxyFilter, type AccessLogContext } from './filters.ts';
import { typeUrl, type JsonObject, type JsonValue } from './json.ts';
import { upstreamTlsSocket, type TlsFiles } from './tls.ts';

const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
/** Envoy's retry back-off base when none is set; istiod writes `retry_back_off` only for another. */
const ENVOY_BACKOFF_BASE_MS = 25;
const ENVOY_IDLE_TIMEOUT_MS = 3_600_000;
const ENVOY_UPDATE_MERGE_WINDOW_MS = 1_000;
const PREVIOUS_HOSTS: JsonObject = { name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': typeUrl('envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate') } };

export interface OutboundContext {
  readonly tls: TlsFiles;
  readonly accessLog: AccessLogContext | undefined;
  readonly trackRemaining: boolean;
}

function isIp(address: string): boolean {
  return /^[\d.]+$/.test(address) || address.includes(':');
}

function outlierJson(c: ClusterConfig): JsonObject | undefined {
  const od = c.outlierDetection;
  if (od === undefined) return undefined;
  return {
    consecutive_5xx: od.consecutive5xx,
    enforcing_consecutive_5xx: od.enforcingConsecutive5xx ? 100 : 0,
    consecutive_gateway_failure: od.consecutiveGatewayFailure,
    enforcing_consecutive_gateway_failure: od.enforcingConsecutiveGatewayFailure ? 100 : 0,
    ...(od.splitExternalLocalOriginErrors
      ? { split_external_local_origin_errors: true, consecutive_local_origin_failure: od.consecutiveLocalOriginFailure, enforcing_consecutive_local_origin_failure: od.enforcingConsecutiveLocalOriginFailure ? 100 : 0, enforcing_local_origin_success_rate: 0 }
      : {}),
    interval: seconds(od.intervalMs),
    base_ejection_time: seconds(od.baseEjectionTimeMs),
    max_ejection_time: seconds(od.maxEjectionTimeMs),
    max_ejection_percent: od.maxEjectionPercent,
    enforcing_success_rate: 0,
  };
}

export function clusterJson(c: ClusterConfig, ctx: OutboundContext): JsonObject {
  const dns = c.endpoints.some((e) => !isIp(e.address));
  const outlier = outlierJson(c);
  const anyTls = c.endpoints.some((e) => e.tls);
  const tlsSocket = (): JsonObject => upstreamTlsSocket(ctx.tls, c.tls.sni, c.tls.subjectAltNames, c.tls.alpn);
  const common: Record<string, JsonValue> = {};
  // Envoy's default idle timeout is 1 h; istiod writes one only when the rule sets it.
  if (c.idleTimeoutMs > 0 && c.idleTimeoutMs !== ENVOY_IDLE_TIMEOUT_MS) common['idle_timeout'] = seconds(c.idleTimeoutMs);
  if (c.maxRequestsPerConnection > 0) common['max_requests_per_connection'] = c.maxRequestsPerConnection;
  return {
    name: c.name,
    type: dns ? 'STRICT_DNS' : 'STATIC',
    ...(dns ? { dns_lookup_family: 'V4_ONLY' } : {}),
    connect_timeout: seconds(c.connectTimeoutMs),
    lb_policy: c.lbPolicy,
    circuit_breakers: {
      thresholds: [
        {
          max_connections: c.circuitBreakers.maxConnections,
          max_pending_requests: c.circuitBreakers.maxPendingRequests,
          max_requests: c.circuitBreakers.maxRequests,
          max_retries: c.circuitBreakers.maxRetries,
          track_remaining: ctx.trackRemaining,
        },
      ],
    },
    typed_extension_protocol_options: {
      [HTTP_OPTIONS_KEY]: { '@type': typeUrl(HTTP_OPTIONS_KEY), ...(Object.keys(common).length === 0 ? {} : { common_http_protocol_options: common }), explicit_http_config: { http_protocol_options: {} } },
    },
    ...(outlier === undefined ? {} : { outlier_detection: outlier }),
    common_lb_config: {
      healthy_panic_threshold: { value: c.healthyPanicThreshold },
      // Envoy's default is 1 s, which istiod leaves; written only when the time scale changed it.
      ...(c.updateMergeWindowMs === undefined || c.updateMergeWindowMs === ENVOY_UPDATE_MERGE_WINDOW_MS ? {} : { update_merge_window: seconds(c.updateMergeWindowMs) }),
    },
    load_assignment: {
      cluster_name: c.name,
      endpoints: [
        {
          lb_endpoints: c.endpoints.map((e) => ({
            endpoint: { address: socketAddress(e.address, e.port), ...(e.pod === undefined ? {} : { hostname: e.pod }) },
            ...(e.tls && c.tls.auto ? { metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } } } : {}),
          })),
        },
      ],
    },
    ...(anyTls && !c.tls.auto ? { transport_socket: tlsSocket() } : {}),
    ...(anyTls && c.tls.auto
      ? {
          transport_socket_matches: [
            { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: tlsSocket() },
            { name: 'tlsMode-disabled', match: {}, transport_socket: RAW_BUFFER_SOCKET },
          ],
        }
      : {}),
  };
}

function stringMatchJson(m: StringMatchConfig): JsonObject {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.regex !== undefined) return { safe_regex: { regex: m.regex } };
  return { prefix: m.prefix ?? '' };
}

function matchJson(m: RouteMatchConfig | undefined): JsonObject {
  const uri = m?.uri;
  const path = uri === undefined ? { prefix: '/' } : uri.exact !== undefined ? { path: uri.exact } : uri.regex !== undefined ? { safe_regex: { regex: uri.regex } } : { prefix: uri.prefix === '' || uri.prefix === undefined ? '/' : uri.prefix };
  const headers: JsonObject[] = [];
  if (m?.method !== undefined) headers.push({ name: ':method', string_match: stringMatchJson(m.method) });
  if (m?.authority !== undefined) headers.push({ name: ':authority', string_match: stringMatchJson(m.authority) });
  for (const [name, value] of Object.entries(m?.headers ?? {})) headers.push({ name, string_match: stringMatchJson(value) });
  return { ...path, ...(m?.ignoreUriCase === true ? { case_sensitive: false } : {}), ...(headers.length === 0 ? {} : { headers }) };
}

function retryJson(r: RetryConfig): JsonObject {
  return {
    retry_on: r.retryOn.join(','),
    num_retries: r.numRetries,
    ...(r.perTryTimeoutMs === undefined ? {} : { per_try_timeout: seconds(r.perTryTimeoutMs) }),
    ...(r.retriableStatusCodes.length === 0 ? {} : { retriable_status_codes: [...r.retriableStatusCodes] }),
    ...(r.previousHosts ? { retry_host_predicate: [PREVIOUS_HOSTS] } : {}),
    host_selection_retry_max_attempts: r.hostSelectionMaxAttempts,
    // Envoy's back-off: base 25 ms, max 10 × base; istiod writes the base only when the route sets one.
    ...(r.backoffBaseMs === ENVOY_BACKOFF_BASE_MS && r.backoffMaxMs === 10 * ENVOY_BACKOFF_BASE_MS
      ? {}
      : { retry_back_off: { base_interval: seconds(r.backoffBaseMs), ...(r.backoffMaxMs === 10 * r.backoffBaseMs ? {} : { max_interval: seconds(r.backoffMaxMs) }) } }),
  };
}

function faultJson(f: FaultConfig): JsonObject {
  const percentage = (millionths: number): JsonObject => ({ numerator: millionths, denominator: 'MILLION' });
  return {
    '@type': FAULT_TYPE,
    ...(f.delay === undefined ? {} : { delay: { fixed_delay: seconds(f.delay.fixedDelayMs), percentage: percentage(f.delay.millionths) } }),
    ...(f.abort === undefined ? {} : { abort: { ...(f.abort.grpcStatus === undefined ? { http_status: f.abort.httpStatus } : { grpc_status: f.abort.grpcStatus }), percentage: percentage(f.abort.millionths) } }),
  };
}

function routesJson(r: RouteConfig, flagsHeader: string | undefined): JsonObject[] {
  const action: JsonObject = {
    ...(r.clusters.length === 1 ? { cluster: r.clusters[0]!.name } : { weighted_clusters: { clusters: r.clusters.map((c) => ({ name: c.name, weight: c.weight })) } }),
    timeout: seconds(r.timeoutMs),
    ...(r.retry === undefined ? {} : { retry_policy: retryJson(r.retry) }),
  };
  const entries: (RouteMatchConfig | undefined)[] = r.match.length === 0 ? [undefined] : [...r.match];
  return entries.map((m) => ({
    name: r.source,
    match: matchJson(m),
    route: action,
    ...(r.fault === undefined ? {} : { typed_per_filter_config: { [FAULT_FILTER]: faultJson(r.fault) } }),
    ...(flagsHeader === undefined ? {} : { response_headers_to_add: [{ header: { key: flagsHeader, value: '%RESPONSE_FLAGS%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] }),
  }));
}

function listenerJson(l: OutboundListenerConfig, bindAddress: string, flagsHeader: string | undefined, ctx: OutboundContext): JsonObject {
  const log = ctx.accessLog === undefined ? undefined : fileAccessLog({ ...ctx.accessLog, direction: 'outbound' });
  if (l.protocol === 'tcp') {
    return { name: l.name, address: socketAddress(bindAddress, l.port), filter_chains: [{ filters: [tcpProxyFilter(l.name, l.cluster ?? '', log)] }] };
  }
  return {
    name: l.name,
    address: socketAddress(bindAddress, l.port),
    filter_chains: [
      {
        filters: [
          hcmFilter({
            stat_prefix: l.name,
            codec_type: 'AUTO',
            server_name: ENVOY_SERVER_NAME,
            route_config: {
              name: String(l.servicePort),
              virtual_hosts: (l.virtualHosts ?? []).map((vh) => ({
                name: vh.name,
                domains: [...vh.domains],
                routes: vh.routes.flatMap((r) => routesJson(r, flagsHeader)),
                // Istio counts attempts to the upstream; the count in the response is the harness's
                // reading aid, as the response-flags header is (the reference sidecar writes both).
                include_request_attempt_count: true,
                include_attempt_count_in_response: true,
              })),
              // Local replies with no route (404 NR) carry the flags too.
              ...(flagsHeader === undefined ? {} : { response_headers_to_add: [{ header: { key: flagsHeader, value: '%RESPONSE_FLAGS%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] }),
            },
            http_filters: [EMPTY_FAULT_FILTER, ROUTER_FILTER],
            ...(log === undefined ? {} : { access_log: log }),
          }),
        ],
      },
    ],
  };
}

/** Envoy listeners and clusters for the translated outbound side. */
export function outboundJson(o: OutboundConfig, ctx: OutboundContext): { readonly listeners: JsonObject[]; readonly clusters: JsonObject[] } {
  return {
    listeners: o.listeners.map((l) => listenerJson(l, o.bindAddress, o.responseFlagsHeader, ctx)),
    clusters: o.clusters.map((c) => clusterJson(c, ctx)),
  };
}
