/**
 * Golden tests: the istiod translation written for Envoy, against the mapping's reference configs
 * (testdata/reference/, copies of shared/reference/envoy-configs/), section by section, from a
 * fixture that states the reference's inputs (testdata/mapping-examples/), and the seed fixtures
 * against the values the mapping's tables give for them.
 *
 * Rendered with the options that match the reference's placeholders: certificates inline under
 * /etc/harness/certs, no access log, admin on 127.0.0.1:15000. Differences that are the harness's
 * layout or naming, not meaning, are mapped on the expected side before comparing, each named
 * where it is done: the inbound listener binds the workload port (the reference uses 15006 behind
 * iptables), clusters carry Istio's own names (the reference uses a dot-free stand-in), endpoints
 * carry the pod's hostname, the client offers Istio's full client ALPN, the virtual host lists
 * Istio's domains, and outlier detection is compared with Envoy's defaults filled in (the
 * translation writes every value; istiod leaves defaults out).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { loadPolicies, parsePolicies } from '../../model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../../model/resolve.ts';
import { loadTopology, topologyFromYaml } from '../../model/topology.ts';
import { projectRoot } from '../../project-root.ts';
import { translateProxy } from '../istiod/proxy-config.ts';
import type { ProxyTarget } from '../types.ts';
import { renderEnvoyConfig, renderMeshEnvoyConfigs, type EnvoyConfig } from './envoy-config.ts';
import type { EnvoyRenderOptions } from './render-options.ts';
import { checkEnvoyConfig } from './static-check.ts';

const HERE = import.meta.dirname;
const REFERENCE = join(HERE, 'testdata', 'reference');
const EXAMPLES = join(HERE, 'testdata', 'mapping-examples');
const AS_REFERENCE: EnvoyRenderOptions = { certificates: 'files', certDir: '/etc/harness/certs', accessLog: null, adminSocket: null, xds: 'static' };

type Doc = Record<string, any>;

function reference(file: string): Doc {
  return parse(readFileSync(join(REFERENCE, file), 'utf8')) as Doc;
}

function exampleMesh(policiesYaml: string): ResolvedMesh {
  const { set, issues } = parsePolicies(policiesYaml, 'policies.yaml');
  expect(issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
  return resolveMesh(set, topologyFromYaml(readFileSync(join(EXAMPLES, 'topology.yaml'), 'utf8')));
}

function render(mesh: ResolvedMesh, target: ProxyTarget, options: EnvoyRenderOptions & { endpointAt?: { address: string; port: number } } = {}): EnvoyConfig {
  const { endpointAt, ...render } = options;
  const proxy = translateProxy(mesh, target, { generation: 1, ...(endpointAt === undefined ? {} : { endpointAddress: () => endpointAt }) });
  return renderEnvoyConfig(proxy, { ...AS_REFERENCE, ...render });
}

function server(mesh: ResolvedMesh): ProxyTarget {
  return { kind: 'workload', workload: mesh.workloads.find((w) => w.key === 'server-ns/server')!, pod: 'server-0.server-ns' };
}

/** JSON round trip: the rendered objects as the YAML file holds them. */
function plain(value: unknown): Doc {
  return JSON.parse(JSON.stringify(value)) as Doc;
}

function peerAuthentication(mode: string): string {
  return `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: server-ns}\nspec: {mtls: {mode: ${mode}}}\n---\n`;
}

/** Layout: the reference's listener stands behind iptables on 15006; meshproof's binds the workload port 8080 (ports rules see it). */
function atWorkloadPort(listener: Doc): Doc {
  return withIstioServerName({ ...listener, name: 'inbound_8080', address: { socket_address: { address: '0.0.0.0', port_value: 8080 } } });
}

/**
 * Beyond the mapping, as istiod writes it: every sidecar connection manager has server_name
 * `istio-envoy` (EnvoyServerName, pilot/pkg/networking/core; ProxyHeaders.ServerName), which the
 * mapping's configs leave at Envoy's `envoy`. Added to the expectation, so the render must have it.
 */
function withIstioServerName(listener: Doc): Doc {
  const copy = structuredClone(listener);
  for (const chain of copy['filter_chains'] ?? []) {
    for (const filter of chain['filters'] ?? []) {
      if (filter['name'] === 'envoy.filters.network.http_connection_manager') filter['typed_config']['server_name'] = 'istio-envoy';
    }
  }
  return copy;
}

/** Envoy's outlier-detection defaults (outlier_detection.proto), so two writings of the same settings compare equal. */
function withEnvoyDefaults(od: Doc): Doc {
  return {
    consecutive_5xx: 5,
    enforcing_consecutive_5xx: 100,
    consecutive_gateway_failure: 5,
    enforcing_consecutive_gateway_failure: 0,
    interval: '10s',
    base_ejection_time: '30s',
    max_ejection_time: '300s',
    max_ejection_percent: 10,
    enforcing_success_rate: 100,
    ...od,
  };
}

