/**
 * The sidecar's metrics, under the names Envoy and Istio use on `/stats/prometheus`
 * (envoy-mapping.md §5, istio-semantics.md §5), exposed with prom-lite.ts (prom-client's API and text, without its cost on every request).
 *
 * Envoy names follow the stats tags Istio's bootstrap gives Envoy (the Envoy data plane writes the
 * same): `listener.<addr>.ssl.handshake` becomes
 * `envoy_listener_ssl_handshake{listener_address="0.0.0.0_8080"}`, `http.<prefix>.rbac.denied`
 * becomes `envoy_http_rbac_denied{http_conn_manager_prefix="inbound_8080"}`. The TCP RBAC
 * filter's counters are `envoy_tcp_rbac_{allowed,denied}{tcp_prefix="inbound_<port>"}`
 * (Istio itself uses the stat prefix `tcp.` and its own tag rules).
 * Each RBAC filter counts for itself, as in Envoy: a request that passes a DENY and an ALLOW filter
 * adds 2 to `rbac_allowed`; a LOG (AUDIT) filter counts `allowed` too. Envoy 1.40 has no
 * `logged`/`not_logged` counters (an AUDIT match shows as the access log's access_log_hint), so none are made here.
 */
import { Counter, Gauge, Histogram, Registry } from './prom-lite.ts';
import type { SidecarNode } from '../config.ts';
import type { FilterResult } from './rbac-engine.ts';

/** Istio's default buckets for istio_request_duration_milliseconds. */
const DURATION_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** The labels of Istio's standard metrics (istio/proxy istio_stats.cc all_tags_). */
const ISTIO_LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;

type IstioLabel = (typeof ISTIO_LABELS)[number];

export interface IstioRequestFacts {
  /** Peer SPIFFE id, when the connection is mutual TLS. */
  readonly sourcePrincipal?: string;
  readonly protocol: 'http' | 'tcp';
  readonly responseCode: number;
  readonly responseFlags: string;
  readonly mutualTls: boolean;
}

/** What the client sidecar knows about an outbound request (reporter="source"). */
export interface SourceRequestFacts {
  /** The destination service FQDN (or the pod called). */
  readonly destinationService: string;
  /** The endpoint that answered, when one did. */
  readonly destination?: { readonly workload?: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>>; readonly principal?: string };
  readonly responseCode: number;
  readonly responseFlags: string;
}

const SSL_COUNTERS = ['handshake', 'connection_error', 'no_certificate', 'fail_verify_no_cert', 'fail_verify_error', 'fail_verify_san'] as const;
export type SslCounter = (typeof SSL_COUNTERS)[number];

export class SidecarStats {
  readonly registry = new Registry();
  readonly #node: SidecarNode;
  readonly #counters = new Map<string, Counter>();
  readonly #children = new Map<string, { inc(n?: number): void }>();
  readonly cxActive: Gauge;
  readonly configGeneration: Gauge;
  readonly #duration: Histogram;
  readonly #requestSeries = new Map<string, { count: { inc(): void }; duration: { observe(value: number): void } }>();

  constructor(node: SidecarNode) {
    this.#node = node;
    this.cxActive = new Gauge({ name: 'envoy_listener_downstream_cx_active', help: 'Active downstream connections', labelNames: ['listener_address'], registers: [this.registry] });
    this.configGeneration = new Gauge({ name: 'meshproof_sidecar_config_generation', help: 'Generation of the sidecar config in force', registers: [this.registry] });
    this.#duration = new Histogram({ name: 'istio_request_duration_milliseconds', help: 'Request duration (Istio standard metric)', labelNames: ISTIO_LABELS, buckets: DURATION_BUCKETS, registers: [this.registry] });
    for (const name of ['envoy_listener_downstream_cx_total', 'envoy_listener_no_filter_chain_match', 'envoy_listener_downstream_pre_cx_timeout', ...SSL_COUNTERS.map((c) => `envoy_listener_ssl_${c}`)]) {
      this.#counter(name, ['listener_address']);
    }
    for (const c of ['allowed', 'denied']) this.#counter(`envoy_http_rbac_${c}`, ['http_conn_manager_prefix']);
    for (const c of ['allowed', 'denied']) this.#counter(`envoy_tcp_rbac_${c}`, ['tcp_prefix']);
    this.#counter('envoy_http_downstream_rq_total', ['http_conn_manager_prefix']);
    this.#counter('envoy_http_downstream_rq_xx', ['http_conn_manager_prefix', 'response_code_class']);
    this.#counter('istio_requests_total', ISTIO_LABELS);
    for (const name of ['istio_tcp_connections_opened_total', 'istio_tcp_connections_closed_total', 'istio_tcp_sent_bytes_total', 'istio_tcp_received_bytes_total']) this.#counter(name, ISTIO_LABELS);
    this.#counter('meshproof_sidecar_config_reloads_total', ['result']);
    this.#counter('meshproof_sidecar_certificate_loads_total', ['result']);
  }

