/** Rendering rules the golden configs do not reach: port-level mTLS, TCP ports, auto mTLS, retries and faults, outlier details. */
import { expect } from 'chai';
import { parsePolicies } from '../../model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../../model/resolve.ts';
import { topologyFromYaml } from '../../model/topology.ts';
import { renderEnvoyBootstraps, type RenderedSidecar } from './bootstrap.ts';
import { faultConfig, retryPolicy } from './outbound-route.ts';
import { checkRenderedSidecar } from './static-check.ts';

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

function render(policies: string, options = {}): { mesh: ResolvedMesh; all: RenderedSidecar[] } {
  const { set, issues } = parsePolicies(policies, 'p.yaml');
  expect(issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
  const mesh = resolveMesh(set, topologyFromYaml(TOPOLOGY, 'topology.yaml'));
  const all = renderEnvoyBootstraps(mesh, options);
  for (const s of all) expect(checkRenderedSidecar(s), s.id).to.deep.equal([]);
  return { mesh, all };
}

function bootstrap(all: readonly RenderedSidecar[], key: string): Doc {
  return JSON.parse(JSON.stringify(all.find((s) => s.key === key)?.bootstrap)) as Doc;
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
    expect(http?.['name']).to.equal('inbound_15006');
    expect(http?.['filter_chains'].map((c: Doc) => c['name'])).to.deep.equal(['inbound_8080_mtls']);
    expect(tcp?.['name']).to.equal('inbound_15007');
    expect(tcp?.['filter_chains'].map((c: Doc) => [c['name'], c['filter_chain_match']])).to.deep.equal([
      ['inbound_9000_mtls', { transport_protocol: 'tls', application_protocols: ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'] }],
      ['inbound_9000_tls_passthrough', { transport_protocol: 'tls' }],
      ['inbound_9000_plaintext', { transport_protocol: 'raw_buffer' }],
    ]);
    const [rbac, proxy] = tcp?.['filter_chains'][2].filters as Doc[];
    expect(rbac?.['name']).to.equal('envoy.filters.network.rbac');
    expect(Object.keys(rbac?.['typed_config'].rules.policies)).to.deep.equal(['ns[shop]-policy[api]-rule[1]']);
    expect(proxy?.['typed_config']).to.deep.include({ stat_prefix: 'inbound_9000', cluster: 'inbound_9000' });
  });

  it('auto mTLS: endpoints whose port is DISABLE get no tlsMode label, so the client sends them plaintext', function () {
    const caller = bootstrap(render(POLICIES).all, 'shop/caller');
    const cluster = (name: string): Doc => caller['static_resources'].clusters.find((c: Doc) => c['name'] === name);
    const endpoints = (c: Doc): Doc[] => c['load_assignment'].endpoints[0].lb_endpoints;
    expect(endpoints(cluster('outbound_80__api')).map((e) => e['metadata'])).to.deep.equal([{ filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } }]);
    expect(endpoints(cluster('outbound_80__legacy')).map((e) => e['metadata'])).to.deep.equal([undefined, undefined]);
    expect(endpoints(cluster('outbound_80__legacy')).map((e) => e['endpoint'].address.socket_address.address)).to.deep.equal(['legacy-0.shop', 'legacy-1.shop']);
    expect(cluster('outbound_80__legacy')['transport_socket_matches'].map((m: Doc) => m['name'])).to.deep.equal(['tlsMode-istio', 'tlsMode-disabled']);
    const tcp = caller['static_resources'].listeners.find((l: Doc) => l['filter_chains'][0].filters[0].name === 'envoy.filters.network.tcp_proxy');
    expect(tcp['filter_chains'][0].filters[0].typed_config.cluster).to.equal('outbound_9000__api');
  });

  it('retries as istiod converts them: attempts 0 removes the policy, status codes move to retriable_status_codes', function () {
    expect(retryPolicy({ attempts: 0 }, 1)).to.equal(undefined);
    expect(retryPolicy({ attempts: 2, retryOn: 'gateway-error,503,504' }, 1)).to.deep.include({ num_retries: 2, retry_on: 'gateway-error,retriable-status-codes', retriable_status_codes: [503, 504] });
    expect(retryPolicy({ attempts: 1, retryIgnorePreviousHosts: false, backoff: '100ms' }, 0.5)).to.deep.equal({ retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', num_retries: 1, host_selection_retry_max_attempts: 5, retry_back_off: { base_interval: '0.05s' } });
  });

  it('faults as istiod translates them: value × 10000 of a million, truncated; no percentage is 0 %', function () {
    const notes: { message: string }[] = [];
    expect(faultConfig({ abort: { httpStatus: 418, percentage: { value: 12.34567 } } }, 1, notes, 'x')).to.deep.equal({ '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', abort: { http_status: 418, percentage: { numerator: 123456, denominator: 'MILLION' } } });
    expect(faultConfig({ delay: { fixedDelay: '5s' } }, 0.1, notes, 'x')).to.deep.equal({ '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', delay: { fixed_delay: '0.5s' } });
    expect(faultConfig({ abort: { grpcStatus: 'UNAVAILABLE' } }, 1, notes, 'x')?.['abort']).to.deep.equal({ grpc_status: 14 });
    expect(faultConfig({ delay: { exponentialDelay: '1s' } }, 1, notes, 'x')).to.equal(undefined);
    expect(notes.map((n) => n.message)).to.deep.equal(['x: fault.delay.exponentialDelay is not supported by Istio; the delay is dropped']);
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
    const cluster = bootstrap(all, 'shop/caller')['static_resources'].clusters.find((c: Doc) => c['name'] === 'outbound_80__legacy');
    expect(cluster['outlier_detection']).to.deep.equal({ consecutive_gateway_failure: 4, enforcing_consecutive_gateway_failure: 100, consecutive_5xx: 0, enforcing_consecutive_5xx: 0, enforcing_success_rate: 0 });
    expect(cluster['common_lb_config']).to.deep.equal({ healthy_panic_threshold: { value: 30 } });
  });

  it('VirtualService matches become one route each, in order; a weighted split becomes weighted_clusters', function () {
    const { all } = render(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api]
  http:
  - name: admin
    match: [{uri: {prefix: /admin}, method: {exact: POST}}, {uri: {exact: /health}}]
    route: [{destination: {host: legacy}}]
  - route: [{destination: {host: api}, weight: 80}, {destination: {host: legacy}, weight: 20}]
`);
    const vhost = bootstrap(all, 'shop/caller')['static_resources'].listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts.find((v: Doc) => v['name'] === 'api.shop.svc.cluster.local:80');
    expect(vhost.routes.map((r: Doc) => [r['name'], r['match']])).to.deep.equal([
      ['admin', { prefix: '/admin', headers: [{ name: ':method', string_match: { exact: 'POST' } }] }],
      ['admin', { path: '/health' }],
      [undefined, { prefix: '/' }],
    ]);
    expect(vhost.routes[0].route.cluster).to.equal('outbound_80__legacy');
    expect(vhost.routes[2].route.weighted_clusters).to.deep.equal({ clusters: [{ name: 'outbound_80__api', weight: 80 }, { name: 'outbound_80__legacy', weight: 20 }] });
  });
});
