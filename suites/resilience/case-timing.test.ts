import { expect } from 'chai';
import { isMeshproofError, type JitterSummary } from '../../harness/index.ts';
import { RECENT_WINDOWS, caseTiming, describeMargin } from './case-timing.ts';

const w = (p99Ms: number): JitterSummary => ({ samples: 200, p50Ms: 0.1, p99Ms, maxMs: 2 * p99Ms });

describe('resilience case timing', function () {
  it('widens the margin with the worst window measured so far, not the first', function () {
    const windows: JitterSummary[] = [w(0.4)];
    const timing = caseTiming(() => windows);
    expect(timing.margin()).to.equal(5);
    expect(timing.judgeable('per-try timeout 20 ms', 20)).to.equal(5);
    windows.push(w(12), w(3));
    expect(timing.margin()).to.equal(24);
    expect(timing.margin(40)).to.equal(40);
    expect(describeMargin(timing, 24)).to.equal('margin 24 ms (timer lateness p99 12 ms in the worst of 3 windows, 0.4 ms at the start)');
  });

  it('refuses to judge a difference the margin cannot resolve: an infrastructure error, with the figures', function () {
    const timing = caseTiming(() => [w(6)]);
    expect(timing.judgeable('route timeout 200 ms', 200)).to.equal(12);
    let thrown: unknown;
    try {
      timing.judgeable('per-try timeout 20 ms', 20);
    } catch (error) {
      thrown = error;
    }
    expect(isMeshproofError(thrown, 'MESHPROOF_ERR_TIMING_MARGIN'), String(thrown)).to.equal(true);
    expect(String((thrown as Error).message)).to.match(/per-try timeout 20 ms: a margin of 12 ms/);
  });

  it('lets a timed request end early by the coarse clock tick, the worst measured p99 lateness and the clocks, and refuses one a shortened timer could hide in', function () {
    const windows: JitterSummary[] = [w(0.4)];
    const timing = caseTiming(() => windows, 4);
    expect(timing.early('route timeout', 60, 2), 'idle machine, tick 4 ms: 4 + 0.4 (rounded up) + 2').to.equal(7);
    expect(caseTiming(() => windows).early('route timeout', 60, 2), 'precise timers (no tick): the lateness and the clocks').to.equal(3);
    windows.push(w(2.6), w(1));
    expect(timing.early('route timeout', 150, 2), 'busy machine: the worst recent window\'s p99 (2.6 ms), not the first\'s').to.equal(9);
    expect(caseTiming(() => [], 4).early('route timeout', 150, 2), 'nothing measured yet').to.equal(6);
    let thrown: unknown;
    try {
      caseTiming(() => [w(40)], 4).early('route timeout 150 ms', 150, 2);
    } catch (error) {
      thrown = error;
    }
    expect(isMeshproofError(thrown, 'MESHPROOF_ERR_TIMING_MARGIN'), String(thrown)).to.equal(true);
    expect(String((thrown as Error).message)).to.match(/route timeout 150 ms: a request may end 46 ms before its timer .*coarse clock tick 4 ms, timer lateness p99 40 ms.* not under a quarter of the 150 ms timer/);
  });

  it('forgets windows older than the recent ones', function () {
    const windows: JitterSummary[] = [w(30), ...Array.from({ length: RECENT_WINDOWS }, () => w(1))];
    expect(caseTiming(() => windows).margin()).to.equal(5);
    expect(caseTiming(() => windows.slice(0, -1)).margin()).to.equal(60);
  });
});
