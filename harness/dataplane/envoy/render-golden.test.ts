/**
 * Golden tests: rendered bootstraps against the mapping's reference configs
 * (testdata/reference/, copies of shared/reference/envoy-configs/), section by section, from a
 * fixture that states the reference's inputs (testdata/mapping-examples/), and the seed fixtures
 * against the values the mapping's tables give for them.
 *
 * Rendered with the options that match the reference's placeholders: certificates inline under
 * /etc/harness/certs, no access log, no stats socket. Two documented differences are mapped
 * before comparing: the outbound reference names its client certificate `client-*.pem` (one
 * folder for both sides), and its single virtual host lists `*` where the renderer writes
 * Istio's domain list (needed once a port has several services).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { loadPolicies, parsePolicies } from '../../model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../../model/resolve.ts';
import { loadTopology, topologyFromYaml } from '../../model/topology.ts';
import { projectRoot } from '../../project-root.ts';
import { renderEnvoyBootstraps, type RenderedSidecar } from './bootstrap.ts';
import type { EnvoyRenderOptions } from './render-options.ts';
import { checkRenderedSidecar } from './static-check.ts';

const HERE = import.meta.dirname;
const REFERENCE = join(HERE, 'testdata', 'reference');
const EXAMPLES = join(HERE, 'testdata', 'mapping-examples');
const AS_REFERENCE: EnvoyRenderOptions = { certificates: 'files', certDir: '/etc/harness/certs', accessLog: false, statsSocket: null };

type Doc = Record<string, any>;

function reference(file: string): Doc {
  return parse(readFileSync(join(REFERENCE, file), 'utf8')) as Doc;
}

function exampleMesh(policiesYaml: string): ResolvedMesh {
  const { set, issues } = parsePolicies(policiesYaml, 'policies.yaml');
  expect(issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
  return resolveMesh(set, topologyFromYaml(readFileSync(join(EXAMPLES, 'topology.yaml'), 'utf8')));
}

function sidecar(all: readonly RenderedSidecar[], key: string): RenderedSidecar {
  const found = all.find((s) => s.key === key);
  expect(found, key).to.not.equal(undefined);
  return found as RenderedSidecar;
}

/** JSON round trip: the rendered objects as the YAML file holds them. */
function plain(value: unknown): Doc {
  return JSON.parse(JSON.stringify(value)) as Doc;
}

function peerAuthentication(mode: string): string {
  return `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: server-ns}\nspec: {mtls: {mode: ${mode}}}\n---\n`;
}

describe('envoy: rendered bootstraps match the mapping reference configs', function () {
  this.timeout(20_000);
  const inboundPolicies = readFileSync(join(EXAMPLES, 'inbound-policies.yaml'), 'utf8');

  for (const [mode, file] of [['STRICT', 'inbound-strict.yaml'], ['PERMISSIVE', 'inbound-permissive.yaml'], ['DISABLE', 'inbound-disable.yaml']] as const) {
    it(`${mode}: listener (filter chains, TLS, HCM, RBAC), inbound cluster and admin equal ${file} field by field`, function () {
      const rendered = sidecar(renderEnvoyBootstraps(exampleMesh(peerAuthentication(mode) + inboundPolicies), AS_REFERENCE), 'server-ns/server');
      const expected = reference(file);
      const got = plain(rendered.bootstrap);
      expect(got['admin']).to.deep.equal(expected['admin']);
      expect(got['static_resources'].listeners[0]).to.deep.equal(expected['static_resources'].listeners[0]);
      const inboundCluster = got['static_resources'].clusters.find((c: Doc) => c['name'] === 'inbound_8080');
      expect(inboundCluster).to.deep.equal(expected['static_resources'].clusters[0]);
      expect(checkRenderedSidecar(rendered)).to.deep.equal([]);
    });
  }

  it('the comparison can fail: STRICT rendered against the PERMISSIVE reference differs', function () {
    const rendered = sidecar(renderEnvoyBootstraps(exampleMesh(peerAuthentication('STRICT') + inboundPolicies), AS_REFERENCE), 'server-ns/server');
    expect(plain(rendered.bootstrap)['static_resources'].listeners[0]).to.not.deep.equal(reference('inbound-permissive.yaml')['static_resources'].listeners[0]);
  });

  it('outbound: listener (HCM, route with timeout, retries and fault) and cluster (circuit breakers, protocol options, outlier, TLS) equal outbound-client.yaml', function () {
    const mesh = exampleMesh(readFileSync(join(EXAMPLES, 'outbound-policies.yaml'), 'utf8'));
    const rendered = sidecar(renderEnvoyBootstraps(mesh, { ...AS_REFERENCE, adminPort: 15100, podHost: () => '127.0.0.1' }), 'client-ns/client');
    const expected = reference('outbound-client.yaml');
    const got = plain(rendered.bootstrap);
    expect(got['admin']).to.deep.equal(expected['admin']);
    const [listener] = got['static_resources'].listeners;
    const vhost = listener.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0];
    expect(vhost.domains).to.include.members(['svc.server-ns.svc.cluster.local', 'svc.server-ns.svc.cluster.local:8080', 'svc.server-ns']);
    vhost.domains = ['*'];
    expect(listener).to.deep.equal(expected['static_resources'].listeners[0]);
    const [cluster] = got['static_resources'].clusters;
    const certs = cluster.transport_socket.typed_config.common_tls_context.tls_certificates[0];
    expect(certs).to.deep.equal({ certificate_chain: { filename: '/etc/harness/certs/cert-chain.pem' }, private_key: { filename: '/etc/harness/certs/key.pem' } });
    cluster.transport_socket.typed_config.common_tls_context.tls_certificates = [{ certificate_chain: { filename: '/etc/harness/certs/client-cert-chain.pem' }, private_key: { filename: '/etc/harness/certs/client-key.pem' } }];
    expect(cluster).to.deep.equal(expected['static_resources'].clusters[0]);
    expect(checkRenderedSidecar(rendered)).to.deep.equal([]);
  });
});

