/**
 * The outbound side's Envoy stats on `/stats/prometheus` (envoy-mapping.md §5), labelled the way
 * Istio's bootstrap tags them: `cluster.outbound|80||payment.prod.svc.cluster.local.upstream_rq_pending_overflow`
 * becomes `envoy_cluster_upstream_rq_pending_overflow{cluster_name="outbound|80||payment.prod.svc.cluster.local"}`,
 * per-code counts `envoy_cluster_upstream_rq{cluster_name, response_code}`. Gauges (active
 * connections and requests, ejections_active, circuit-breaker state with track_remaining) are
 * read from the clusters when scraped. Fault-filter stats use the HTTP connection manager's
 * prefix (`envoy_http_fault_aborts_injected{http_conn_manager_prefix="outbound_80"}`), as the
 * inbound side labels its HCM stats.
 */
import { Counter, Gauge, type Registry } from '../prom-lite.ts';

const CLUSTER_COUNTERS = [
  'upstream_cx_total',
  'upstream_cx_connect_fail',
  'upstream_cx_connect_timeout',
  'upstream_cx_overflow',
  'upstream_cx_max_requests',
  'upstream_cx_none_healthy',
  'upstream_rq_total',
  'upstream_rq_pending_total',
  'upstream_rq_pending_overflow',
  'upstream_rq_timeout',
  'upstream_rq_per_try_timeout',
  'upstream_rq_retry',
  'upstream_rq_retry_success',
  'upstream_rq_retry_overflow',
  'upstream_rq_retry_limit_exceeded',
  'lb_healthy_panic',
  'outlier_detection_ejections_enforced_total',
  'outlier_detection_ejections_overflow',
  'outlier_detection_ejections_enforced_consecutive_5xx',
  'outlier_detection_ejections_enforced_consecutive_gateway_failure',
  'outlier_detection_ejections_enforced_consecutive_local_origin_failure',
  'outlier_detection_ejections_detected_consecutive_5xx',
  'outlier_detection_ejections_detected_consecutive_gateway_failure',
  'outlier_detection_ejections_detected_consecutive_local_origin_failure',
  'ssl_handshake',
  'ssl_connection_error',
  'ssl_fail_verify_san',
  'ssl_fail_verify_error',
] as const;

export type ClusterCounter = (typeof CLUSTER_COUNTERS)[number];

/** What a scrape reads from a live cluster for the gauges. */
export interface ClusterGaugeSource {
  readonly name: string;
  readonly connections: number;
  readonly pending: number;
  readonly requests: number;
  readonly retries: number;
  readonly ejectionsActive: number;
  readonly membershipTotal: number;
  readonly membershipHealthy: number;
  readonly limits: { readonly maxConnections: number; readonly maxPendingRequests: number; readonly maxRequests: number; readonly maxRetries: number };
}

/** The counters of one cluster, bound to its label once. */
export interface ClusterCounters {
  inc(name: ClusterCounter, value?: number): void;
  /** One upstream response (each attempt): upstream_rq{response_code} and upstream_rq_xx. */
  response(status: number): void;
}

export class ClusterStats {
  readonly #counters = new Map<string, Counter>();
  readonly #bound = new Map<string, ClusterCounters>();
  readonly #rq: Counter;
  readonly #rqClass: Counter;
  readonly #fault: Record<'delays_injected' | 'aborts_injected', Counter>;