describe('envoy: rendered bootstraps match the mapping reference configs', function () {
  this.timeout(20_000);
  const inboundPolicies = readFileSync(join(EXAMPLES, 'inbound-policies.yaml'), 'utf8');

  for (const [mode, file] of [['STRICT', 'inbound-strict.yaml'], ['PERMISSIVE', 'inbound-permissive.yaml'], ['DISABLE', 'inbound-disable.yaml']] as const) {
    it(`${mode}: listener (filter chains, TLS, HCM, RBAC), inbound cluster and admin equal ${file} field by field`, function () {
      const mesh = exampleMesh(peerAuthentication(mode) + inboundPolicies);
      const rendered = render(mesh, server(mesh), { appPort: 8080 });
      const expected = reference(file);
      const got = plain(rendered.bootstrap);
      expect(got['admin']).to.deep.equal(expected['admin']);
      expect(got['static_resources'].listeners[0]).to.deep.equal(atWorkloadPort(expected['static_resources'].listeners[0]));
      const inboundCluster = got['static_resources'].clusters.find((c: Doc) => c['name'] === 'inbound_8080');
      expect(inboundCluster).to.deep.equal(expected['static_resources'].clusters[0]);
      expect(checkEnvoyConfig(rendered)).to.deep.equal([]);
    });
  }

  it('the comparison can fail: STRICT rendered against the PERMISSIVE reference differs', function () {
    const mesh = exampleMesh(peerAuthentication('STRICT') + inboundPolicies);
    const rendered = render(mesh, server(mesh), { appPort: 8080 });
    expect(plain(rendered.bootstrap)['static_resources'].listeners[0]).to.not.deep.equal(atWorkloadPort(reference('inbound-permissive.yaml')['static_resources'].listeners[0]));
  });

  it('outbound: listener (HCM, route with timeout, retries and fault) and cluster (circuit breakers, protocol options, outlier, TLS) equal outbound-client.yaml', function () {
    const mesh = exampleMesh(readFileSync(join(EXAMPLES, 'outbound-policies.yaml'), 'utf8'));
    const client = mesh.clients.find((c) => c.key === 'client-ns/client')!;
    const rendered = render(mesh, { kind: 'client', client, pod: 'client.client-ns' }, { endpointAt: { address: '127.0.0.1', port: 15006 } });
    const expected = reference('outbound-client.yaml');
    const got = plain(rendered.bootstrap);
    // Naming: Istio's own cluster name where the reference writes a dot-free stand-in (its comment names Istio's).
    const istioName = 'outbound|8080||svc.server-ns.svc.cluster.local';
    const listener = got['static_resources'].listeners.find((l: Doc) => l['name'] === 'outbound_8080');
    const vhosts = listener.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts;
    const vhost = vhosts.find((v: Doc) => v['name'] === 'svc.server-ns.svc.cluster.local:8080');
    expect(vhost.domains).to.include.members(['svc.server-ns.svc.cluster.local', 'svc.server-ns.svc.cluster.local:8080', 'svc.server-ns']);
    const wantListener = withIstioServerName(expected['static_resources'].listeners[0]);
    const wantVhost = wantListener.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0];
    wantVhost.routes[0].route.cluster = istioName;
    const route = structuredClone(vhost.routes[0]);
    delete route.name;
    delete route.response_headers_to_add;
    expect(route).to.deep.equal(wantVhost.routes[0]);
    // The rest of the listener: same HCM, on the first outbound port.
    expect(listener.address).to.deep.equal(wantListener.address);
    const hcm = listener.filter_chains[0].filters[0].typed_config;
    expect({ ...hcm, route_config: undefined }).to.deep.equal({ ...wantListener.filter_chains[0].filters[0].typed_config, route_config: undefined });
    const cluster = structuredClone(got['static_resources'].clusters.find((c: Doc) => c['name'] === istioName));
    const want = structuredClone(expected['static_resources'].clusters[0]);
    want.name = istioName;
    want.load_assignment.cluster_name = istioName;
    // Istio's client ALPN with metadata exchange (the reference's comment), and client certificate file names.
    want.transport_socket.typed_config.common_tls_context.alpn_protocols = ['istio-peer-exchange', 'istio'];
    want.transport_socket.typed_config.common_tls_context.tls_certificates = [{ certificate_chain: { filename: '/etc/harness/certs/cert-chain.pem' }, private_key: { filename: '/etc/harness/certs/key.pem' } }];
    for (const e of cluster.load_assignment.endpoints[0].lb_endpoints) {
      expect(e.endpoint.hostname).to.equal('server-0.server-ns');
      delete e.endpoint.hostname;
    }
    expect(withEnvoyDefaults(cluster.outlier_detection)).to.deep.equal(withEnvoyDefaults(want.outlier_detection));
    delete cluster.outlier_detection;
    delete want.outlier_detection;
    expect(cluster).to.deep.equal(want);
    expect(checkEnvoyConfig(rendered)).to.deep.equal([]);
  });
});