  /** `0.0.0.0_8080`, Envoy's listener address tag. */
  static listenerAddress(bindAddress: string, port: number): string {
    return `${bindAddress}_${port}`;
  }

  listener(address: string, name: 'downstream_cx_total' | 'no_filter_chain_match' | 'downstream_pre_cx_timeout'): void {
    this.#inc(`envoy_listener_${name}`, { listener_address: address });
  }

  ssl(address: string, name: SslCounter): void {
    this.#inc(`envoy_listener_ssl_${name}`, { listener_address: address });
  }

  configReload(result: 'success' | 'rejected'): void {
    this.#inc('meshproof_sidecar_config_reloads_total', { result });
  }

  certificateLoad(result: 'success' | 'rejected'): void {
    this.#inc('meshproof_sidecar_certificate_loads_total', { result });
  }

  /** Counters of the RBAC filters that ran for one HTTP request or TCP connection. */
  rbac(protocol: 'http' | 'tcp', prefix: string, filters: readonly FilterResult[]): void {
    const labels: Record<string, string> = protocol === 'http' ? { http_conn_manager_prefix: prefix } : { tcp_prefix: prefix };
    for (const f of filters) {
      if (f.shadow !== undefined) this.#shadow(protocol, prefix, f.shadow.statPrefix, f.shadow.allowed);
      if (f.action === undefined) continue;
      this.#inc(`envoy_${protocol}_rbac_${f.allowed ? 'allowed' : 'denied'}`, labels);
    }
  }

  #shadow(protocol: 'http' | 'tcp', prefix: string, statPrefix: string, allowed: boolean): void {
    const name = `envoy_${protocol}_rbac_${statPrefix}shadow_${allowed ? 'allowed' : 'denied'}`;
    const label = protocol === 'http' ? 'http_conn_manager_prefix' : 'tcp_prefix';
    if (!this.#counters.has(name)) this.#counter(name, [label]);
    this.#inc(name, { [label]: prefix });
  }

  httpResponse(prefix: string, status: number): void {
    this.#inc('envoy_http_downstream_rq_total', { http_conn_manager_prefix: prefix });
    if (status >= 100) this.#inc('envoy_http_downstream_rq_xx', { http_conn_manager_prefix: prefix, response_code_class: String(Math.floor(status / 100)) });
  }