  constructor(registry: Registry, sources: () => Iterable<ClusterGaugeSource>) {
    for (const name of CLUSTER_COUNTERS) {
      this.#counters.set(name, new Counter({ name: `envoy_cluster_${name}`, help: `cluster.<name>.${name.replace('outlier_detection_', 'outlier_detection.').replace('ssl_', 'ssl.')} (Envoy)`, labelNames: ['cluster_name'], registers: [registry] }));
    }
    this.#rq = new Counter({ name: 'envoy_cluster_upstream_rq', help: 'cluster.<name>.upstream_rq_<code> (Envoy)', labelNames: ['cluster_name', 'response_code'], registers: [registry] });
    this.#rqClass = new Counter({ name: 'envoy_cluster_upstream_rq_xx', help: 'cluster.<name>.upstream_rq_<N>xx (Envoy)', labelNames: ['cluster_name', 'response_code_class'], registers: [registry] });
    this.#fault = {
      delays_injected: new Counter({ name: 'envoy_http_fault_delays_injected', help: 'http.<prefix>.fault.delays_injected (Envoy)', labelNames: ['http_conn_manager_prefix'], registers: [registry] }),
      aborts_injected: new Counter({ name: 'envoy_http_fault_aborts_injected', help: 'http.<prefix>.fault.aborts_injected (Envoy)', labelNames: ['http_conn_manager_prefix'], registers: [registry] }),
    };
    const gauge = (name: string, help: string, read: (c: ClusterGaugeSource) => number): void => {
      new Gauge({
        name: `envoy_cluster_${name}`,
        help,
        labelNames: ['cluster_name'],
        registers: [registry],
        collect() {
          this.reset();
          for (const c of sources()) this.set({ cluster_name: c.name }, read(c));
        },
      });
    };
    gauge('upstream_cx_active', 'Active upstream connections (Envoy)', (c) => c.connections);
    gauge('upstream_rq_active', 'Active upstream requests (Envoy)', (c) => c.requests);
    gauge('upstream_rq_pending_active', 'Requests waiting for a connection (Envoy)', (c) => c.pending);
    gauge('outlier_detection_ejections_active', 'cluster.<name>.outlier_detection.ejections_active (Envoy)', (c) => c.ejectionsActive);
    gauge('membership_total', 'Hosts in the cluster (Envoy)', (c) => c.membershipTotal);
    gauge('membership_healthy', 'Hosts not ejected (Envoy)', (c) => c.membershipHealthy);
    gauge('circuit_breakers_default_cx_open', 'max_connections reached (Envoy)', (c) => (c.connections >= c.limits.maxConnections ? 1 : 0));
    gauge('circuit_breakers_default_rq_pending_open', 'max_pending_requests reached (Envoy)', (c) => (c.pending >= c.limits.maxPendingRequests ? 1 : 0));
    gauge('circuit_breakers_default_rq_open', 'max_requests reached (Envoy)', (c) => (c.requests >= c.limits.maxRequests ? 1 : 0));
    gauge('circuit_breakers_default_rq_retry_open', 'max_retries reached (Envoy)', (c) => (c.retries >= c.limits.maxRetries ? 1 : 0));
    gauge('circuit_breakers_default_remaining_cx', 'Connections left before max_connections (Envoy, track_remaining)', (c) => Math.max(0, c.limits.maxConnections - c.connections));
    gauge('circuit_breakers_default_remaining_pending', 'Pending requests left (Envoy, track_remaining)', (c) => Math.max(0, c.limits.maxPendingRequests - c.pending));
    gauge('circuit_breakers_default_remaining_rq', 'Requests left (Envoy, track_remaining)', (c) => Math.max(0, c.limits.maxRequests - c.requests));
    gauge('circuit_breakers_default_remaining_retries', 'Retries left (Envoy, track_remaining)', (c) => Math.max(0, c.limits.maxRetries - c.retries));
  }

  /** The counters of a cluster (created once per name, kept across config generations). */
  forCluster(name: string): ClusterCounters {
    let bound = this.#bound.get(name);
    if (bound !== undefined) return bound;
    const children = new Map<string, { inc(n?: number): void }>();
    for (const [key, counter] of this.#counters) children.set(key, counter.labels({ cluster_name: name }));
    const codes = new Map<number, { inc(): void }>();
    const classes = new Map<number, { inc(): void }>();
    bound = {
      inc: (counter, value = 1) => children.get(counter)!.inc(value),
      response: (status) => {
        let code = codes.get(status);
        if (code === undefined) {
          code = this.#rq.labels({ cluster_name: name, response_code: String(status) });
          codes.set(status, code);
        }
        code.inc();
        const klass = Math.floor(status / 100);
        let xx = classes.get(klass);
        if (xx === undefined) {
          xx = this.#rqClass.labels({ cluster_name: name, response_code_class: String(klass) });
          classes.set(klass, xx);
        }
        xx.inc();
      },
    };
    this.#bound.set(name, bound);
    return bound;
  }

  fault(prefix: string, kind: 'delays_injected' | 'aborts_injected'): void {
    this.#fault[kind].inc({ http_conn_manager_prefix: prefix });
  }
}
