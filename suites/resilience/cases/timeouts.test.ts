import { expect } from 'chai';
import type { MeshForwardResult } from '../../../harness/index.ts';
import { judgeTimed, mostTries } from './timeouts.ts';

describe('timeouts: each timed request bounded on both sides', function () {
  const r = (durationMs: number, status: number, responseFlags: string): MeshForwardResult => ({ index: 7, startedAtMs: 0, durationMs, outcome: 'response', status, responseFlags });
  const ut = { status: 504, flags: 'UT', fromMs: 58, toMs: 100, because: 'the route timeout is 60 ms' };

  it('passes a 504 UT inside its window', function () {
    expect(judgeTimed(r(61, 504, 'UT'), 'payment-timeout', ['payment-service-1'], ut)).to.equal(undefined);
  });

  it('says which way a request went wrong: late (timeout off or doubled), early, or the wrong answer', function () {
    expect(judgeTimed(r(812, 200, '-'), 'payment-timeout', ['payment-service-1'], ut)).to.equal('request 7 to payment-service-1 took 812 ms (late) and got 200, the route timeout is 60 ms: expected 504 UT at 58–100 ms');
    expect(judgeTimed(r(121, 504, 'UT'), 'payment-timeout', ['payment-service-1'], ut)).to.match(/took 121 ms \(late\) and got 504 UT/);
    expect(judgeTimed(r(30, 504, 'UT'), 'payment-timeout', ['payment-service-1'], ut)).to.match(/took 30 ms \(early\)/);
    expect(judgeTimed(r(70, 503, 'UF'), 'payment-timeout', [], ut)).to.match(/^request 7 to payment-timeout \(no app received it\) took 70 ms and got 503 UF/);
  });

  it('flags compare as sets', function () {
    expect(judgeTimed(r(70, 504, 'URX,UT'), 's', ['p'], { ...ut, flags: 'UT,URX' })).to.equal(undefined);
  });

  it('counts the tries that fit before the route timeout when each is cut at the per-try timeout', function () {
    expect(mostTries(60, 20, 3)).to.equal(3);
    expect(mostTries(120, 20, 3)).to.equal(4);
    expect(mostTries(61, 20, 3)).to.equal(4);
  });
});
