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

  it('lets a timed request end early by the worst measured lateness, never by the margin floor', function () {
    const windows: JitterSummary[] = [w(0.4)];
    const timing = caseTiming(() => windows);
    expect(timing.early(2), 'quiet machine: the floor').to.equal(2);
    windows.push(w(6.2));
    expect(timing.early(2), 'busy machine: the p99 lateness, rounded up').to.equal(7);
    expect(caseTiming(() => []).early(2), 'nothing measured yet').to.equal(2);
  });

  it('forgets windows older than the recent ones', function () {
    const windows: JitterSummary[] = [w(30), ...Array.from({ length: RECENT_WINDOWS }, () => w(1))];
    expect(caseTiming(() => windows).margin()).to.equal(5);
    expect(caseTiming(() => windows.slice(0, -1)).margin()).to.equal(60);
  });
});
