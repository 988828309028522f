/**
 * DestinationRule → outbound cluster, as istiod's cluster_traffic_policy.go and cluster_tls.go
 * build it (envoy-mapping.md §3.2, §3.3):
 *
 * - `circuit_breakers.thresholds[0]`: every limit 4294967295 unless the DR sets it (> 0);
 * - `typed_extension_protocol_options[envoy.extensions.upstreams.http.v3.HttpProtocolOptions]`
 *   for max_requests_per_connection / idle_timeout / max_connection_duration (where Envoy ≥ 1.20
 *   keeps them), with `explicit_http_config.http_protocol_options: {}`;
 * - `outlier_detection` only when the DR has the block: success-rate ejection off, enforcing
 *   100 (or 0 for an explicit 0), `healthy_panic_threshold` = minHealthPercent (default 0);
 * - TLS: ISTIO_MUTUAL → the workload certificate, SNI `outbound_.<port>_._.<host>` and the
 *   server identities exactly; no DR TLS → Istio's auto mTLS (`transport_socket_matches`: TLS to
 *   endpoints labelled `tlsMode: istio`, i.e. whose port is not DISABLE, plaintext otherwise).
 *
 * Time scale: every duration the DR writes is scaled; so are Envoy's outlier defaults the
 * suites depend on (interval 10s, base_ejection_time 30s, max_ejection_time 300s), written out
 * only when the scale is not 1. The 10s MeshConfig connect timeout is infrastructure, not scaled.
 */
import { durationMs } from '../../model/duration.ts';
import type { ClientTlsSettings, ConnectionPoolSettings, OutlierDetectionSettings, TrafficPolicy } from '../../model/resources.ts';
import { defaultThresholds, loadAssignment, RAW_BUFFER_SOCKET } from './filters.ts';
import { typeUrl, type JsonObject } from './json.ts';
import { envoyDuration, type ResolvedRenderOptions } from './render-options.ts';
import { upstreamTlsSocket } from './tls.ts';

const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const TRANSPORT_SOCKET_MATCH = 'envoy.transport_socket_match';
const ENVOY_OUTLIER_DEFAULTS_MS = { interval: 10_000, baseEjectionTime: 30_000, maxEjectionTime: 300_000 } as const;

export interface UpstreamEndpoint {
  readonly host: string;
  readonly port: number;
  /** False when the endpoint's port is DISABLE (auto mTLS then sends plaintext). */
  readonly acceptsMtls: boolean;
}

export interface OutboundClusterInput {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly trafficPolicy?: TrafficPolicy;
  readonly endpoints: readonly UpstreamEndpoint[];
  /** SPIFFE ids of the service accounts behind the service (secure naming). */
  readonly serverIdentities: readonly string[];
}

export interface RenderNote {
  readonly message: string;
}

function thresholds(pool: ConnectionPoolSettings | undefined, trackRemaining: boolean): JsonObject {
  const t: Record<string, unknown> = { ...defaultThresholds(trackRemaining) };
  const set = (field: string, value: number | undefined): void => {
    if (value !== undefined && value > 0) t[field] = value;
  };
  set('max_connections', pool?.tcp?.maxConnections);
  set('max_pending_requests', pool?.http?.http1MaxPendingRequests);
  set('max_requests', pool?.http?.http2MaxRequests);
  set('max_retries', pool?.http?.maxRetries);
  return t as JsonObject;
}

function httpProtocolOptions(pool: ConnectionPoolSettings | undefined, scale: number): JsonObject | undefined {
  const common: Record<string, string | number> = {};
  const perConnection = pool?.http?.maxRequestsPerConnection;
  if (perConnection !== undefined && perConnection > 0) common['max_requests_per_connection'] = perConnection;
  const idle = pool?.http?.idleTimeout ?? pool?.tcp?.idleTimeout;
  if (idle !== undefined) common['idle_timeout'] = envoyDuration(durationMs(idle), scale);
  const maxDuration = pool?.tcp?.maxConnectionDuration;
  if (maxDuration !== undefined) common['max_connection_duration'] = envoyDuration(durationMs(maxDuration), scale);
  if (Object.keys(common).length === 0) return undefined;
  return { [HTTP_OPTIONS_KEY]: { '@type': typeUrl(HTTP_OPTIONS_KEY), common_http_protocol_options: common, explicit_http_config: { http_protocol_options: {} } } };
}

