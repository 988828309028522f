import { expect } from 'chai';
import type { MeshForwardResult } from '../../harness/index.ts';
import { routeTimeoutBounds } from './route-timeout-count.ts';

const result = (status: number | undefined, flags: string, attempts: number): MeshForwardResult => ({
  index: 0,
  startedAtMs: 0,
  durationMs: 60,
  ...(status === undefined ? { outcome: 'timeout' as const } : { outcome: 'response' as const, status, responseFlags: flags, headers: { 'x-envoy-attempt-count': `${attempts}` } }),
});
const ok = result(200, '-', 1);
const retriedOk = result(200, '-', 2);
const ut1 = result(504, 'UT', 1);
const ut3 = result(504, 'UT', 3);

describe('upstream_rq_timeout: how many route timeouts the sidecar may count', function () {
  it('at least the first-try route timeouts during the fault, at most every 504 UT the watch covers', function () {
    const during = [ok, ut1, ut1, retriedOk, ut3];
    // 1 retry (retriedOk) and 2 (ut3) reported: 3; upstream_rq_retry counted 3, none unsent.
    const b = routeTimeoutBounds(during, [ok, ok, ...during, ut1, ok], 3);
    expect(b).to.deep.equal({ timedOut: 2, unsent: 0, ended: 4, unanswered: 0, low: 2, high: 4, tookMs: [60, 60] });
  });

  it('lowers the floor by the retries counted and never sent, and can reach 0, yet keeps the ceiling: the check can still fail', function () {
    const during = [ut1, ut1, ok];
    const b = routeTimeoutBounds(during, during, 5);
    expect([b.low, b.high, b.unsent]).to.deep.equal([0, 2, 5]);
    // A sidecar counting a timeout per try, or per request of the watch, is over the ceiling.
    expect(b.high).to.be.below(3);
  });

  it('gives the span of the first-try route timeouts, the sidecar\'s duration where it is known', function () {
    const early = { ...ut1, durationMs: 101 };
    const late = { ...ut1, durationMs: 340, sidecarDurationMs: 302 };
    expect(routeTimeoutBounds([early, late, ok], [early, late, ok], 0).tookMs).to.deep.equal([101, 302]);
  });

  it('counts a request with no answer as one possible timeout (the sidecar may have timed it out), and nothing else', function () {
    const during = [ok, result(undefined, '', 1), result(503, 'URX', 4), result(504, 'UF', 1), result(504, '-', 1)];
    expect(routeTimeoutBounds(during, during, 3)).to.deep.equal({ timedOut: 0, unsent: 0, ended: 0, unanswered: 1, low: 0, high: 1 });
    expect(routeTimeoutBounds([ok], [ok], 0)).to.deep.equal({ timedOut: 0, unsent: 0, ended: 0, unanswered: 0, low: 0, high: 0 });
  });
});
