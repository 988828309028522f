import { expect } from 'chai';
import type { ClusterSample } from '../../../harness/index.ts';
import { gaugeMatchesClusters, observedWindows } from './common.ts';

const sample = (atMs: number, ejected: string[], active = ejected.length, ejectedAfter = ejected): ClusterSample => ({ atMs, ejected, active, ejectedAfter });

describe('what /clusters showed, for the report', function () {
  it('turns samples into ejection windows per replica, open at the end when still out', function () {
    const samples = [sample(0, []), sample(50, ['a']), sample(100, ['a', 'b']), sample(150, ['b']), sample(200, ['b'])];
    expect(observedWindows(samples, ['a', 'b', 'c'])).to.deep.equal([
      { endpoint: 'a', fromMs: 50, toMs: 150, source: 'observed' },
      { endpoint: 'b', fromMs: 100, toMs: null, source: 'observed' },
    ]);
  });

  it('the gauge agrees with /clusters where /clusters read the same before and after it; samples caught mid-change are left out', function () {
    expect(gaugeMatchesClusters([sample(0, ['a']), sample(50, ['a', 'b'], 0, ['b']), sample(100, [], 0)])).to.equal(undefined);
    expect(gaugeMatchesClusters([sample(0, ['a'], 2, ['a'])])?.message).to.equal('1 of 1 steady samples differ, e.g. at 0 ms ejections_active 2 while /clusters shows 1 ejected before and after it');
    expect(gaugeMatchesClusters([sample(0, ['a'], 0, [])])?.message).to.match(/none of 1 samples read \/clusters the same/);
    expect(gaugeMatchesClusters([])?.message).to.match(/none of 0 samples/);
  });
});
