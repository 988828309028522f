/** Rendering rules the golden configs do not reach: port-level mTLS, TCP ports, auto mTLS, retries and faults, outlier details. */
import { expect } from 'chai';
import { parsePolicies } from '../../model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../../model/resolve.ts';
import { topologyFromYaml } from '../../model/topology.ts';
import { renderMeshEnvoyConfigs, type MeshEnvoyConfig } from './envoy-config.ts';
import { checkEnvoyConfig } from './static-check.ts';

type Doc = Record<string, any>;

const TOPOLOGY = `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [shop]
workloads:
- {name: api, namespace: shop, serviceAccount: api, ports: [{port: 8080, protocol: http}, {port: 9000, protocol: tcp}]}
- {name: legacy, namespace: shop, serviceAccount: legacy, replicas: 2, ports: [{port: 8080, protocol: http}]}
services:
- {name: api, namespace: shop, selector: {app: api}, ports: [{port: 80, targetPort: 8080}, {port: 9000, targetPort: 9000}]}
- {name: legacy, namespace: shop, selector: {app: legacy}, ports: [{port: 80, targetPort: 8080}]}
clients:
- {name: caller, namespace: shop, serviceAccount: caller}
`;

function render(policies: string, timeScale = 1): { mesh: ResolvedMesh; all: MeshEnvoyConfig[] } {
  const { set, issues } = parsePolicies(policies, 'p.yaml');
  expect(issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
  const mesh = resolveMesh(set, topologyFromYaml(TOPOLOGY, 'topology.yaml'));
  const all = renderMeshEnvoyConfigs(mesh, { xds: 'static', timeScale });
  for (const s of all) expect(checkEnvoyConfig(s.config), s.id).to.deep.equal([]);
  return { mesh, all };
}

function bootstrap(all: readonly MeshEnvoyConfig[], key: string): Doc {
  return JSON.parse(JSON.stringify(all.find((s) => s.key === key)?.config.bootstrap)) as Doc;
}

const API = 'outbound|80||api.shop.svc.cluster.local';
const LEGACY = 'outbound|80||legacy.shop.svc.cluster.local';

/** The routes of the caller's virtual host for api:80. */
function apiRoutes(all: readonly MeshEnvoyConfig[]): Doc[] & [Doc, ...Doc[]] {
  const listener = bootstrap(all, 'shop/caller')['static_resources'].listeners.find((l: Doc) => l['name'] === 'outbound_80');
  return listener.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts.find((v: Doc) => v['name'] === 'api.shop.svc.cluster.local:80').routes;
}

function vs(http: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api]
  http:
${http}`;
}

/** Envoy's outlier-detection defaults, so two writings of the same settings compare equal. */
function withEnvoyDefaults(od: Doc): Doc {
  return { consecutive_5xx: 5, enforcing_consecutive_5xx: 100, consecutive_gateway_failure: 5, enforcing_consecutive_gateway_failure: 0, interval: '10s', base_ejection_time: '30s', max_ejection_time: '300s', max_ejection_percent: 10, enforcing_success_rate: 100, ...od };
}

const POLICIES = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  mtls: {mode: STRICT}
  portLevelMtls: {"9000": {mode: PERMISSIVE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: legacy, namespace: shop}
spec:
  selector: {matchLabels: {app: legacy}}
  mtls: {mode: DISABLE}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/caller"]}}]
    to: [{operation: {methods: ["GET"]}}]
  - from: [{source: {namespaces: ["shop"]}}]
    to: [{operation: {ports: ["9000"]}}]
`;

describe('envoy: rendering rules beyond the reference configs', function () {
  this.timeout(20_000);

  it('one listener per workload port: STRICT HTTP with HTTP RBAC, PERMISSIVE TCP with network RBAC that drops the HTTP-only rule', function () {
    const api = bootstrap(render(POLICIES).all, 'shop/api');
    const [http, tcp] = api['static_resources'].listeners as Doc[];
    expect(http?.['name']).to.equal('inbound_8080');
    expect(http?.['address']).to.deep.equal({ socket_address: { address: '0.0.0.0', port_value: 8080 } });
    expect(http?.['filter_chains'].map((c: Doc) => c['name'])).to.deep.equal(['inbound_8080_mtls']);
    expect(tcp?.['name']).to.equal('inbound_9000');
    expect(tcp?.['filter_chains'].map((c: Doc) => [c['name'], c['filter_chain_match']])).to.deep.equal([
      ['inbound_9000_mtls', { transport_protocol: 'tls', application_protocols: ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'] }],
      ['inbound_9000_tls_passthrough', { transport_protocol: 'tls' }],
      ['inbound_9000_plaintext', { transport_protocol: 'raw_buffer' }],
    ]);
    const [rbac, proxy] = tcp?.['filter_chains'][2].filters as Doc[];
    expect(rbac?.['name']).to.equal('envoy.filters.network.rbac');
    expect(Object.keys(rbac?.['typed_config'].rules.policies)).to.deep.equal(['ns[shop]-policy[api]-rule[1]']);
    expect(proxy?.['typed_config']).to.deep.include({ stat_prefix: 'inbound_9000', cluster: 'inbound_9000' });
    // Both ports reach the app on its one port.
    expect(api['static_resources'].clusters.filter((c: Doc) => String(c['name']).startsWith('inbound_')).map((c: Doc) => [c['name'], c['load_assignment'].endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value])).to.deep.equal([
      ['inbound_8080', 15080],
      ['inbound_9000', 15080],
    ]);
  });

  it('auto mTLS: endpoints whose port is DISABLE get no tlsMode label, so the client sends them plaintext', function () {
    const caller = bootstrap(render(POLICIES).all, 'shop/caller');
    const cluster = (name: string): Doc => caller['static_resources'].clusters.find((c: Doc) => c['name'] === name);
    const endpoints = (c: Doc): Doc[] => c['load_assignment'].endpoints[0].lb_endpoints;
    expect(endpoints(cluster(API)).map((e) => e['metadata'])).to.deep.equal([{ filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } }]);
    expect(endpoints(cluster(LEGACY)).map((e) => e['metadata'])).to.deep.equal([undefined, undefined]);
    expect(endpoints(cluster(LEGACY)).map((e) => e['endpoint'].address.socket_address.address)).to.deep.equal(['legacy-0.shop', 'legacy-1.shop']);
    // No endpoint of legacy takes mTLS, so its cluster has no TLS at all.
    expect(cluster(LEGACY)['transport_socket_matches']).to.equal(undefined);
    expect(cluster(API)['transport_socket_matches'].map((m: Doc) => m['name'])).to.deep.equal(['tlsMode-istio', 'tlsMode-disabled']);
    const tcp = caller['static_resources'].listeners.find((l: Doc) => l['filter_chains'][0].filters[0].name === 'envoy.filters.network.tcp_proxy');
    expect(tcp['filter_chains'][0].filters[0].typed_config.cluster).to.equal('outbound|9000||api.shop.svc.cluster.local');
  });

  it('retries as istiod converts them: attempts 0 removes the policy, status codes move to retriable_status_codes, back-off time-scaled', function () {
    expect(apiRoutes(render(vs('  - route: [{destination: {host: api}}]\n    retries: {attempts: 0}\n')).all)[0].route.retry_policy).to.equal(undefined);
    expect(apiRoutes(render(vs('  - route: [{destination: {host: api}}]\n    retries: {attempts: 2, retryOn: "gateway-error,503,504"}\n')).all)[0].route.retry_policy).to.deep.include({
      num_retries: 2,
      retry_on: 'gateway-error,retriable-status-codes',
      retriable_status_codes: [503, 504],
    });
    const scaled = apiRoutes(render(vs('  - route: [{destination: {host: api}}]\n    retries: {attempts: 1, retryIgnorePreviousHosts: false, backoff: 100ms}\n'), 0.5).all)[0].route.retry_policy;
    expect(scaled).to.deep.equal({ retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', num_retries: 1, host_selection_retry_max_attempts: 5, retry_back_off: { base_interval: '0.05s' } });
    // No VirtualService: Istio's default policy.
    const defaults = apiRoutes(render('').all)[0].route.retry_policy;
    expect(defaults).to.deep.include({ retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', num_retries: 2, host_selection_retry_max_attempts: 5 });
    expect(defaults.retry_host_predicate.map((p: Doc) => p['name'])).to.deep.equal(['envoy.retry_host_predicates.previous_hosts']);
  });

  it('faults as istiod translates them: value × 10000 of a million, truncated; no percentage is 0 %; time-scaled delays', function () {
    const fault = (http: string, scale = 1): Doc | undefined => apiRoutes(render(vs(http), scale).all)[0].typed_per_filter_config?.['envoy.filters.http.fault'];
    expect(fault('  - route: [{destination: {host: api}}]\n    fault: {abort: {httpStatus: 418, percentage: {value: 12.34567}}}\n')).to.deep.equal({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
      abort: { http_status: 418, percentage: { numerator: 123456, denominator: 'MILLION' } },
    });
    expect(fault('  - route: [{destination: {host: api}}]\n    fault: {delay: {fixedDelay: 5s}}\n', 0.1)?.['delay']).to.deep.equal({ fixed_delay: '0.5s', percentage: { numerator: 0, denominator: 'MILLION' } });
    expect(fault('  - route: [{destination: {host: api}}]\n    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}\n')?.['abort']).to.deep.equal({ grpc_status: 14, percentage: { numerator: 1000000, denominator: 'MILLION' } });
    // exponentialDelay never reaches the translation: Istio's validation refuses it ("exponentialDelay not supported yet"), and so does check-policies.
  });

  it('outlier detection: deprecated consecutiveErrors counts gateway errors only, an explicit 0 turns enforcing off, minHealthPercent sets the panic threshold', function () {
    const { all } = render(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: legacy, namespace: shop}
spec:
  host: legacy
  trafficPolicy:
    outlierDetection: {consecutiveErrors: 4, consecutive5xxErrors: 0, minHealthPercent: 30, maxEjectionPercent: 0}
`);
    const cluster = bootstrap(all, 'shop/caller')['static_resources'].clusters.find((c: Doc) => c['name'] === LEGACY);
    expect(withEnvoyDefaults(cluster['outlier_detection'])).to.deep.equal(withEnvoyDefaults({ consecutive_gateway_failure: 4, enforcing_consecutive_gateway_failure: 100, consecutive_5xx: 0, enforcing_consecutive_5xx: 0, enforcing_success_rate: 0 }));
    expect(cluster['common_lb_config']).to.deep.equal({ healthy_panic_threshold: { value: 30 } });
  });

  it('VirtualService matches become one route each, in order; a weighted split becomes weighted_clusters', function () {
    const { all } = render(vs(`  - name: admin
    match: [{uri: {prefix: /admin}, method: {exact: POST}}, {uri: {exact: /health}}]
    route: [{destination: {host: legacy}}]
  - route: [{destination: {host: api}, weight: 80}, {destination: {host: legacy}, weight: 20}]
`));
    const routes = apiRoutes(all);
    expect(routes.map((r: Doc) => r['match'])).to.deep.equal([{ prefix: '/admin', headers: [{ name: ':method', string_match: { exact: 'POST' } }] }, { path: '/health' }, { prefix: '/' }]);
    expect(routes[0].name).to.match(/^VirtualService shop\/api http\[0\] admin/);
    expect(routes[0].route.cluster).to.equal(LEGACY);
    expect(routes[2]!.route.weighted_clusters).to.deep.equal({ clusters: [{ name: API, weight: 80 }, { name: LEGACY, weight: 20 }] });
  });
});
