import { expect } from 'chai';
import { durationMs, formatDuration, parseDuration, scaleMs } from './duration.ts';

describe('durations', function () {
  it('reads Go duration syntax, and refuses what is not one', function () {
    expect(parseDuration('1m30s')).to.equal(90_000);
    expect(parseDuration('1.5s')).to.equal(1_500);
    expect(parseDuration('250ms')).to.equal(250);
    expect(parseDuration('30')).to.equal(undefined);
    expect(() => durationMs('soon')).to.throw(/not a duration/);
    expect(formatDuration(1_500)).to.equal('1.5s');
  });

  it('scales a policy duration to whole milliseconds, never a positive one to 0 (the one rule for data plane, oracle and cases)', function () {
    expect(scaleMs(30_000, 0.02)).to.equal(600);
    expect(scaleMs(1_000, 0.05)).to.equal(50);
    expect(scaleMs(1_500, 0.001), '1.5 ms rounds to 2').to.equal(2);
    expect(scaleMs(100, 0.001), '0.1 ms would be "none" to a proxy: 1').to.equal(1);
    expect(scaleMs(0, 0.02), '0 stays 0').to.equal(0);
    expect(scaleMs(10_000, 1)).to.equal(10_000);
  });
});
