import { expect } from 'chai';
import { chooseTimeScale, givenTimeScale } from './auto-time-scale.ts';

const jitter = (p99Ms: number) => ({ samples: 190, p50Ms: 0.1, p99Ms, maxMs: 3 * p99Ms });

describe('the time scale chosen from the measured jitter', function () {
  it('takes the smallest scale whose 1 s is at least 8 predicted p99s (4 × the start p99)', function () {
    // Quiet: 0.3 ms → 1.2 ms predicted → 9.6 ms needed ≤ 20 ms.
    expect(chooseTimeScale(jitter(0.3))).to.include({ timeScale: 0.02, timeScaleFrom: 'jitter', predictedP99Ms: 1.2 });
    // 1 ms → 4 ms predicted → 32 ms: 0.02 (20 ms) is too short, 0.05 (50 ms) fits.
    expect(chooseTimeScale(jitter(1)).timeScale).to.equal(0.05);
    expect(chooseTimeScale(jitter(2.5)).timeScale).to.equal(0.1);
    expect(chooseTimeScale(jitter(1)).reason).to.match(/0\.05 is the smallest of 0\.02, 0\.05, 0\.1 that makes 1 s \(50 ms\) at least 8 × 4 = 32 ms/);
  });

  it('takes the largest and says so when none fits', function () {
    const t = chooseTimeScale(jitter(3.8));
    expect(t.timeScale).to.equal(0.1);
    expect(t.reason).to.match(/no scale of 0\.02, 0\.05, 0\.1 makes 1 s at least 8 × 15\.2 = 122 ms, so the largest, 0\.1: .*MESHPROOF_ERR_TIMING_MARGIN/);
  });

  it("records the user's scale with the jitter and what it would have chosen", function () {
    expect(givenTimeScale(0.02, jitter(1))).to.deep.include({ timeScaleFrom: 'flag', timeScale: 0.02, predictedP99Ms: 4 });
    expect(givenTimeScale(0.02, jitter(1)).reason).to.match(/given by --time-scale; .* would have chosen 0\.05/);
  });
});
