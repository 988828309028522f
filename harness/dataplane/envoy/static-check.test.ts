import { join } from 'node:path';
import { expect } from 'chai';
import { loadPolicies } from '../../model/load-policies.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { loadTopology } from '../../model/topology.ts';
import { projectRoot } from '../../project-root.ts';
import { renderMeshEnvoyConfigs, type EnvoyConfig } from './envoy-config.ts';
import { checkEnvoyConfig } from './static-check.ts';

type Doc = Record<string, any>;

function seedConfig(key: string): EnvoyConfig {
  const seed = join(projectRoot, 'fixtures', 'seed');
  const all = renderMeshEnvoyConfigs(resolveMesh(loadPolicies([seed]), loadTopology(join(seed, 'topology.yaml'))));
  const found = all.find((s) => s.key === key);
  if (found === undefined) throw new Error(`no sidecar ${key}`);
  return structuredClone(found.config);
}

describe('envoy: the static check of a rendered configuration', function () {
  this.timeout(20_000);

  it('passes an untouched rendering', function () {
    expect(checkEnvoyConfig(seedConfig('prod-namespace/order-service'))).to.deep.equal([]);
  });

  it('refuses a route to a cluster that is not defined, two listeners on one address, and an SDS file not rendered', function () {
    const c = seedConfig('prod-namespace/order-service');
    const listeners = c.listeners as Doc[];
    const index = listeners.findIndex((l) => l['name'] === 'outbound_80');
    const outbound = listeners[index]!;
    outbound.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster = 'outbound|80||nowhere';
    const broken: EnvoyConfig = { ...c, listeners: [...listeners, { ...structuredClone(outbound), name: 'outbound_copy' }], files: c.files.filter((f) => f.name !== 'sds-rootca.yaml') };
    const messages = checkEnvoyConfig(broken).map((p) => `${p.file}: ${p.path}: ${p.message}`);
    expect(messages).to.include.members([
      `lds: listeners[${index}].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster: names cluster 'outbound|80||nowhere', which is not defined`,
      `lds: listeners[${listeners.length}].address: two listeners bind {"socket_address":{"address":"127.0.0.1","port_value":15001}}`,
    ]);
    expect(messages.some((m) => m.includes('path_config_source.path: points at /run/meshproof/envoy/sds-rootca.yaml, which was not rendered'))).to.equal(true);
  });

  it('checks the files Envoy watches against DiscoveryResponse, Any contents included', function () {
    const c = seedConfig('prod-namespace/order-client');
    const cert = c.files.find((f) => f.name === 'sds-default.yaml')?.document as Doc;
    cert['resources'][0].tls_certificate.watched_dir = { path: '/x' };
    const [p] = checkEnvoyConfig(c);
    expect(p?.file).to.equal('sds-default.yaml');
    expect(p?.path).to.equal('resources[0].tls_certificate.watched_dir');
    expect(p?.message).to.contain("did you mean 'watched_directory'");
    const lds = structuredClone(seedConfig('prod-namespace/order-client'));
    ((lds.files.find((f) => f.name === 'lds.yaml')?.document as Doc)['resources'][0] as Doc)['per_connection_buffer_limit'] = 1;
    expect(checkEnvoyConfig(lds).map((x) => x.file)).to.deep.equal(['lds.yaml']);
  });
});