describe('envoy: the seed fixtures render as the mapping tables say', function () {
  this.timeout(20_000);
  const seed = join(projectRoot, 'fixtures', 'seed');
  const mesh = resolveMesh(loadPolicies([seed]), loadTopology(join(seed, 'topology.yaml')));

  it('every sidecar of the seed (3 workloads, 2 in-mesh clients) renders and passes the static check', function () {
    const all = renderMeshEnvoyConfigs(mesh);
    expect(all.map((s) => s.key)).to.deep.equal(['prod-namespace/order-service', 'prod-namespace/payment-service', 'prod-namespace/product-service', 'prod-namespace/order-client', 'prod-namespace/product-client']);
    for (const s of all) expect(checkEnvoyConfig(s.config), s.id).to.deep.equal([]);
    for (const s of renderMeshEnvoyConfigs(mesh, { timeScale: 0.02, certificates: 'files', xds: 'static' })) expect(checkEnvoyConfig(s.config), s.id).to.deep.equal([]);
  });

  it('payment-service: STRICT only, and the restrict-payment-access ALLOW filter before the router', function () {
    const payment = plain(seedConfig(mesh, 'prod-namespace/payment-service').bootstrap);
    const listener = payment['static_resources'].listeners[0];
    expect(listener.filter_chains.map((c: Doc) => c['filter_chain_match'])).to.deep.equal([{ transport_protocol: 'tls' }]);
    const filters = listener.filter_chains[0].filters[0].typed_config.http_filters;
    expect(filters.map((f: Doc) => f['name'])).to.deep.equal(['envoy.filters.http.rbac', 'envoy.filters.http.router']);
    expect(filters[0].typed_config.rules).to.deep.equal({
      action: 'ALLOW',
      policies: {
        'ns[prod-namespace]-policy[restrict-payment-access]-rule[0]': {
          permissions: [{ and_rules: { rules: [{ or_rules: { rules: [{ header: { name: ':method', string_match: { exact: 'POST' } } }] } }, { or_rules: { rules: [{ url_path: { path: { prefix: '/pay/' } } }] } }] } }],
          principals: [{ and_ids: { ids: [{ or_ids: { ids: [{ authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/prod-namespace/sa/order-service-sa' } } }] } }] } }],
        },
      },
    });
  });

  it('order-client → payment-service: DR connection pool and outlier detection, VS timeout and retries, time-scaled', function () {
    const client = plain(seedConfig(mesh, 'prod-namespace/order-client', 0.02).bootstrap);
    const cluster = client['static_resources'].clusters.find((c: Doc) => c['name'] === 'outbound|80||payment-service.prod-namespace.svc.cluster.local');
    expect(cluster.circuit_breakers.thresholds).to.deep.equal([{ max_connections: 100, max_pending_requests: 100, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true }]);
    expect(cluster.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].common_http_protocol_options).to.deep.equal({ max_requests_per_connection: 10 });
    // 10s × 0.02, 30s × 0.02, and Envoy's 300s max_ejection_time × 0.02.
    expect(withEnvoyDefaults(cluster.outlier_detection)).to.deep.equal(withEnvoyDefaults({ consecutive_5xx: 3, enforcing_consecutive_5xx: 100, interval: '0.2s', base_ejection_time: '0.6s', max_ejection_time: '6s', max_ejection_percent: 50, enforcing_success_rate: 0 }));
    // Envoy's 1 s update_merge_window (which istiod leaves) times ejections too: scaled like them.
    expect(cluster.common_lb_config).to.deep.equal({ healthy_panic_threshold: { value: 0 }, update_merge_window: '0.02s' });
    expect(cluster.load_assignment.endpoints[0].lb_endpoints.map((e: Doc) => e['endpoint'].address.socket_address)).to.deep.equal([0, 1, 2, 3].map((i) => ({ address: `payment-service-${i}.prod-namespace`, port_value: 8080 })));
    const tls = cluster.transport_socket_matches[0].transport_socket.typed_config;
    expect(tls.sni).to.equal('outbound_.80_._.payment-service.prod-namespace.svc.cluster.local');
    expect(tls.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names).to.deep.equal([{ san_type: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/prod-namespace/sa/payment-service-sa' } }]);
    const http80 = client['static_resources'].listeners.find((l: Doc) => l['filter_chains'][0].filters[0].typed_config.stat_prefix === 'outbound_80');
    const vhost = http80.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts.find((v: Doc) => v['name'] === 'payment-service.prod-namespace.svc.cluster.local:80');
    expect(vhost.routes[0].route).to.deep.include({ cluster: 'outbound|80||payment-service.prod-namespace.svc.cluster.local', timeout: '0.06s' });
    expect(vhost.routes[0].route.retry_policy).to.deep.include({ retry_on: '5xx,gateway-error,connect-failure', num_retries: 3, per_try_timeout: '0.02s' });
    expect(client['node'].metadata.meshproof.time_scale).to.equal(0.02);
  });
});

function seedConfig(mesh: ResolvedMesh, key: string, timeScale?: number): EnvoyConfig {
  const found = renderMeshEnvoyConfigs(mesh, { xds: 'static', ...(timeScale === undefined ? {} : { timeScale }) }).find((s) => s.key === key);
  expect(found, key).to.not.equal(undefined);
  return found!.config;
}
