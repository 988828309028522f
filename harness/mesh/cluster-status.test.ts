import { expect } from 'chai';
import { isMeshproofError } from '../errors.ts';
import { findCluster, parseClusters } from './cluster-status.ts';
import { countFlags, forwardDeadline, withSidecarDurations } from './mesh-forward.ts';

/** What the reference sidecar's /clusters?format=json answers (Envoy's admin.v3.Clusters shape). */
const ADMIN = JSON.stringify({
  cluster_statuses: [
    {
      name: 'outbound|80||payment.prod.svc.cluster.local',
      host_statuses: [
        { address: { socket_address: { address: '172.18.0.4', port_value: 8080 } }, hostname: 'payment-0.prod', stats: [{ name: 'rq_total', value: '7' }, { name: 'cx_active', value: '1', type: 'GAUGE' }], health_status: { eds_health_status: 'HEALTHY' } },
        { address: { socket_address: { address: '172.18.0.5', port_value: 8080 } }, hostname: 'payment-1.prod', stats: [{ name: 'rq_total', value: '3' }], health_status: { failed_outlier_check: true, eds_health_status: 'HEALTHY' } },
      ],
    },
    { name: 'outbound|8080||payment-0.prod', host_statuses: [] },
  ],
});

describe('client sidecar views: /clusters and forwarded results', function () {
  it('reads hosts, their ejection and counters from /clusters', function () {
    const clusters = parseClusters(ADMIN, 'order-client');
    const payment = findCluster(clusters, 'payment.prod.svc.cluster.local', 80);
    expect(payment.hosts.map((h) => [h.hostname, h.address, h.port, h.ejected, h.stats['rq_total']])).to.deep.equal([
      ['payment-0.prod', '172.18.0.4', 8080, false, 7],
      ['payment-1.prod', '172.18.0.5', 8080, true, 3],
    ]);
    expect(findCluster(clusters, 'outbound|8080||payment-0.prod').hosts).to.deep.equal([]);
  });

  it('says which clusters exist when one is not there, and that an answer is not JSON', function () {
    try {
      findCluster(parseClusters(ADMIN, 'order-client'), 'ledger.prod.svc.cluster.local');
      expect.fail('found a cluster that is not there');
    } catch (error) {
      expect(isMeshproofError(error)).to.equal(true);
      expect((error as { hint?: string }).hint).to.contain('outbound|80||payment.prod.svc.cluster.local');
    }
    expect(() => parseClusters('<html>', 'order-client')).to.throw(/not JSON/);
  });

  it('counts flags over forwarded results, naming calls that got no response by their outcome', function () {
    const base = { startedAtMs: 0, durationMs: 1 };
    expect(
      countFlags([
        { ...base, index: 0, outcome: 'response', status: 200, responseFlags: '-' },
        { ...base, index: 1, outcome: 'response', status: 503, responseFlags: 'UO' },
        { ...base, index: 2, outcome: 'response', status: 503, responseFlags: 'UO' },
        { ...base, index: 3, outcome: 'reset' },
      ]),
    ).to.deep.equal({ '-': 1, UO: 2, reset: 1 });
  });

  it('gives a forward time for its rate plus a request timeout per request on a connection', function () {
    expect(forwardDeadline({ count: 100, ratePerSecond: 50 }, 1_000)).to.equal(2_000 + 20 * 1_000 + 5_000);
    expect(forwardDeadline({ count: 40, concurrency: 10 }, 1_000)).to.equal(4 * 1_000 + 5_000);
  });

  it('refuses a forward of no requests, a rate or a request timeout not above 0, instead of making a negative deadline', function () {
    // A count of -12 at 100/s with 5 s per request once made a deadline of -55,120 ms, which only AbortSignal.timeout rejected.
    expect(() => forwardDeadline({ count: -12, ratePerSecond: 100 }, 5_000)).to.throw(RangeError, /at least 1 request.*-12/);
    expect(() => forwardDeadline({ count: 0 }, 5_000)).to.throw(RangeError, /count 0/);
    expect(() => forwardDeadline({ count: 2.5 }, 5_000)).to.throw(RangeError, /whole number/);
    expect(() => forwardDeadline({ count: 10, ratePerSecond: 0 }, 5_000)).to.throw(RangeError, /rate/);
    expect(() => forwardDeadline({ count: 10 }, -1)).to.throw(RangeError, /request timeout/);
  });

  it("takes each request's duration from the client sidecar's log when its lines pair one to one with the results", function () {
    const r = (index: number, status: number | undefined) => ({ index, startedAtMs: index * 10, durationMs: 30, ...(status === undefined ? { outcome: 'reset' as const } : { outcome: 'response' as const, status }) });
    const line = (status: number, durationMs: number) => ({ time: '2026-01-01T00:00:00.000Z', direction: 'outbound' as const, pod: 'c', status, responseFlags: '-', durationMs });
    const results = [r(0, 200), r(1, 504), r(2, undefined)];
    expect(withSidecarDurations(results, [line(200, 3.2), line(504, 61), line(0, 1)], 1).map((x) => x.sidecarDurationMs)).to.deep.equal([3.2, 61, 1]);
    // A line missing, a status that differs, or requests in flight together: no pairing, the results as they were.
    expect(withSidecarDurations(results, [line(200, 3.2), line(504, 61)], 1)).to.equal(results);
    expect(withSidecarDurations(results, [line(200, 3.2), line(200, 61), line(0, 1)], 1)).to.equal(results);
    expect(withSidecarDurations(results, [line(200, 3.2), line(504, 61), line(0, 1)], 2)).to.equal(results);
  });
});
