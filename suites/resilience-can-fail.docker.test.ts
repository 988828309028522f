/**
 * The resilience suite can fail. One environment (the resilience topology in containers) runs the
 * suite's cases against the reference data plane wrapped in BrokenResilienceDataPlane:
 * - with outlierDetection left out of every rendered DestinationRule, the ejection cases fail,
 *   naming a replica that was sent requests while the oracle had it ejected; the connection-pool
 *   case, which does not depend on it, still passes; rendered faithfully again, the ejection
 *   case passes (the failure was the breakage's, not the harness's);
 * - with the VirtualService retries left out, the retries case fails where the oracle retries,
 *   and its journal shows the seed's glitches injected at the same requests as in a faithful run.
 * Cases run through runCase, exactly as the suite file runs them.
 */
import { expect } from 'chai';
import { ReferenceDataPlane, runCase, type CaseResult, type ExperimentJournal } from '../harness/index.ts';
import { resilienceCases } from './resilience/cases/index.ts';
import { retriesSchedule } from './resilience/cases/retries.ts';
import { startResilienceEnv, warmUp, type StartedResilienceEnv } from './resilience/resilience-env.ts';
import { BrokenResilienceDataPlane, type ResilienceBreakage } from './resilience/testing/broken-resilience.ts';

const SEED = 1;

describe('the resilience suite can fail: a data plane that drops a policy fails the cases that hold it to that promise', function () {
  this.timeout(120_000);
  let env: StartedResilienceEnv;
  let broken: BrokenResilienceDataPlane;

  const run = async (name: string): Promise<CaseResult> => {
    const testCase = resilienceCases.find((c) => c.shortName === name);
    if (testCase === undefined) throw new Error(`no case ${name}`);
    return runCase(testCase, { env, seed: SEED, supportedFeatures: broken.features });
  };
  const message = (r: CaseResult): string => (r.outcome.status === 'failed' || r.outcome.status === 'error' ? r.outcome.message : r.outcome.status);
  const breakWith = async (breakages: readonly ResilienceBreakage[]): Promise<void> => {
    broken.breakages = breakages;
    await env.mesh.apply(env.mesh.mesh);
    // The clusters the change touched start with no connections: up again before the next case.
    await warmUp(env.mesh);
  };
  /** What the journal says was injected and reverted, and at which request (no times). */
  const injections = (r: CaseResult): string[] => ((r.attachments['experiment'] as ExperimentJournal | undefined)?.entries ?? []).filter((e) => e.phase === 'inject' || e.phase === 'rollback').map((e) => e.text);

  before(async function () {
    broken = new BrokenResilienceDataPlane(new ReferenceDataPlane(), ['drop-outlier-detection']);
    env = await startResilienceEnv({ dataPlane: broken, seed: SEED, timeScale: 0.02 });
  });

  after(async function () {
    await env?.close();
  });

  it('drop-outlier-detection: the ejection cases fail, naming a replica sent requests while the oracle had it ejected; the connection-pool case still passes', async function () {
    const expected: Readonly<Record<string, RegExp>> = {
      'outlier-ejects-failing-replica': /ejection timeline disagrees with the oracle: payment-service-\d\.prod-namespace was sent request \d+ at \d+ ms and \d+ more until \d+ ms, but the oracle ejects it at \d+ ms \(first ejection: at least 600 ms\b.*after its 3rd consecutive 5xx/,
      'outlier-cap-max-ejection-percent': /ejection timeline disagrees with the oracle: payment-service-\d\.prod-namespace was sent request \d+ at \d+ ms.*, but the oracle ejects it/,
      'outlier-panic-min-health-percent': /ejection timeline disagrees with the oracle: payment-service-\d\.prod-namespace was sent request \d+ at \d+ ms.*, but the oracle ejects it/,
      // A crashed replica is absorbed by retries either way: only its ejection shows the breakage.
      'replica-crash-under-traffic': /payment-service-\d\.prod-namespace is ejected while it is down: .*never shown ejected in \/clusters and no ejection was enforced/,
    };
    for (const [name, pattern] of Object.entries(expected)) {
      const result = await run(name);
      expect(result.outcome.status, `${name}: ${message(result).slice(0, 600)}`).to.equal('failed');
      expect(message(result), name).to.match(pattern);
      // The report still gets the evidence: the journal, the timeline (ejection cases) and the metrics read so far.
      expect(Object.keys(result.attachments), name).to.include.members(name.startsWith('replica-') ? ['experiment', 'metrics'] : ['experiment', 'ejectionTimeline', 'metrics']);
    }
    const control = await run('connection-pool-overflow-503-uo');
    expect(control.outcome, message(control)).to.deep.equal({ status: 'passed' });
  });

  it('rendered faithfully again, the ejection case passes on the same pods', async function () {
    await breakWith([]);
    const result = await run('outlier-ejects-failing-replica');
    expect(result.outcome, message(result).slice(0, 600)).to.deep.equal({ status: 'passed' });
  });

  it("drop-retries: the retries case fails where the oracle retries; the seed's glitches hit the same requests as in a faithful run", async function () {
    const faithful = await run('retries-absorb-transient-failures');
    expect(faithful.outcome, message(faithful).slice(0, 600)).to.deep.equal({ status: 'passed' });
    await breakWith(['drop-retries']);
    try {
      const result = await run('retries-absorb-transient-failures');
      expect(result.outcome.status, message(result).slice(0, 600)).to.equal('failed');
      expect(message(result)).to.match(/disagree: request \d+: flags -, the oracle says URX; 1 attempts, the oracle says 4/);
      // The same seed, the same faults at the same points: what the schedule for seed 1 says, in both runs.
      const schedule = retriesSchedule(SEED, env.replicas);
      expect(injections(faithful)).to.deep.equal(injections(result));
      expect(injections(faithful).filter((t) => t.includes('injected')).map((t) => Number(/^request (\d+)/.exec(t)?.[1]))).to.deep.equal(schedule.windows.map((w) => w.from));
      expect(retriesSchedule(SEED + 1, env.replicas).windows).to.not.deep.equal(schedule.windows);
      // A crashed replica's 503s now reach the client: the crash case fails on the first one the oracle does not allow.
      const crash = await run('replica-crash-under-traffic');
      expect(crash.outcome.status, message(crash).slice(0, 600)).to.equal('failed');
      expect(message(crash)).to.match(/requests during the fault ended as the oracle allows .*did not: request \d+: 503 -×1/);
    } finally {
      await breakWith([]);
    }
  });
});
