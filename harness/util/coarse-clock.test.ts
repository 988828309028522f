import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { COARSEST_TICK_MS, coarseClockTick, jiffiesIn, nearestHz } from './coarse-clock.ts';

const timerList = (jiffies: bigint | number): string => `Timer List Version: v0.10\nnow at 17902700740420 nsecs\n\nTick Device: mode:     1\n  .last_jiffies   : 4299368474\njiffies: ${jiffies}\n`;

describe('the coarse clock tick', function () {
  it('reads the jiffies counter, not the per-cpu fields around it', function () {
    expect(jiffiesIn(timerList(4299368480n))).to.equal(4299368480n);
    expect(jiffiesIn('cpu: 0\n  .resolution: 1 nsecs\n')).to.equal(undefined);
  });

  it('takes the nearest kernel HZ, and none when the count fits none', function () {
    expect(nearestHz(50, 200.4)).to.equal(250);
    expect(nearestHz(20, 201)).to.equal(100);
    expect(nearestHz(60, 199)).to.equal(300);
    expect(nearestHz(200, 200.2)).to.equal(1000);
    expect(nearestHz(35, 200), '175 Hz is no kernel HZ').to.equal(undefined);
    expect(nearestHz(0, 200)).to.equal(undefined);
  });

  it('measures the tick from two readings a known time apart', async function () {
    let reads = 0;
    const tick = await coarseClockTick({ sampleMs: 100, read: async () => timerList(1000 + 25 * reads++) });
    expect(tick).to.include({ tickMs: 4, source: 'measured' });
    // A Node timer can fire up to a millisecond early by the precise clock (libuv keeps loop time in whole ms).
    expect(tick.detail).to.match(/^HZ=250 \(25 jiffies in \d+\.\d ms\)$/);
  });

  it('assumes the coarsest tick, and says why, where the counter cannot be read', async function () {
    const tick = await coarseClockTick({ sampleMs: 1, read: async () => { throw new Error('EACCES: permission denied'); } });
    expect(tick).to.include({ tickMs: COARSEST_TICK_MS, source: 'assumed' });
    expect(tick.detail).to.match(/could not be read \(EACCES: permission denied\); assumed the coarsest kernel tick \(HZ=100, 10 ms\)/);
  });

  it('measures this kernel\'s tick where the counter can be read', async function () {
    const readable = await readFile('/proc/timer_list', 'utf8').then((text) => jiffiesIn(text) !== undefined, () => false);
    if (!readable) this.skip(); // not root, or no /proc: the assumed tick is tested above
    const tick = await coarseClockTick({ sampleMs: 200 });
    expect(tick.source, tick.detail).to.equal('measured');
    expect([1, 10 / 3, 4, 10]).to.include(tick.tickMs, tick.detail);
  });
});