  /** istio_requests_total and istio_request_duration_milliseconds, as the server sidecar reports them. */
  istioRequest(facts: IstioRequestFacts, durationMs: number): void {
    // The labels of one sidecar vary only with these facts: cache the labelled children per request kind.
    const key = `${facts.protocol}|${facts.responseCode}|${facts.responseFlags}|${facts.mutualTls}|${facts.sourcePrincipal ?? ''}`;
    let series = this.#requestSeries.get(key);
    if (series === undefined) {
      const labels = this.#istioLabels(facts);
      series = { count: this.#counters.get('istio_requests_total')!.labels(labels), duration: this.#duration.labels(labels) };
      this.#requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(durationMs);
  }

  /** istio_requests_total and istio_request_duration_milliseconds with reporter="source" (the client sidecar's view). */
  sourceRequest(facts: SourceRequestFacts, durationMs: number): void {
    const d = facts.destination;
    const key = `source|${facts.destinationService}|${d?.workload ?? ''}|${d?.namespace ?? ''}|${d?.principal ?? ''}|${facts.responseCode}|${facts.responseFlags}`;
    let series = this.#requestSeries.get(key);
    if (series === undefined) {
      const labels = this.#sourceLabels(facts);
      series = { count: this.#counters.get('istio_requests_total')!.labels(labels), duration: this.#duration.labels(labels) };
      this.#requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(durationMs);
  }

  #sourceLabels(f: SourceRequestFacts): Record<IstioLabel, string> {
    const n = this.#node;
    const d = f.destination;
    const app = n.labels['app'] ?? n.workload ?? 'unknown';
    const destApp = d?.labels?.['app'] ?? d?.workload ?? 'unknown';
    const service = f.destinationService;
    const fqdn = /^([^.]+)\.([^.]+)\.svc\./.exec(service);
    return {
      reporter: 'source',
      source_workload: n.workload ?? n.pod.split('.')[0] ?? 'unknown',
      source_workload_namespace: n.namespace,
      source_principal: n.spiffeId,
      source_app: app,
      source_version: n.labels['version'] ?? 'unknown',
      source_canonical_service: n.labels['service.istio.io/canonical-name'] ?? app,
      source_canonical_revision: n.labels['service.istio.io/canonical-revision'] ?? n.labels['version'] ?? 'latest',
      source_cluster: 'Kubernetes',
      destination_workload: d?.workload ?? 'unknown',
      destination_workload_namespace: d?.namespace ?? 'unknown',
      destination_principal: d?.principal ?? 'unknown',
      destination_app: destApp,
      destination_version: d?.labels?.['version'] ?? 'unknown',
      destination_service: service,
      destination_service_name: fqdn?.[1] ?? service,
      destination_service_namespace: fqdn?.[2] ?? d?.namespace ?? 'unknown',
      destination_canonical_service: d?.labels?.['service.istio.io/canonical-name'] ?? destApp,
      destination_canonical_revision: d?.labels?.['service.istio.io/canonical-revision'] ?? d?.labels?.['version'] ?? 'latest',
      destination_cluster: d === undefined ? 'unknown' : 'Kubernetes',
      request_protocol: 'http',
      response_code: String(f.responseCode),
      grpc_response_status: '',
      response_flags: f.responseFlags,
      // The client side cannot know what the server enforced.
      connection_security_policy: 'unknown',
    };
  }

  istioTcp(facts: IstioRequestFacts, event: 'opened' | 'closed', bytes?: { readonly sent: number; readonly received: number }): void {
    const labels = this.#istioLabels(facts);
    this.#inc(`istio_tcp_connections_${event}_total`, labels);
    if (bytes !== undefined) {
      this.#inc('istio_tcp_sent_bytes_total', labels, bytes.sent);
      this.#inc('istio_tcp_received_bytes_total', labels, bytes.received);
    }
  }

  #istioLabels(f: IstioRequestFacts): Record<IstioLabel, string> {
    const n = this.#node;
    const source = f.sourcePrincipal === undefined ? undefined : /\/ns\/([^/]+)\/sa\//.exec(f.sourcePrincipal)?.[1];
    const service = n.services[0];
    const app = n.labels['app'] ?? n.workload ?? 'unknown';
    return {
      reporter: 'destination',
      // No peer metadata exchange here: only what the certificate says about the source.
      source_workload: 'unknown',
      source_workload_namespace: source ?? 'unknown',
      source_principal: f.sourcePrincipal ?? 'unknown',
      source_app: 'unknown',
      source_version: 'unknown',
      source_canonical_service: 'unknown',
      source_canonical_revision: 'latest',
      source_cluster: 'unknown',
      destination_workload: n.workload ?? 'unknown',
      destination_workload_namespace: n.namespace,
      destination_principal: f.mutualTls ? n.spiffeId : 'unknown',
      destination_app: app,
      destination_version: n.labels['version'] ?? 'unknown',
      destination_service: service ?? 'unknown',
      destination_service_name: service?.split('.')[0] ?? 'unknown',
      destination_service_namespace: service === undefined ? 'unknown' : n.namespace,
      destination_canonical_service: n.labels['service.istio.io/canonical-name'] ?? app,
      destination_canonical_revision: n.labels['service.istio.io/canonical-revision'] ?? n.labels['version'] ?? 'latest',
      destination_cluster: 'Kubernetes',
      request_protocol: f.protocol,
      response_code: String(f.responseCode),
      grpc_response_status: '',
      response_flags: f.responseFlags,
      connection_security_policy: f.mutualTls ? 'mutual_tls' : 'none',
    };
  }

  #counter(name: string, labelNames: readonly string[]): void {
    this.#counters.set(name, new Counter({ name, help: `${name} (Envoy/Istio name)`, labelNames, registers: [this.registry] }));
  }

  /** Increments a labelled counter; labelled children are cached, as the hot path calls this per request. */
  #inc(name: string, labels: Readonly<Record<string, string>>, value = 1): void {
    let key = name;
    for (const v of Object.values(labels)) key += `\u0000${v}`;
    let child = this.#children.get(key);
    if (child === undefined) {
      const counter = this.#counters.get(name);
      if (counter === undefined) throw new Error(`no counter ${name}`);
      child = counter.labels(labels);
      this.#children.set(key, child);
    }
    child.inc(value);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
