/**
 * The suite's fixtures hold to what their comments say: each DestinationRule variation is the
 * seed's trafficPolicy but for the fields it names, and the topology is the seed's payment-service.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { loadPolicies, loadTopology, type TrafficPolicy } from '../../harness/index.ts';
import { FIXTURES_DIR } from '../shared/fixtures-dir.ts';
import { BASE_MANIFESTS, RESILIENCE_TOPOLOGY, resolveResilienceMesh } from './resilience-env.ts';

const seedPolicy = (): TrafficPolicy => loadPolicies([join(FIXTURES_DIR, 'seed/destination-rule.yaml')]).destinationRules[0]!.spec.trafficPolicy!;
const ROUND_ROBIN = { loadBalancer: { simple: 'ROUND_ROBIN' } };

describe('resilience fixtures', function () {
  const rules = loadPolicies([join(FIXTURES_DIR, 'resilience/destination-rules.yaml')]).destinationRules;
  const policy = (host: string): TrafficPolicy | undefined => rules.find((r) => r.spec.host === host)?.spec.trafficPolicy;
  const seed = seedPolicy();
  const withOutlier = (extra: object): TrafficPolicy => ({ ...seed, ...ROUND_ROBIN, outlierDetection: { ...seed.outlierDetection, ...extra } });

  it("each DestinationRule variation is the seed's trafficPolicy with only the fields its comment names", function () {
    expect(policy('payment-eject')).to.deep.equal({ ...seed, ...ROUND_ROBIN });
    expect(policy('payment-cap')).to.deep.equal({ ...seed, ...ROUND_ROBIN });
    expect(policy('payment-panic')).to.deep.equal(withOutlier({ maxEjectionPercent: 100, minHealthPercent: 50 }));
    expect(policy('payment-nopanic')).to.deep.equal(withOutlier({ maxEjectionPercent: 100 }));
    expect(policy('payment-cap20')).to.deep.equal(withOutlier({ maxEjectionPercent: 20 }));
    expect(policy('payment-pool')).to.deep.equal({ ...seed, connectionPool: { tcp: { maxConnections: 1 }, http: { ...seed.connectionPool?.http, http1MaxPendingRequests: 1 } } });
    expect(policy('payment-seed-pool')).to.deep.equal(seed);
    for (const fault of ['crash', 'hang', 'freeze', 'partition']) expect(policy(`payment-${fault}`), fault).to.deep.equal(seed);
  });

  it("each replica-fault service has the seed's VirtualService route", function () {
    const seedRoute = loadPolicies([join(FIXTURES_DIR, 'seed/virtual-service.yaml')]).virtualServices[0]!.spec.http![0]!;
    const routes = loadPolicies([join(FIXTURES_DIR, 'resilience/virtual-services.yaml')]).virtualServices;
    for (const fault of ['crash', 'hang', 'freeze', 'partition']) {
      const route = routes.find((v) => v.spec.hosts?.[0] === `payment-${fault}`)?.spec.http?.[0];
      expect(route && { ...route, route: undefined }, fault).to.deep.equal({ ...seedRoute, route: undefined });
      expect(route?.route?.[0]?.destination?.host, fault).to.equal(`payment-${fault}`);
    }
  });

  it('every service of the topology selects the 4 payment-service replicas, and the base manifests resolve on it', function () {
    const topology = loadTopology(RESILIENCE_TOPOLOGY);
    expect(topology.workloads.map((w) => [w.name, w.replicas])).to.deep.equal([['payment-service', 4]]);
    const mesh = resolveResilienceMesh(topology);
    expect(mesh.destinations.every((d) => d.endpointCount === 4)).to.equal(true);
    expect(BASE_MANIFESTS.filter((m) => m.startsWith('seed/'))).to.have.length(3);
    expect(mesh.destinations.find((d) => d.name === 'payment-service')?.httpRoutes[0]?.retries).to.deep.equal({ attempts: 3, perTryTimeout: '1s', retryOn: '5xx,gateway-error,connect-failure' });
  });
});
