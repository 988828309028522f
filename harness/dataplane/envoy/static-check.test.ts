import { join } from 'node:path';
import { expect } from 'chai';
import { loadPolicies } from '../../model/load-policies.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { loadTopology } from '../../model/topology.ts';
import { projectRoot } from '../../project-root.ts';
import { renderEnvoyBootstraps, type RenderedSidecar } from './bootstrap.ts';
import { checkRenderedSidecar } from './static-check.ts';

type Doc = Record<string, any>;

function seedSidecar(key: string): RenderedSidecar {
  const seed = join(projectRoot, 'fixtures', 'seed');
  const all = renderEnvoyBootstraps(resolveMesh(loadPolicies([seed]), loadTopology(join(seed, 'topology.yaml'))));
  const found = all.find((s) => s.key === key);
  if (found === undefined) throw new Error(`no sidecar ${key}`);
  return structuredClone(found);
}

describe('envoy: the static check of a rendered sidecar', function () {
  this.timeout(20_000);

  it('passes an untouched rendering', function () {
    expect(checkRenderedSidecar(seedSidecar('prod-namespace/order-service'))).to.deep.equal([]);
  });

  it('refuses a route to a cluster that is not defined, two listeners on one address, and an SDS file not rendered', function () {
    const s = seedSidecar('prod-namespace/order-service');
    const resources = (s.bootstrap as Doc)['static_resources'];
    const outbound = resources.listeners.find((l: Doc) => l['name'] === 'outbound_15001');
    outbound.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster = 'outbound_80__nowhere';
    resources.listeners.push({ ...structuredClone(outbound), name: 'outbound_copy' });
    const broken = { ...s, sds: s.sds.filter((f) => f.name !== 'sds-rootca.yaml') };
    const messages = checkRenderedSidecar(broken).map((p) => `${p.path}: ${p.message}`);
    expect(messages).to.include.members([
      "static_resources.listeners[1].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster: names cluster 'outbound_80__nowhere', which is not defined",
      `static_resources.listeners[${resources.listeners.length - 1}].address: two listeners bind {"socket_address":{"address":"127.0.0.1","port_value":15001}}`,
    ]);
    expect(messages.some((m) => m.includes('validation_context_sds_secret_config.sds_config.path_config_source.path: points at /run/meshproof/envoy/sds-rootca.yaml, which was not rendered'))).to.equal(true);
  });

  it('checks the SDS files against DiscoveryResponse, Any contents included', function () {
    const s = seedSidecar('prod-namespace/order-client');
    const cert = s.sds.find((f) => f.name === 'sds-default.yaml')?.document as Doc;
    cert['resources'][0].tls_certificate.watched_dir = { path: '/x' };
    const [p] = checkRenderedSidecar(s);
    expect(p?.file).to.equal('prod-namespace.order-client.sds-default.yaml');
    expect(p?.path).to.equal('resources[0].tls_certificate.watched_dir');
    expect(p?.message).to.contain("did you mean 'watched_directory'");
  });
});
