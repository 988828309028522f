import { expect } from 'chai';
import { loadTopology } from '../../../harness/index.ts';
import { RESILIENCE_TOPOLOGY, resolveResilienceMesh } from '../resilience-env.ts';
import { breakResilience } from './broken-resilience.ts';

describe('resilience breakages (the can-fail data plane)', function () {
  const mesh = resolveResilienceMesh(loadTopology(RESILIENCE_TOPOLOGY));
  const od = (m: typeof mesh, service: string) => m.destinations.find((d) => d.name === service)?.ports[0]?.trafficPolicy?.outlierDetection;

  it('drop-outlier-detection: every service loses its outlierDetection and keeps its connectionPool', function () {
    const broken = breakResilience(mesh, ['drop-outlier-detection']);
    expect(od(mesh, 'payment-eject')).to.not.equal(undefined);
    expect(broken.destinations.map((d) => od(broken, d.name))).to.deep.equal(broken.destinations.map(() => undefined));
    expect(broken.destinations.find((d) => d.name === 'payment-pool')?.ports[0]?.trafficPolicy?.connectionPool?.tcp?.maxConnections).to.equal(1);
  });

  it("drop-retries: the seed's route loses its retries and keeps its timeout", function () {
    const route = breakResilience(mesh, ['drop-retries']).destinations.find((d) => d.name === 'payment-service')?.httpRoutes[0];
    expect(route?.retries).to.equal(undefined);
    expect(route?.timeout).to.equal('3s');
  });

  it('no breakage renders the mesh as it is', function () {
    expect(breakResilience(mesh, [])).to.equal(mesh);
  });
});
