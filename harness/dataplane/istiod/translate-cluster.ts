/**
 * A DestinationRule traffic policy → one reference cluster, read from istiod's translation
 * (istio-semantics.md §3, envoy-mapping.md §3.2, §3.3). This is the data plane's own reading of
 * the spec: the oracle reads the same fields on its own.
 *
 * - Circuit breakers: every limit is Istio's 2^32-1 unless the rule sets it; 0 means "unset"
 *   (Istio cannot tell an explicit 0 from unset).
 * - connectTimeout: the rule's, else MeshConfig's 10 s (infrastructure: not time-scaled).
 * - Outlier detection only with an `outlierDetection` block: consecutive 5xx default 5 (0
 *   disables), gateway errors off unless set, the deprecated `consecutiveErrors` counts gateway
 *   errors only, interval 10 s, base ejection 30 s, max ejection time max(300 s, base),
 *   maxEjectionPercent 10 (0 = default), panic threshold = minHealthPercent (default 0). These
 *   Envoy defaults are policy durations and are time-scaled like the rule's own.
 * - TLS: no `tls` in the rule is Istio's auto mTLS (mutual TLS to endpoints whose port is not
 *   DISABLE, plaintext to the others); ISTIO_MUTUAL forces mutual TLS, DISABLE plaintext.
 *   Secure naming expects the rule's subjectAltNames, else the SPIFFE ids of the service's
 *   service accounts (with each trust-domain alias [derived: istiod's alias expansion]).
 */
import { durationMs, scaleMs } from '../../model/duration.ts';
import type { OutlierDetectionSettings, TrafficPolicy } from '../../model/resources.ts';
import { ISTIO_CLIENT_ALPN, istioSni } from './istio-constants.ts';
import { ISTIO_UNLIMITED, type ClusterConfig, type EndpointConfig, type OutlierDetectionConfig } from './outbound-config.ts';

const MESH_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
const ENVOY_CONSECUTIVE = 5;
const ENVOY_INTERVAL_MS = 10_000;
const ENVOY_BASE_EJECTION_MS = 30_000;
const ENVOY_MAX_EJECTION_MS = 300_000;
const ENVOY_MAX_EJECTION_PERCENT = 10;
/** Envoy's healthy_panic_threshold when no one sets it (Istio sets it only with outlier detection, which alone ejects hosts). */
const ENVOY_PANIC_THRESHOLD = 50;
/** Envoy's common_lb_config.update_merge_window default, which istiod leaves alone. */
const ENVOY_UPDATE_MERGE_WINDOW_MS = 1_000;

export interface ClusterInput {
  readonly name: string;
  readonly service: string;
  readonly port: number;
  readonly subset?: string;
  /** Endpoints with `tls` as auto mTLS would choose it. */
  readonly endpoints: readonly EndpointConfig[];
  readonly trafficPolicy?: TrafficPolicy;
  /** SPIFFE ids secure naming accepts when the rule names none. */
  readonly identities: readonly string[];
  /** Where the policy came from, for notes: `DestinationRule prod/payment-cb (file:line)`. */
  readonly policySource?: string;
}

const limit = (value: number | undefined): number => (value !== undefined && value > 0 ? Math.min(value, ISTIO_UNLIMITED) : ISTIO_UNLIMITED);

