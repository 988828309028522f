import { expect } from 'chai';
import { loadTopology } from '../../../harness/index.ts';
import { resilienceCases } from '../cases/index.ts';
import { RESILIENCE_TOPOLOGY, resolveResilienceMesh } from '../resilience-env.ts';
import { RESILIENCE_BREAKAGES, breakResilience, type ResilienceBreakage } from './broken-resilience.ts';

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

  const seedRoute = (m: typeof mesh, service = 'payment-service') => m.destinations.find((d) => d.name === service)?.httpRoutes[0];

  it('retry-on-4xx: retryOn keeps its tokens and adds retriable-4xx and every 4xx code', function () {
    const retryOn = seedRoute(breakResilience(mesh, ['retry-on-4xx']))?.retries?.retryOn?.split(',') ?? [];
    expect(retryOn.slice(0, 4)).to.deep.equal(['5xx', 'gateway-error', 'connect-failure', 'retriable-4xx']);
    expect(retryOn).to.include.members(['400', '404', '409', '429', '499']);
    // A route with attempts 0 keeps its (absent) retries.
    expect(seedRoute(breakResilience(mesh, ['retry-on-4xx']), 'payment-timeout')?.retries?.attempts).to.equal(0);
  });

  it('route-timeout-off, route-timeout-doubled and per-try-timeout-off change only their field', function () {
    expect(seedRoute(breakResilience(mesh, ['route-timeout-off']))?.timeout).to.equal(undefined);
    expect(seedRoute(breakResilience(mesh, ['route-timeout-doubled']))?.timeout).to.equal('6s');
    const perTryOff = seedRoute(breakResilience(mesh, ['per-try-timeout-off']));
    expect(perTryOff?.retries).to.deep.equal({ attempts: 3, retryOn: '5xx,gateway-error,connect-failure' });
    expect(perTryOff?.timeout).to.equal('3s');
  });

  it('max-ejection-percent-ignored and pool-limits-off-by-one alter the DestinationRules', function () {
    expect(od(breakResilience(mesh, ['max-ejection-percent-ignored']), 'payment-cap')?.maxEjectionPercent).to.equal(100);
    const pool = breakResilience(mesh, ['pool-limits-off-by-one']).destinations.find((d) => d.name === 'payment-pool')?.ports[0]?.trafficPolicy?.connectionPool;
    expect([pool?.tcp?.maxConnections, pool?.http?.http1MaxPendingRequests, pool?.http?.maxRequestsPerConnection]).to.deep.equal([2, 2, 10]);
  });

  it('fault-abort-ignored and fault-delay-ignored drop one half of the fault each', function () {
    const faulty = resolveResilienceMesh(loadTopology(RESILIENCE_TOPOLOGY), ['resilience/fault-injection.yaml']);
    const faults = (m: typeof faulty) => m.destinations.find((d) => d.name === 'payment-fault')?.httpRoutes.map((r) => Object.keys(r.fault ?? {}).sort().join('+'));
    expect(faults(faulty)).to.include.members(['delay', 'abort']);
    expect(faults(breakResilience(faulty, ['fault-abort-ignored']))).to.not.include('abort');
    expect(faults(breakResilience(faulty, ['fault-delay-ignored']))).to.not.include('delay');
  });

  it('ejection-time-not-doubled alters the rendered files, not the policies', function () {
    expect(breakResilience(mesh, ['ejection-time-not-doubled'])).to.equal(mesh);
  });

  it('every breakage names a case of the suite that must catch it', function () {
    const names = resilienceCases.map((c) => c.shortName);
    for (const b of Object.keys(RESILIENCE_BREAKAGES) as ResilienceBreakage[]) expect(names, b).to.include(RESILIENCE_BREAKAGES[b].caughtBy);
  });

  it('no breakage renders the mesh as it is', function () {
    expect(breakResilience(mesh, [])).to.equal(mesh);
  });
});