describe('envoy: the seed fixtures render as the mapping tables say', function () {
  this.timeout(20_000);
  const seed = join(projectRoot, 'fixtures', 'seed');
  const mesh = resolveMesh(loadPolicies([seed]), loadTopology(join(seed, 'topology.yaml')));

  it('every sidecar of the seed (3 workloads, 2 in-mesh clients) renders and passes the static check', function () {
    const all = renderEnvoyBootstraps(mesh);
    expect(all.map((s) => s.key)).to.deep.equal(['prod-namespace/order-service', 'prod-namespace/payment-service', 'prod-namespace/product-service', 'prod-namespace/order-client', 'prod-namespace/product-client']);
    for (const s of all) expect(checkRenderedSidecar(s), s.id).to.deep.equal([]);
    for (const s of renderEnvoyBootstraps(mesh, { timeScale: 0.02, certificates: 'files' })) expect(checkRenderedSidecar(s), s.id).to.deep.equal([]);
  });

  it('payment-service: STRICT only, and the restrict-payment-access ALLOW filter before the router', function () {
    const payment = plain(sidecar(renderEnvoyBootstraps(mesh), 'prod-namespace/payment-service').bootstrap);
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
    const client = plain(sidecar(renderEnvoyBootstraps(mesh, { timeScale: 0.02 }), 'prod-namespace/order-client').bootstrap);
    const cluster = client['static_resources'].clusters.find((c: Doc) => c['name'] === 'outbound_80__payment-service');
    expect(cluster.circuit_breakers.thresholds).to.deep.equal([{ max_connections: 100, max_pending_requests: 100, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true }]);
    expect(cluster.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].common_http_protocol_options).to.deep.equal({ max_requests_per_connection: 10 });
    // 10s × 0.02, 30s × 0.02, and Envoy's 300s max_ejection_time × 0.02.
    expect(cluster.outlier_detection).to.deep.equal({ consecutive_5xx: 3, enforcing_consecutive_5xx: 100, interval: '0.2s', base_ejection_time: '0.6s', max_ejection_time: '6s', max_ejection_percent: 50, enforcing_success_rate: 0 });
    expect(cluster.common_lb_config).to.deep.equal({ healthy_panic_threshold: { value: 0 } });
    expect(cluster.load_assignment.endpoints[0].lb_endpoints.map((e: Doc) => e['endpoint'].address.socket_address)).to.deep.equal([0, 1, 2, 3].map((i) => ({ address: `payment-service-${i}.prod-namespace`, port_value: 15006 })));
    const tls = cluster.transport_socket_matches[0].transport_socket.typed_config;
    expect(tls.sni).to.equal('outbound_.80_._.payment-service.prod-namespace.svc.cluster.local');
    expect(tls.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names).to.deep.equal([{ san_type: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/prod-namespace/sa/payment-service-sa' } }]);
    const http80 = client['static_resources'].listeners.find((l: Doc) => l['filter_chains'][0].filters[0].typed_config.stat_prefix === 'outbound_80');
    const vhost = http80.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts.find((v: Doc) => v['name'] === 'payment-service.prod-namespace.svc.cluster.local:80');
    expect(vhost.routes[0].route).to.deep.include({ cluster: 'outbound_80__payment-service', timeout: '0.06s' });
    expect(vhost.routes[0].route.retry_policy).to.deep.include({ retry_on: '5xx,gateway-error,connect-failure', num_retries: 3, per_try_timeout: '0.02s' });
    expect(client['node'].metadata.meshproof.time_scale).to.equal(0.02);
  });
});
