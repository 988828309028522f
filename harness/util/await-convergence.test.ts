import { expect } from 'chai';
import { isMeshproofError } from '../errors.ts';
import { awaitConvergence, type Clock } from './await-convergence.ts';

/** A clock that moves only when slept on (or by `step` per reading), so tests take no time. */
function fakeClock(step = 0): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => (now += step),
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

const results = (sequence: boolean[]) => {
  let i = 0;
  return async () => (sequence[Math.min(i++, sequence.length - 1)] ? undefined : new Error(`attempt ${i} failed`));
};

describe('awaitConvergence', function () {
  it('needs N successes in a row: a failure restarts the count', async function () {
    const clock = fakeClock();
    const converged = await awaitConvergence(results([true, true, false, true, true, true]), { name: 'x', timeoutMs: 10_000, intervalMs: 100, consecutiveSuccesses: 3, clock });
    expect(converged.attempts).to.equal(6);
    expect(clock.slept).to.deep.equal([100]);
  });

  it('fails after the named timeout with the last reason and the setting to raise', async function () {
    const clock = fakeClock();
    let error: unknown;
    try {
      await awaitConvergence(results([false]), { name: 'STRICT in effect on payment', timeoutMs: 1000, intervalMs: 100, clock });
    } catch (caught) {
      error = caught;
    }
    expect(isMeshproofError(error, 'MESHPROOF_ERR_CONVERGENCE_TIMEOUT')).to.equal(true);
    expect((error as Error).message).to.contain('STRICT in effect on payment').and.contain('timeouts.convergence').and.contain('attempt');
    expect(clock.slept.length).to.equal(10);
  });

  it('times out even when successes never reach the streak', async function () {
    const clock = fakeClock(50);
    let error: unknown;
    try {
      await awaitConvergence(results([true, false]), { name: 'flapping', timeoutMs: 500, intervalMs: 100, consecutiveSuccesses: 2, clock });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).to.contain('flapping');
  });
});
