import { expect } from 'chai';
import type { Fault } from './fault.ts';
import { FaultSchedule, runSchedule, type FaultWindow, type GlitchPlan } from './fault-schedule.ts';

const REPLICAS = [0, 1, 2, 3].map((i) => `payment-service-${i}.prod-namespace`);
const PLAN: GlitchPlan = { targets: REPLICAS, kinds: ['fail', 'reset'], requests: 200, count: 5, length: [2, 6], margin: 10 };

/** Carries a schedule out against recording faults; returns what happened, in order, without times. */
async function replay(schedule: FaultSchedule, failAt?: string, log: string[] = []): Promise<string[]> {
  const fault = (w: FaultWindow): Fault => ({
    description: `${w.target} ${w.kind}`,
    target: w.target,
    inject: async () => {
      if (failAt === `inject ${w.target} ${w.kind}@${w.from}`) throw new Error('engine gone');
      log.push(`inject ${w.target} ${w.kind}`);
    },
    revert: async () => void log.push(`revert ${w.target} ${w.kind}`),
  });
  await runSchedule(schedule, {
    fault,
    send: async (from, to) => void log.push(`send ${from}-${to}`),
    journal: (phase, text) => log.push(`journal ${phase}: ${text}`),
  });
  return log;
}

describe('seeded fault schedules', function () {
  it('the same seed draws the same glitches, and carrying them out injects the same faults at the same requests', async function () {
    const a = FaultSchedule.glitches(42, 'retries', PLAN);
    const b = FaultSchedule.glitches(42, 'retries', PLAN);
    expect(a.windows).to.deep.equal(b.windows);
    expect(a.summary()).to.equal(b.summary());
    expect(await replay(a)).to.deep.equal(await replay(b));
  });

  it('another seed, or another experiment label, draws other glitches', function () {
    const base = FaultSchedule.glitches(42, 'retries', PLAN).windows;
    expect(FaultSchedule.glitches(43, 'retries', PLAN).windows).to.not.deep.equal(base);
    expect(FaultSchedule.glitches(42, 'timeouts', PLAN).windows).to.not.deep.equal(base);
  });

  it('picks targets from the seed: same seed same replicas, and over many seeds every replica gets picked', function () {
    expect(FaultSchedule.pick(7, 'eject', REPLICAS, 2)).to.deep.equal(FaultSchedule.pick(7, 'eject', REPLICAS, 2));
    const picked = new Set(Array.from({ length: 40 }, (_, seed) => FaultSchedule.pick(seed, 'eject', REPLICAS, 1)[0]));
    expect(picked).to.deep.equal(new Set(REPLICAS));
    expect(() => FaultSchedule.pick(1, 'eject', REPLICAS, 5)).to.throw(/cannot pick 5 of 4/);
  });

  it('keeps glitches inside the traffic and its margins, one at a time, each as long as the plan allows', function () {
    for (let seed = 0; seed < 50; seed++) {
      const s = FaultSchedule.glitches(seed, 'retries', PLAN);
      expect(s.windows).to.have.length(5);
      for (const w of s.windows) {
        expect(w.from).to.be.at.least(10);
        expect(w.to).to.be.at.most(190);
        expect(w.to - w.from).to.be.within(2, 6);
        expect(REPLICAS).to.include(w.target);
      }
      for (let i = 0; i < 200; i++) expect(s.activeAt(i).length).to.be.at.most(1);
    }
  });

  it('refuses a plan that cannot fit, and a window outside the traffic', function () {
    expect(() => FaultSchedule.glitches(1, 'x', { ...PLAN, count: 40 })).to.throw(/does not fit/);
    expect(() => new FaultSchedule(1, 'x', 10, [{ target: 'a', kind: 'fail', from: 5, to: 11 }])).to.throw(/not inside the 10 requests/);
  });

  it('sends the traffic in segments between fault points, injecting at the first request of a window and reverting after its last', async function () {
    const s = new FaultSchedule(1, 'x', 10, [
      { target: 'a', kind: 'fail', from: 2, to: 5 },
      { target: 'b', kind: 'slow', from: 5, to: 10 },
    ]);
    expect((await replay(s)).filter((l) => !l.startsWith('journal'))).to.deep.equal(['send 0-2', 'inject a fail', 'send 2-5', 'revert a fail', 'inject b slow', 'send 5-10', 'revert b slow']);
    expect((await replay(s)).filter((l) => l.startsWith('journal'))).to.deep.equal([
      'journal inject: request 2: injected: a fail',
      'journal rollback: request 5: reverted: a fail',
      'journal inject: request 5: injected: b slow',
      'journal rollback: request 10: reverted: b slow',
    ]);
  });

  it('reverts what it injected when a later injection fails, and throws that error', async function () {
    const s = new FaultSchedule(1, 'x', 10, [
      { target: 'a', kind: 'fail', from: 0, to: 10 },
      { target: 'b', kind: 'fail', from: 4, to: 8 },
    ]);
    const log: string[] = [];
    let error: unknown;
    await replay(s, 'inject b fail@4', log).catch((caught: unknown) => (error = caught));
    expect((error as Error | undefined)?.message).to.equal('engine gone');
    expect(log.filter((l) => !l.startsWith('journal'))).to.deep.equal(['inject a fail', 'send 0-4', 'revert a fail']);
  });
});
