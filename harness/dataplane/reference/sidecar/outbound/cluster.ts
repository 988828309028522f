/**
 * One upstream cluster at run time: its hosts (each with a connection pool, outlier state and
 * request counts), the cluster-wide circuit-breaker resources, the load balancer and the outlier
 * detector with its sweep timer. A config generation that changes the cluster's settings gets a
 * new Cluster (outlier state and counters of the old one do not carry over, as when Envoy
 * replaces a cluster); an unchanged one keeps its object.
 */
import type { SeededRandom } from '../../../../util/seeded-random.ts';
import type { ClusterConfig, EndpointConfig } from '../../../istiod/outbound-config.ts';
import type { CertificateStore } from '../certificate-store.ts';
import type { ClusterCounters, ClusterGaugeSource } from './cluster-stats.ts';
import { HostPool, type ClusterResources } from './host-pool.ts';
import { LoadBalancer, type Selection } from './load-balancer.ts';
import { freshOutlierState, OutlierDetector, startSweeps, type LocalOriginFailure, type OutlierState } from './outlier-detector.ts';

export class UpstreamHost {
  readonly endpoint: EndpointConfig;
  /** `address:port` as configured. */
  readonly name: string;
  readonly pool: HostPool;
  readonly outlier: OutlierState = freshOutlierState();
  /** Requests in flight (least-request balancing, /clusters rq_active). */
  active = 0;
  rqTotal = 0;
  rqError = 0;
  rqSuccess = 0;
  rqTimeout = 0;

  constructor(endpoint: EndpointConfig, resources: ClusterResources) {
    this.endpoint = endpoint;
    this.name = `${endpoint.address}:${endpoint.port}`;
    this.pool = new HostPool(endpoint, resources);
  }
}

export class Cluster implements ClusterResources, ClusterGaugeSource {
  readonly config: ClusterConfig;
  readonly name: string;
  readonly hosts: readonly UpstreamHost[];
  readonly counters: ClusterCounters;
  readonly certificates: CertificateStore;
  readonly detector: OutlierDetector<UpstreamHost> | undefined;
  /** The config JSON it was built from (to tell whether a new generation changes it). */
  readonly fingerprint: string;
  connections = 0;
  pending = 0;
  requests = 0;
  /** Retries in flight (max_retries counts these). */
  retries = 0;
  readonly #balancer: LoadBalancer<UpstreamHost>;
  readonly #sweeps: { stop(): void } | undefined;

  constructor(config: ClusterConfig, deps: { readonly counters: ClusterCounters; readonly certificates: CertificateStore; readonly random: SeededRandom; readonly diagnostics: (line: string) => void }) {
    this.config = config;
    this.name = config.name;
    this.fingerprint = JSON.stringify(config);
    this.counters = deps.counters;
    this.certificates = deps.certificates;
    this.hosts = config.endpoints.map((e) => new UpstreamHost(e, this));
    this.#balancer = new LoadBalancer(config.lbPolicy, config.healthyPanicThreshold, deps.random);
    const od = config.outlierDetection;
    if (od !== undefined) {
      const now = (): number => performance.now();
      const counters = deps.counters;
      this.detector = new OutlierDetector<UpstreamHost>(
        od,
        this.hosts,
        {
          detected: (_host, type) => counters.inc(`outlier_detection_ejections_detected_${type}`),
          ejected: (host, type, ms) => {
            counters.inc('outlier_detection_ejections_enforced_total');
            counters.inc(`outlier_detection_ejections_enforced_${type}`);
            deps.diagnostics(`cluster ${this.name}: ejected ${host.name} (${type}), for at least ${ms} ms (ejection ${host.outlier.ejections}, multiplier ${host.outlier.backoff})`);
          },
          overflow: (host, type) => {
            counters.inc('outlier_detection_ejections_overflow');
            deps.diagnostics(`cluster ${this.name}: ${host.name} detected (${type}) but not ejected: max_ejection_percent ${od.maxEjectionPercent} reached`);
          },
          unejected: (host) => deps.diagnostics(`cluster ${this.name}: ${host.name} back after its ejection`),
        },
        now,
      );
      const detector = this.detector;
      this.#sweeps = startSweeps(() => detector.sweep(), od.intervalMs, now);
    }
  }

  get ejectionsActive(): number {
    return this.detector?.ejectionsActive ?? 0;
  }

  get membershipTotal(): number {
    return this.hosts.length;
  }

  get membershipHealthy(): number {
    return this.hosts.filter((h) => !h.outlier.ejected).length;
  }

  get limits(): ClusterConfig['circuitBreakers'] {
    return this.config.circuitBreakers;
  }

  /** A host for a request; `avoid` holds hosts a retry should not pick again. */
  choose(avoid?: ReadonlySet<UpstreamHost>, maxAttempts?: number): Selection<UpstreamHost> {
    const selection = this.#balancer.choose(this.hosts, avoid, maxAttempts);
    if (selection.panic) this.counters.inc('lb_healthy_panic');
    if (selection.host === undefined) this.counters.inc('upstream_cx_none_healthy');
    return selection;
  }

  /** An upstream response of `host`, for outlier detection and per-host stats. */
  reportStatus(host: UpstreamHost, status: number): void {
    host.rqTotal += 1;
    if (status >= 500) host.rqError += 1;
    else host.rqSuccess += 1;
    this.detector?.putHttpStatus(host, status);
  }

  reportLocalOrigin(host: UpstreamHost, failure: LocalOriginFailure): void {
    host.rqTotal += 1;
    host.rqError += 1;
    if (failure === 'timeout') host.rqTimeout += 1;
    this.detector?.putLocalOrigin(host, failure);
  }

  /** A newer config replaced this cluster: stop the sweep, close idle connections, busy ones after their request. */
  retire(): void {
    this.#sweeps?.stop();
    for (const h of this.hosts) h.pool.drain();
  }

  /** The sidecar stops: connections close at once. */
  destroy(): void {
    this.retire();
    for (const h of this.hosts) h.pool.destroy();
  }
}
