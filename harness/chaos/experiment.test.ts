import { expect } from 'chai';
import { FaultSet, type Fault } from './fault.ts';
import { runExperiment, successRatioAtLeast } from './experiment.ts';

function recordingFault(name: string, log: string[], failInject = false): Fault {
  return {
    description: name,
    target: 'payment-1',
    inject: async () => {
      if (failInject) throw new Error(`${name} could not be injected`);
      log.push(`inject ${name}`);
    },
    revert: async () => void log.push(`revert ${name}`),
  };
}

describe('faults', function () {
  it('inject in order and revert newest first', async function () {
    const log: string[] = [];
    const set = new FaultSet([recordingFault('a', log), recordingFault('b', log)]);
    await set.inject();
    await set.revert();
    expect(log).to.deep.equal(['inject a', 'inject b', 'revert b', 'revert a']);
  });

  it('revert what was injected when a later fault fails to inject', async function () {
    const log: string[] = [];
    const set = new FaultSet([recordingFault('a', log), recordingFault('b', log, true)]);
    let error: unknown;
    try {
      await set.inject();
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).to.equal('b could not be injected');
    expect(log).to.deep.equal(['inject a', 'revert a']);
    expect(set.active).to.have.length(0);
  });
});

describe('experiments', function () {
  /** A system whose success ratio drops while a fault is active, unless the mesh absorbs it. */
  function system(absorbs: boolean, recovers = true) {
    let faulty = false;
    let reverted = false;
    const fault: Fault = { description: 'replica 1 fails', target: 'payment-1', inject: async () => void (faulty = true), revert: async () => void ((faulty = false), (reverted = true)) };
    const hypothesis = successRatioAtLeast(0.99, async () => {
      const broken = (faulty && !absorbs) || (reverted && !recovers);
      return { successes: broken ? 75 : 100, total: 100 };
    }, 'at least 99% of requests succeed');
    return { fault, hypothesis };
  }

  it('confirms a hypothesis that holds before, during and after, and journals each phase', async function () {
    const { fault, hypothesis } = system(true);
    const outcome = await runExperiment({ name: 'eject', hypothesis, faults: [fault] });
    expect(outcome.deviation).to.equal(undefined);
    expect(outcome.journal.steadyState).to.deep.equal({ before: true, during: true, after: true });
    expect(outcome.journal.entries.map((e) => e.phase)).to.deep.equal(['before', 'inject', 'during', 'rollback', 'after']);
  });

  it('journals what the work under the fault says, under the phase it names', async function () {
    const { fault, hypothesis } = system(true);
    const outcome = await runExperiment({
      name: 'eject',
      hypothesis,
      faults: [fault],
      whileInjected: async (journal) => {
        journal('request 40: injected: payment-2 fails', 'inject');
        journal('300 requests sent');
      },
    });
    expect(outcome.journal.entries.map((e) => `${e.phase}: ${e.text}`).slice(2, 4)).to.deep.equal(['inject: request 40: injected: payment-2 fails', 'during: 300 requests sent']);
  });

  it('reports a deviation when the fault breaks the steady state', async function () {
    const { fault, hypothesis } = system(false);
    const outcome = await runExperiment({ name: 'eject', hypothesis, faults: [fault] });
    expect(outcome.deviation).to.match(/under the fault the steady state broke: 75 of 100/);
  });

  it('reports a system that does not recover after the rollback', async function () {
    const { fault, hypothesis } = system(true, false);
    const outcome = await runExperiment({ name: 'eject', hypothesis, faults: [fault] });
    expect(outcome.deviation).to.match(/did not recover/);
  });

  it('does not inject anything when the steady state does not hold to begin with', async function () {
    const log: string[] = [];
    const outcome = await runExperiment({
      name: 'x',
      hypothesis: successRatioAtLeast(0.99, async () => ({ successes: 0, total: 10 }), 'up'),
      faults: [recordingFault('a', log)],
    });
    expect(log).to.deep.equal([]);
    expect(outcome.deviation).to.match(/did not hold before any fault/);
  });
});
