import { expect } from 'chai';
import { admittedAtOnce, mostAtOnce, poolLimits } from './pool-limits.ts';

describe('connection-pool limits, as istiod sets them', function () {
  it("the seed's pool: 100 connections, 100 pending; unset thresholds are Istio's 2^32-1, and 0 means unset", function () {
    expect(poolLimits({ tcp: { maxConnections: 100 }, http: { http1MaxPendingRequests: 100, maxRequestsPerConnection: 10 } })).to.deep.equal({ maxConnections: 100, maxPendingRequests: 100, maxRequests: 2 ** 32 - 1, maxRetries: 2 ** 32 - 1 });
    expect(poolLimits({ tcp: { maxConnections: 0 } }).maxConnections).to.equal(2 ** 32 - 1);
    expect(poolLimits(undefined).maxPendingRequests).to.equal(2 ** 32 - 1);
  });

  it('admits maxConnections plus one connection per host Envoy picks past it, plus the pending queue (HTTP/1.1)', function () {
    const one = poolLimits({ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } });
    expect(admittedAtOnce(one, 4)).to.equal(6);
    expect(admittedAtOnce(poolLimits({ tcp: { maxConnections: 100 }, http: { http1MaxPendingRequests: 100, http2MaxRequests: 3 } }), 4)).to.equal(103);
  });

  it('counts the most intervals in flight at once, shrunk at both ends by the slack', function () {
    const spans = [
      { startMs: 0, endMs: 100 },
      { startMs: 10, endMs: 200 },
      { startMs: 99, endMs: 300 },
    ];
    expect(mostAtOnce(spans, 0)).to.equal(3);
    // 99..100 is within 2 ms of the first one's end: not counted as overlapping.
    expect(mostAtOnce(spans, 2)).to.equal(2);
    expect(mostAtOnce([], 1)).to.equal(0);
  });
});
