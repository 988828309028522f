/**
 * Chaos experiments in the style of the tools people use (Chaos Toolkit): a steady-state
 * hypothesis is checked before the fault (the system must be healthy to start with), while the
 * fault is active (is the promise kept under failure?) and after the rollback (did it recover?).
 * The journal records each phase with its time, for the report.
 */
import { withFaults, type Fault } from './fault.ts';
import type { ExperimentJournal } from '../spec/attachments.ts';

export type JournalPhase = ExperimentJournal['entries'][number]['phase'];

export interface HypothesisResult {
  readonly holds: boolean;
  /** What was measured: `498 of 500 requests succeeded (99.6% ≥ 99%)`. */
  readonly detail: string;
}

export interface SteadyStateHypothesis {
  /** `at least 99% of requests to payment-service succeed`. */
  readonly description: string;
  probe(): Promise<HypothesisResult>;
}

export interface Experiment {
  readonly name: string;
  readonly hypothesis: SteadyStateHypothesis;
  readonly faults: readonly Fault[];
  /**
   * Optional work while the faults are active, before the "during" probe (e.g. drive traffic until
   * ejection). Its journal lines are "during" lines unless it names another phase (a fault schedule
   * it carries out injects and reverts faults of its own).
   */
  readonly whileInjected?: (journal: (text: string, phase?: JournalPhase) => void) => Promise<void>;
  /** Whether the hypothesis is expected to hold during the fault (default true: the mesh should absorb it). */
  readonly expectDuring?: boolean;
}

export interface ExperimentOutcome {
  readonly journal: ExperimentJournal;
  readonly before: HypothesisResult;
  readonly during: HypothesisResult | undefined;
  readonly after: HypothesisResult | undefined;
  /** Why the experiment did not confirm the hypothesis, or undefined when it did. */
  readonly deviation: string | undefined;
}

export async function runExperiment(experiment: Experiment, now: () => number = Date.now): Promise<ExperimentOutcome> {
  const started = now();
  const entries: ExperimentJournal['entries'][number][] = [];
  const log = (phase: JournalPhase, text: string): void => {
    entries.push({ atMs: now() - started, phase, text });
  };
  const expectDuring = experiment.expectDuring ?? true;

  const before = await experiment.hypothesis.probe();
  log('before', `steady state ${before.holds ? 'holds' : 'does NOT hold'}: ${before.detail}`);
  let during: HypothesisResult | undefined;
  let after: HypothesisResult | undefined;
  if (before.holds) {
    during = await withFaults(
      experiment.faults.map((fault) => ({
        description: fault.description,
        target: fault.target,
        inject: async () => {
          await fault.inject();
          log('inject', `injected: ${fault.description}`);
        },
        revert: async () => {
          await fault.revert();
          log('rollback', `reverted: ${fault.description}`);
        },
      })),
      async () => {
        await experiment.whileInjected?.((text, phase = 'during') => log(phase, text));
        const result = await experiment.hypothesis.probe();
        log('during', `steady state ${result.holds ? 'holds' : 'does NOT hold'} under the fault: ${result.detail}`);
        return result;
      },
    );
    after = await experiment.hypothesis.probe();
    log('after', `steady state ${after.holds ? 'holds' : 'does NOT hold'} after the rollback: ${after.detail}`);
  }

  let deviation: string | undefined;
  if (!before.holds) deviation = `the steady state did not hold before any fault: ${before.detail}`;
  else if (during !== undefined && during.holds !== expectDuring) deviation = `under the fault the steady state ${during.holds ? 'held, but was expected to break' : 'broke'}: ${during.detail}`;
  else if (after !== undefined && !after.holds) deviation = `the system did not recover after the rollback: ${after.detail}`;

  return {
    journal: {
      case: experiment.name,
      hypothesis: experiment.hypothesis.description,
      entries,
      steadyState: { before: before.holds, during: during?.holds ?? false, after: after?.holds ?? false },
    },
    before,
    during,
    after,
    deviation,
  };
}

/** A hypothesis over a success ratio: `successes / total >= threshold`. */
export function successRatioAtLeast(threshold: number, measure: () => Promise<{ successes: number; total: number }>, description: string): SteadyStateHypothesis {
  return {
    description,
    probe: async () => {
      const { successes, total } = await measure();
      const ratio = total === 0 ? 0 : successes / total;
      return { holds: total > 0 && ratio >= threshold, detail: `${successes} of ${total} requests succeeded (${(ratio * 100).toFixed(1)}%, needed ${(threshold * 100).toFixed(1)}%)` };
    },
  };
}