/** istiod applyOutlierDetection, plus the time-scaled Envoy defaults. */
function outlierDetection(od: OutlierDetectionSettings, scale: number): { outlier: JsonObject; panicThreshold: number } {
  const out: Record<string, unknown> = {};
  // Deprecated consecutiveErrors: istiod counts it as gateway errors only (istio/api#617).
  if (od.consecutiveErrors !== undefined && od.consecutiveErrors > 0) {
    out['consecutive_gateway_failure'] = od.consecutiveErrors;
    out['enforcing_consecutive_gateway_failure'] = 100;
    out['enforcing_consecutive_5xx'] = 0;
  }
  if (od.consecutive5xxErrors !== undefined) {
    out['consecutive_5xx'] = od.consecutive5xxErrors;
    out['enforcing_consecutive_5xx'] = od.consecutive5xxErrors > 0 ? 100 : 0;
  }
  if (od.consecutiveGatewayErrors !== undefined) {
    out['consecutive_gateway_failure'] = od.consecutiveGatewayErrors;
    out['enforcing_consecutive_gateway_failure'] = od.consecutiveGatewayErrors > 0 ? 100 : 0;
  }
  const scaled = scale !== 1;
  if (od.interval !== undefined) out['interval'] = envoyDuration(durationMs(od.interval), scale);
  else if (scaled) out['interval'] = envoyDuration(ENVOY_OUTLIER_DEFAULTS_MS.interval, scale);
  if (od.baseEjectionTime !== undefined) out['base_ejection_time'] = envoyDuration(durationMs(od.baseEjectionTime), scale);
  else if (scaled) out['base_ejection_time'] = envoyDuration(ENVOY_OUTLIER_DEFAULTS_MS.baseEjectionTime, scale);
  if (scaled) {
    // Envoy: max_ejection_time defaults to 300s, or base_ejection_time when that is larger.
    const base = od.baseEjectionTime === undefined ? ENVOY_OUTLIER_DEFAULTS_MS.baseEjectionTime : durationMs(od.baseEjectionTime);
    out['max_ejection_time'] = envoyDuration(Math.max(ENVOY_OUTLIER_DEFAULTS_MS.maxEjectionTime, base), scale);
  }
  if (od.maxEjectionPercent !== undefined && od.maxEjectionPercent > 0) out['max_ejection_percent'] = od.maxEjectionPercent;
  if (od.splitExternalLocalOriginErrors === true) {
    out['split_external_local_origin_errors'] = true;
    if (od.consecutiveLocalOriginFailures !== undefined && od.consecutiveLocalOriginFailures > 0) {
      out['consecutive_local_origin_failure'] = od.consecutiveLocalOriginFailures;
      out['enforcing_consecutive_local_origin_failure'] = 100;
    }
    out['enforcing_local_origin_success_rate'] = 0;
  }
  out['enforcing_success_rate'] = 0;
  return { outlier: out as JsonObject, panicThreshold: od.minHealthPercent ?? 0 };
}

const LB_POLICIES: Readonly<Record<string, string>> = { ROUND_ROBIN: 'ROUND_ROBIN', LEAST_REQUEST: 'LEAST_REQUEST', LEAST_CONN: 'LEAST_REQUEST', RANDOM: 'RANDOM', UNSPECIFIED: 'LEAST_REQUEST' };

function lbPolicy(tp: TrafficPolicy | undefined, notes: RenderNote[], cluster: string): string {
  const lb = tp?.loadBalancer;
  if (lb === undefined) return 'LEAST_REQUEST';
  const simple = lb['simple'];
  if (typeof simple === 'string' && LB_POLICIES[simple] !== undefined) return LB_POLICIES[simple];
  notes.push({ message: `${cluster}: loadBalancer ${JSON.stringify(lb)} is not rendered; Istio's default LEAST_REQUEST is used` });
  return 'LEAST_REQUEST';
}

/** Istio's default SNI for a cluster: BuildDNSSrvSubsetKey(outbound, subset, host, port). */
export function istioSni(host: string, port: number): string {
  return `outbound_.${port}_._.${host}`;
}

function transport(input: OutboundClusterInput, tls: ClientTlsSettings | undefined, o: ResolvedRenderOptions, notes: RenderNote[]): JsonObject {
  const sans = tls?.subjectAltNames !== undefined && tls.subjectAltNames.length > 0 ? tls.subjectAltNames : input.serverIdentities;
  const socket = (): JsonObject => upstreamTlsSocket(o, tls?.sni ?? istioSni(input.host, input.port), sans);
  switch (tls?.mode) {
    case 'ISTIO_MUTUAL':
      return { transport_socket: socket() };
    case 'DISABLE':
      return {};
    case 'SIMPLE':
    case 'MUTUAL':
      notes.push({ message: `${input.name}: DestinationRule tls.mode ${tls.mode} needs credentials meshproof does not model; the cluster sends plaintext` });
      return {};
    default:
      return {
        transport_socket_matches: [
          { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: socket() },
          { name: 'tlsMode-disabled', match: {}, transport_socket: RAW_BUFFER_SOCKET },
        ],
      };
  }
}

export function outboundCluster(input: OutboundClusterInput, o: ResolvedRenderOptions, notes: RenderNote[]): JsonObject {
  const tp = input.trafficPolicy;
  const pool = tp?.connectionPool;
  const connectTimeout = pool?.tcp?.connectTimeout === undefined ? '10s' : envoyDuration(durationMs(pool.tcp.connectTimeout), o.timeScale);
  const od = tp?.outlierDetection === undefined ? undefined : outlierDetection(tp.outlierDetection, o.timeScale);
  const protocolOptions = httpProtocolOptions(pool, o.timeScale);
  const auto = tp?.tls?.mode === undefined;
  const dns = input.endpoints.some((e) => !/^[\d.]+$|:/.test(e.host));
  return {
    name: input.name,
    type: dns ? 'STRICT_DNS' : 'STATIC',
    ...(dns ? { dns_lookup_family: 'V4_ONLY', dns_refresh_rate: '1s' } : {}),
    connect_timeout: connectTimeout,
    lb_policy: lbPolicy(tp, notes, input.name),
    circuit_breakers: { thresholds: [thresholds(pool, o.trackRemaining)] },
    ...(protocolOptions === undefined ? {} : { typed_extension_protocol_options: protocolOptions }),
    ...(od === undefined ? {} : { outlier_detection: od.outlier, common_lb_config: { healthy_panic_threshold: { value: od.panicThreshold } } }),
    load_assignment: loadAssignment(
      input.name,
      input.endpoints.map((e) => ({ host: e.host, port: e.port, ...(auto && e.acceptsMtls ? { metadata: { filter_metadata: { [TRANSPORT_SOCKET_MATCH]: { tlsMode: 'istio' } } } } : {}) })),
    ),
    ...transport(input, tp?.tls, o, notes),
  };
}
