import { expect } from 'chai';
import { isMeshproofError } from '../errors.ts';
import { marginFromJitter, marginTooThin } from './timing-margin.ts';

const jitter = (p99Ms: number) => ({ samples: 200, p50Ms: 0.1, p99Ms, maxMs: p99Ms * 2 });

describe('timing margins from measured jitter', function () {
  it('takes 2 × the p99 lateness, never below the floor', function () {
    expect(marginFromJitter(jitter(0.3))).to.equal(5);
    expect(marginFromJitter(jitter(11.2))).to.equal(23);
    expect(marginFromJitter(jitter(11.2), 40)).to.equal(40);
    expect(marginFromJitter(undefined)).to.equal(5);
  });

  it('judges only when the margin is under half the difference; else an infrastructure error', function () {
    expect(marginTooThin('per-try timeout', 9, 20, jitter(4))).to.equal(undefined);
    const error = marginTooThin('per-try timeout', 10, 20, jitter(5));
    expect(isMeshproofError(error, 'MESHPROOF_ERR_TIMING_MARGIN')).to.equal(true);
    expect(error!.kind).to.equal('infrastructure');
    expect(error!.message).to.match(/per-try timeout: a margin of 10 ms \(worst timer lateness p99 5 ms, max 10 ms\) is not under half of the 20 ms/);
  });
});
