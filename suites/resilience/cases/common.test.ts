import { expect } from 'chai';
import type { ClusterSample } from '../live-traffic.ts';
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

  it('the gauge agrees with /clusters read just before and just after it (or in between), and not otherwise', function () {
    expect(gaugeMatchesClusters([sample(0, ['a']), sample(50, ['a'], 0, []), sample(100, [], 1, ['a', 'b'])])).to.equal(undefined);
    expect(gaugeMatchesClusters([sample(0, ['a'], 2, ['a'])])?.message).to.equal('1 of 1 samples differ, e.g. at 0 ms ejections_active 2 while /clusters shows 1 ejected just before and 1 just after');
    expect(gaugeMatchesClusters([])?.message).to.match(/no sample/);
  });
});