export function renderCluster(input: ClusterInput, scale: number, note: (message: string) => void): ClusterConfig {
  const tp = input.trafficPolicy;
  const pool = tp?.connectionPool;
  const where = input.policySource === undefined ? input.name : `${input.policySource} (${input.name})`;
  const idle = pool?.http?.idleTimeout ?? pool?.tcp?.idleTimeout;
  const perConnection = pool?.http?.maxRequestsPerConnection;
  const tls = tp?.tls;
  let endpoints = input.endpoints;
  if (tls?.mode === 'ISTIO_MUTUAL') endpoints = endpoints.map((e) => ({ ...e, tls: true }));
  else if (tls?.mode === 'DISABLE') endpoints = endpoints.map((e) => ({ ...e, tls: false }));
  else if (tls?.mode === 'SIMPLE' || tls?.mode === 'MUTUAL') note(`${where}: tls mode ${tls.mode} (TLS origination with the user's own certificates) is not supported by the reference sidecar; its endpoints get auto mTLS`);
  const sans = tls?.mode === 'ISTIO_MUTUAL' && tls.subjectAltNames !== undefined && tls.subjectAltNames.length > 0 ? tls.subjectAltNames : input.identities;
  const od = tp?.outlierDetection;
  return {
    name: input.name,
    service: input.service,
    port: input.port,
    ...(input.subset === undefined ? {} : { subset: input.subset }),
    endpoints,
    connectTimeoutMs: pool?.tcp?.connectTimeout === undefined ? MESH_CONNECT_TIMEOUT_MS : Math.max(1, scaleMs(durationMs(pool.tcp.connectTimeout), scale)),
    lbPolicy: lbPolicy(tp, where, note),
    circuitBreakers: {
      maxConnections: limit(pool?.tcp?.maxConnections),
      maxPendingRequests: limit(pool?.http?.http1MaxPendingRequests),
      maxRequests: limit(pool?.http?.http2MaxRequests),
      maxRetries: limit(pool?.http?.maxRetries),
    },
    maxRequestsPerConnection: perConnection !== undefined && perConnection > 0 ? perConnection : 0,
    idleTimeoutMs: idle === undefined ? DEFAULT_IDLE_TIMEOUT_MS : scaleMs(durationMs(idle), scale),
    ...(od === undefined ? {} : { outlierDetection: outlierDetection(od, scale) }),
    healthyPanicThreshold: od === undefined ? ENVOY_PANIC_THRESHOLD : Math.min(100, Math.max(0, od.minHealthPercent ?? 0)),
    updateMergeWindowMs: scaleMs(ENVOY_UPDATE_MERGE_WINDOW_MS, scale),
    tls: { sni: tls?.sni ?? istioSni(input.service, input.port, input.subset), subjectAltNames: [...sans], alpn: [...ISTIO_CLIENT_ALPN], auto: tls?.mode === undefined || tls.mode === 'SIMPLE' || tls.mode === 'MUTUAL' },
  };
}

/** istiod applyLoadBalancer: LEAST_REQUEST unless the rule says otherwise (LEAST_CONN is its old name). */
function lbPolicy(tp: TrafficPolicy | undefined, where: string, note: (message: string) => void): ClusterConfig['lbPolicy'] {
  const lb = tp?.loadBalancer;
  const simple = lb?.['simple'];
  if (lb !== undefined && simple === undefined) note(`${where}: loadBalancer ${Object.keys(lb).join(', ')} is not translated; Istio's default LEAST_REQUEST is used`);
  switch (simple) {
    case 'ROUND_ROBIN':
      return 'ROUND_ROBIN';
    case undefined:
    case 'UNSPECIFIED':
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      return 'LEAST_REQUEST';
    case 'RANDOM':
      return 'RANDOM';
    default:
      note(`${where}: loadBalancer.simple ${String(simple)} is not translated; Istio's default LEAST_REQUEST is used`);
      return 'LEAST_REQUEST';
  }
}

function outlierDetection(od: OutlierDetectionSettings, scale: number): OutlierDetectionConfig {
  let consecutive5xx = ENVOY_CONSECUTIVE;
  let enforcing5xx = true;
  let gateway = ENVOY_CONSECUTIVE;
  let enforcingGateway = false;
  // istiod: the deprecated consecutiveErrors becomes consecutive_gateway_failure, and 5xx ejection stops.
  if (od.consecutiveErrors !== undefined && od.consecutiveErrors > 0) {
    gateway = od.consecutiveErrors;
    enforcingGateway = true;
    enforcing5xx = false;
  }
  if (od.consecutive5xxErrors !== undefined) {
    consecutive5xx = od.consecutive5xxErrors;
    enforcing5xx = od.consecutive5xxErrors > 0;
  }
  if (od.consecutiveGatewayErrors !== undefined) {
    gateway = od.consecutiveGatewayErrors;
    enforcingGateway = od.consecutiveGatewayErrors > 0;
  }
  const base = od.baseEjectionTime === undefined ? ENVOY_BASE_EJECTION_MS : durationMs(od.baseEjectionTime);
  return {
    consecutive5xx,
    enforcingConsecutive5xx: enforcing5xx,
    consecutiveGatewayFailure: gateway,
    enforcingConsecutiveGatewayFailure: enforcingGateway,
    splitExternalLocalOriginErrors: od.splitExternalLocalOriginErrors === true,
    consecutiveLocalOriginFailure: od.consecutiveLocalOriginFailures ?? ENVOY_CONSECUTIVE,
    enforcingConsecutiveLocalOriginFailure: true,
    intervalMs: Math.max(1, scaleMs(od.interval === undefined ? ENVOY_INTERVAL_MS : durationMs(od.interval), scale)),
    baseEjectionTimeMs: scaleMs(base, scale),
    maxEjectionTimeMs: scaleMs(Math.max(ENVOY_MAX_EJECTION_MS, base), scale),
    maxEjectionPercent: od.maxEjectionPercent !== undefined && od.maxEjectionPercent > 0 ? Math.min(100, od.maxEjectionPercent) : ENVOY_MAX_EJECTION_PERCENT,
  };
}
