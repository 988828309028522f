import { expect } from 'chai';
import type { HttpRoute } from '../model/resources.ts';
import { allowedOutcomes, replicaFaultReading, MESH_DEFAULT_CONNECT_TIMEOUT_MS } from './replica-fault.ts';

/** The seed's VirtualService at time scale 0.02: timeout 3s → 60 ms, 3 retries, perTryTimeout 1s → 20 ms. */
const SEED_ROUTE = { route: [{ destination: { host: 'payment-service' } }], timeout: '60ms', retries: { attempts: 3, perTryTimeout: '20ms', retryOn: '5xx,gateway-error,connect-failure' } } as unknown as HttpRoute;
const NO_RETRIES = { ...SEED_ROUTE, retries: { attempts: 0 } } as unknown as HttpRoute;
const seed = { route: SEED_ROUTE, connectTimeoutMs: MESH_DEFAULT_CONNECT_TIMEOUT_MS };

describe('oracle: a replica in trouble (crash, hang, freeze, partition)', function () {
  it("with the seed's route, a crashed or hung replica costs one retry and is ejected for certain", function () {
    for (const fault of ['crash', 'hang'] as const) {
      const r = replicaFaultReading(fault, seed);
      expect(allowedOutcomes(r), fault).to.deep.equal(['200 -×2']);
      expect(r.ejectionCertain, fault).to.equal(true);
      expect(r.finding, fault).to.equal(undefined);
    }
  });

  it("with the seed's route, a frozen or unreachable replica fails requests that need a new connection (504 UT, one attempt) and may never be ejected", function () {
    for (const fault of ['freeze', 'partition'] as const) {
      const r = replicaFaultReading(fault, seed);
      expect(allowedOutcomes(r), fault).to.deep.equal(['200 -×2', '504 UT×1']);
      expect(r.paths.map((p) => [p.via, p.countsForOutlier])).to.deep.equal([
        ['an existing connection', true],
        ['a new connection', false],
      ]);
      expect(r.ejectionCertain).to.equal(false);
      expect(r.finding).to.match(/connectTimeout below the route timeout/);
      // The retry after a 20 ms per-try timeout and a back-off of up to 25 ms has 15 ms left of the 60.
      expect(r.paths[0]?.retryBudgetMs).to.equal(15);
    }
  });

  it('a connect timeout below the route timeout turns the wait into a connect failure that is retried and counted', function () {
    const r = replicaFaultReading('freeze', { route: SEED_ROUTE, connectTimeoutMs: 30 });
    expect(allowedOutcomes(r)).to.deep.equal(['200 -×2']);
    expect(r.ejectionCertain).to.equal(true);
    expect(r.finding).to.equal(undefined);
  });

  it('without retries the client sees the failure itself: 503 from a crashed replica (504 UT when its back-off outlasts the route timeout), 504 UT from a hung one', function () {
    const route = { route: NO_RETRIES, connectTimeoutMs: MESH_DEFAULT_CONNECT_TIMEOUT_MS };
    // The replica's inbound retries may wait up to 100 ms, past the 60 ms route timeout.
    expect(allowedOutcomes(replicaFaultReading('crash', route))).to.deep.equal(['503 -×1', '504 UT×1']);
    expect(allowedOutcomes(replicaFaultReading('hang', route))).to.deep.equal(['504 UT×1']);
  });

  it('with no timeout on the route a hung replica is never answered, and nothing counts it', function () {
    const r = replicaFaultReading('hang', { route: undefined, connectTimeoutMs: MESH_DEFAULT_CONNECT_TIMEOUT_MS });
    expect(allowedOutcomes(r)).to.deep.equal(['0 -×1']);
    expect(r.ejectionCertain).to.equal(false);
  });
});
