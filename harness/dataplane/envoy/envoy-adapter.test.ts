import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { loadPolicies } from '../../model/load-policies.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { loadTopology } from '../../model/topology.ts';
import { projectRoot } from '../../project-root.ts';
import { createDataPlane } from '../create-data-plane.ts';
import { EnvoyAdapter } from './envoy-adapter.ts';
import { ENVOY_PULL_ENV } from './availability.ts';

const seed = join(projectRoot, 'fixtures', 'seed');
const mesh = () => resolveMesh(loadPolicies([seed], { exclude: (f) => f.endsWith('topology.yaml') }), loadTopology(join(seed, 'topology.yaml')));

describe('Envoy adapter (DataPlaneAdapter)', function () {
  it('says it cannot run here, with what it looked for, when no engine or binary is given', async function () {
    const adapter = new EnvoyAdapter({ availability: { env: { [ENVOY_PULL_ENV]: '0' } } });
    const info = await adapter.info();
    expect(info).to.include({ name: 'envoy', available: false });
    expect(info.unavailableReason).to.match(/^envoy unavailable: local binary \(MESHPROOF_ENVOY_BINARY\): not set; image envoyproxy\/envoy/);
  });

  it('renders one proxy per target and writes a bootstrap that names the workload\'s listener ports', async function () {
    const m = mesh();
    const adapter = createDataPlane('envoy', { timeScale: 0.02 });
    const payment = m.workloads.find((w) => w.name === 'payment-service')!;
    const proxy = await adapter.render(m, { kind: 'workload', workload: payment, pod: 'payment-service-0.prod-namespace' }, { generation: 1 });
    expect([...proxy.inboundPorts.keys()]).to.deep.equal(payment.ports.map((p) => p.port));
    expect(proxy.metricsSocket).to.equal('envoy-stats.sock');
    const dir = mkdtempSync(join(tmpdir(), 'envoy-adapter-'));
    await proxy.write(dir);
    const files = readdirSync(join(dir, 'envoy'));
    expect(files).to.include('envoy.yaml');
    const bootstrap = parse(readFileSync(join(dir, 'envoy', 'envoy.yaml'), 'utf8')) as { static_resources: { listeners: { address: { socket_address?: { port_value: number } } }[] } };
    const ports = bootstrap.static_resources.listeners.map((l) => l.address.socket_address?.port_value);
    for (const listen of proxy.inboundPorts.values()) expect(ports).to.include(listen);
  });

  it('refuses an unknown data plane name, naming the choices', function () {
    expect(() => createDataPlane('linkerd')).to.throw("unknown data plane 'linkerd'");
  });
});
