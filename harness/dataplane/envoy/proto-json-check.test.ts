import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { envoyApi } from './envoy-api.ts';
import { checkProtoJson, type ConfigProblem } from './proto-json-check.ts';

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const REFERENCE = join(import.meta.dirname, 'testdata', 'reference');

function reference(name: string): Record<string, any> {
  return parse(readFileSync(join(REFERENCE, name), 'utf8')) as Record<string, any>;
}

function problems(doc: unknown, type = BOOTSTRAP): ConfigProblem[] {
  return [...checkProtoJson(envoyApi(), type, doc).problems];
}

describe('envoy: strict proto3 JSON check against the API definitions', function () {
  this.timeout(20_000);

  it('loads the v3 API from @grpc/grpc-js-xds, with every message a sidecar bootstrap uses', function () {
    const api = envoyApi();
    expect(api.source.package).to.match(/^@grpc\/grpc-js-xds@/);
    for (const name of [
      'envoy.config.bootstrap.v3.Bootstrap',
      'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
      'envoy.extensions.filters.http.router.v3.Router',
      'envoy.extensions.filters.http.rbac.v3.RBAC',
      'envoy.extensions.filters.network.rbac.v3.RBAC',
      'envoy.extensions.filters.http.fault.v3.HTTPFault',
      'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
      'envoy.extensions.transport_sockets.tls.v3.Secret',
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
      'envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig',
      'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
      'envoy.service.discovery.v3.DiscoveryResponse',
    ]) {
      expect(api.message(name), name).to.not.equal(undefined);
    }
  });

  for (const file of ['inbound-strict.yaml', 'inbound-permissive.yaml', 'inbound-disable.yaml', 'outbound-client.yaml']) {
    it(`accepts the mapping's ${file} with no problem`, function () {
      expect(problems(reference(file))).to.deep.equal([]);
    });
  }

  it('names the path of an unknown field, with the nearest real name', function () {
    const doc = reference('outbound-client.yaml');
    doc['static_resources'].clusters[0].outlier_detection.consecutive_5xx_errors = 3;
    const [p, ...rest] = problems(doc);
    expect(rest).to.deep.equal([]);
    expect(p?.kind).to.equal('unknown-field');
    expect(p?.path).to.equal('static_resources.clusters[0].outlier_detection.consecutive_5xx_errors');
    expect(p?.message).to.contain("did you mean 'consecutive_5xx'");
  });

  it('refuses a bad enum value and names the enum', function () {
    const doc = reference('inbound-strict.yaml');
    doc['static_resources'].listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_params.tls_minimum_protocol_version = 'TLSv1_4';
    const [p] = problems(doc);
    expect(p?.kind).to.equal('enum');
    expect(p?.path).to.equal('static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_params.tls_minimum_protocol_version');
    expect(p?.message).to.contain('TlsParameters.TlsProtocol');
  });

  it('refuses an @type that names no message, and checks inside the ones that do', function () {
    const doc = reference('inbound-strict.yaml');
    const hcm = doc['static_resources'].listeners[0].filter_chains[0].filters[0].typed_config;
    hcm.http_filters[2].typed_config['@type'] = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr';
    hcm.http_filters[1].typed_config.rules.action = 'PERMIT';
    const found = problems(doc);
    expect(found.map((p) => p.path)).to.deep.equal([
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[1].typed_config.rules.action',
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[2].typed_config.@type',
    ]);
    expect(found[1]?.kind).to.equal('type-url');
  });

  it('checks scalar kinds and ranges, durations and PGV bounds', function () {
    const doc = reference('outbound-client.yaml');
    const cluster = doc['static_resources'].clusters[0];
    cluster.circuit_breakers.thresholds[0].max_connections = 4294967296;
    cluster.connect_timeout = '1 s';
    cluster.outlier_detection.max_ejection_percent = 101;
    cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value = '15006x';
    const byPath = new Map(problems(doc).map((p) => [p.path.replace('static_resources.clusters[0].', ''), p.kind]));
    expect(Object.fromEntries(byPath)).to.deep.equal({
      'circuit_breakers.thresholds[0].max_connections': 'range',
      connect_timeout: 'kind',
      'outlier_detection.max_ejection_percent': 'constraint',
      'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value': 'kind',
    });
  });

  it('accepts JSON names, refuses a field written twice, two oneof members, and deprecated fields', function () {
    const cluster = { name: 'c', connectTimeout: '1s', connect_timeout: '2s' };
    expect(problems(cluster, 'envoy.config.cluster.v3.Cluster').map((p) => p.kind)).to.deep.equal(['duplicate']);
    expect(problems({ name: 'c', lbPolicy: 'RANDOM', maxRequestsPerConnection: 1 }, 'envoy.config.cluster.v3.Cluster').map((p) => [p.path, p.kind])).to.deep.equal([['maxRequestsPerConnection', 'deprecated']]);
    expect(problems({ exact: 'a', prefix: 'b' }, 'envoy.type.matcher.v3.StringMatcher').map((p) => p.kind)).to.deep.equal(['oneof']);
    expect(problems({ prefix: '' }, 'envoy.type.matcher.v3.StringMatcher').map((p) => [p.path, p.kind])).to.deep.equal([['prefix', 'constraint']]);
    expect(problems({}, 'envoy.type.matcher.v3.StringMatcher').map((p) => p.kind)).to.deep.equal(['constraint']);
  });

  it('gives one canonical form to camelCase and snake_case documents that mean the same', function () {
    const api = envoyApi();
    const type = 'envoy.extensions.filters.http.rbac.v3.RBAC';
    const snake = { rules: { action: 'ALLOW', policies: { p: { permissions: [{ and_rules: { rules: [{ url_path: { path: { prefix: '/a' } } }] } }], principals: [{ any: true }] } } }, shadow_rules_stat_prefix: 'x_' };
    const camel = { rules: { policies: { p: { permissions: [{ andRules: { rules: [{ urlPath: { path: { prefix: '/a' } } }] } }], principals: [{ any: true }] } } }, shadowRulesStatPrefix: 'x_' };
    const a = checkProtoJson(api, type, snake);
    const b = checkProtoJson(api, type, camel);
    expect(a.problems).to.deep.equal([]);
    expect(b.problems).to.deep.equal([]);
    expect(a.canonical).to.deep.equal(b.canonical);
    const different = checkProtoJson(api, type, { ...camel, shadowRulesStatPrefix: 'y_' });
    expect(different.canonical).to.not.deep.equal(a.canonical);
  });
});
