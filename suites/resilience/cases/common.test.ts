import { expect } from 'chai';
import type { ClusterSample } from '../../../harness/index.ts';
import { describeObserved, gaugeMatchesClusters, observedWindows } from './common.ts';

const sample = (atMs: number, ejected: string[], active = ejected.length, activeAfter = active, ejections = 2, ejectionsAfter = ejections): ClusterSample => ({ atMs, ejected, active, activeAfter, ejections, ejectionsAfter });

describe('what /clusters showed, for the report', function () {
  it('turns samples into ejection windows per replica, open at the end when still out', function () {
    const samples = [sample(0, []), sample(50, ['a']), sample(100, ['a', 'b']), sample(150, ['b']), sample(200, ['b'])];
    expect(observedWindows(samples, ['a', 'b', 'c'])).to.deep.equal([
      { endpoint: 'a', fromMs: 50, toMs: 150, source: 'observed' },
      { endpoint: 'b', fromMs: 100, toMs: null, source: 'observed' },
    ]);
  });

  it('says what /clusters showed in one line, for a failed ejection check', function () {
    const samples = [sample(0, []), sample(50, ['p-0.ns']), sample(100, ['p-0.ns', 'p-1.ns']), sample(150, ['p-1.ns']), sample(200, ['p-1.ns'])];
    expect(describeObserved(samples, ['p-0.ns', 'p-1.ns', 'p-2.ns'])).to.equal('/clusters (every 50 ms) showed p-0 out 50–150 ms; p-1 out 100– ms');
    expect(describeObserved([sample(0, [])], ['p-0.ns'])).to.equal('/clusters showed no replica ejected in 1 samples');
  });

  it('the gauge agrees with /clusters in every sample with no ejection between its reads; samples across an ejection are left out', function () {
    // A host back between the reads (2 → 1), and a sample across an ejection that reads 0 against 2: both fine.
    expect(gaugeMatchesClusters([sample(0, ['a']), sample(50, ['a', 'b'], 2, 1), sample(100, ['a', 'b'], 0, 0, 2, 3), sample(150, [], 0)])).to.equal(undefined);
    expect(gaugeMatchesClusters([sample(0, ['a']), sample(50, ['a'], 2)])?.message).to.equal(
      '1 of 2 comparable samples differ, e.g. at 50 ms ejections_active 2 while /clusters shows 1 ejected, with no ejection in between (ejections_enforced_total 2)',
    );
    // Steady /clusters, a gauge off by one: fails however long the reads took.
    expect(gaugeMatchesClusters([sample(0, ['a'], 0, 0, 5, 5)])?.message).to.match(/1 of 1 comparable samples differ, e.g. at 0 ms ejections_active 0 while \/clusters shows 1/);
    expect(gaugeMatchesClusters([sample(0, ['a'], 1, 1, 2, 3)])?.message).to.match(/none of 1 samples had no ejection between/);
    expect(gaugeMatchesClusters([])?.message).to.match(/none of 0 samples/);
  });
});
