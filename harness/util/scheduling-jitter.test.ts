import { expect } from 'chai';
import { measureSchedulingJitter, summarizeLateness, worstWindow } from './scheduling-jitter.ts';

describe('scheduling jitter', function () {
  it('summarizes timer lateness as median, 99th percentile (nearest rank) and maximum', function () {
    // 100 samples: 1..100 ms late.
    const late = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarizeLateness(late)).to.deep.equal({ samples: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
    // One outlier among quiet timers moves the max, not the median; early firings count as 0.
    expect(summarizeLateness([0.21, 0.34, -0.05, 0.3, 17.26])).to.deep.equal({ samples: 5, p50Ms: 0.3, p99Ms: 17.3, maxMs: 17.3 });
    expect(() => summarizeLateness([])).to.throw(RangeError, /at least one/);
  });

  it('takes the worst window by p99, then by max', function () {
    const w = (p99Ms: number, maxMs: number) => ({ samples: 10, p50Ms: 0, p99Ms, maxMs });
    expect(worstWindow([w(0.4, 1), w(12, 15), w(12, 30), w(3, 40)])).to.deep.equal(w(12, 30));
    expect(worstWindow([])).to.equal(undefined);
  });

  it('measures a window of real timers in a worker thread', async function () {
    const summary = await measureSchedulingJitter(200, 5);
    // 200 ms of 5 ms timers: some tens of samples, each a lateness, ordered as a summary must be.
    expect(summary.samples).to.be.greaterThan(5);
    expect(summary.p50Ms).to.be.at.least(0);
    expect(summary.p99Ms).to.be.at.least(summary.p50Ms);
    expect(summary.maxMs).to.be.at.least(summary.p99Ms);
  });
});
