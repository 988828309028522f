/**
 * The run's time scale when the user gives none: chosen from the machine's scheduling jitter,
 * measured for a second before anything starts, so that the scaled durations the suites judge
 * stay wide against the margins that jitter makes (timing-margin.ts).
 *
 * Jitter at the start of a run underpredicts jitter during it (seen here: p99 0.2–3.8 ms in the
 * first second, 5–23 ms while the mesh carried traffic), so the start's p99 is multiplied by
 * RUN_JITTER_FACTOR to predict the run's. The scale is the smallest candidate whose shortest
 * judged duration (a policy's 1 s: the seed's perTryTimeout) is at least DURATION_PER_JITTER
 * predicted p99s: margins are 2 × p99 and must stay under half a difference, so this leaves them
 * a factor of 2 to spare. When no candidate fits, the largest is taken and the reason says so;
 * checks too fine for the machine then end as MESHPROOF_ERR_TIMING_MARGIN.
 */
import { MARGIN_PER_P99 } from './timing-margin.ts';
import type { JitterSummary, RunTiming } from '../spec/run.ts';

export const TIME_SCALE_CANDIDATES = [0.02, 0.05, 0.1] as const;
/** Jitter while the mesh carries traffic, as a multiple of the p99 measured at the start. */
export const RUN_JITTER_FACTOR = 4;
/** The shortest policy duration the suites judge (ms, before scaling): the seed's perTryTimeout 1s. */
export const SHORTEST_JUDGED_MS = 1_000;
/** The shortest scaled duration must be at least this many predicted p99s: 2 (margin per p99) × 2 (half a difference) × 2 (to spare). */
export const DURATION_PER_JITTER = MARGIN_PER_P99 * 2 * 2;

/** The smallest candidate scale whose scaled 1 s is at least DURATION_PER_JITTER predicted p99s; the largest when none is. */
export function chooseTimeScale(startJitter: JitterSummary): RunTiming {
  const predictedP99Ms = Math.round(RUN_JITTER_FACTOR * startJitter.p99Ms * 10) / 10;
  const neededMs = DURATION_PER_JITTER * predictedP99Ms;
  const fits = TIME_SCALE_CANDIDATES.find((scale) => SHORTEST_JUDGED_MS * scale >= neededMs);
  const timeScale = fits ?? TIME_SCALE_CANDIDATES[TIME_SCALE_CANDIDATES.length - 1]!;
  const measured = `timer lateness at the start p99 ${startJitter.p99Ms} ms (p50 ${startJitter.p50Ms}, max ${startJitter.maxMs}), ${RUN_JITTER_FACTOR} × that (${predictedP99Ms} ms) expected under traffic`;
  const reason =
    fits === undefined
      ? `${measured}; no scale of ${TIME_SCALE_CANDIDATES.join(', ')} makes 1 s at least ${DURATION_PER_JITTER} × ${predictedP99Ms} = ${Math.ceil(neededMs)} ms, so the largest, ${timeScale}: checks too fine for this machine end as MESHPROOF_ERR_TIMING_MARGIN`
      : `${measured}; ${timeScale} is the smallest of ${TIME_SCALE_CANDIDATES.join(', ')} that makes 1 s (${SHORTEST_JUDGED_MS * timeScale} ms) at least ${DURATION_PER_JITTER} × ${predictedP99Ms} = ${Math.ceil(neededMs)} ms`;
  return { timeScaleFrom: 'jitter', timeScale, startJitter, predictedP99Ms, reason };
}

/** The run's timing when the user set the scale: the jitter is still recorded. */
export function givenTimeScale(timeScale: number, startJitter: JitterSummary): RunTiming {
  const predictedP99Ms = Math.round(RUN_JITTER_FACTOR * startJitter.p99Ms * 10) / 10;
  const chosen = chooseTimeScale(startJitter).timeScale;
  return {
    timeScaleFrom: 'flag',
    timeScale,
    startJitter,
    predictedP99Ms,
    reason: `given by --time-scale; timer lateness at the start p99 ${startJitter.p99Ms} ms (max ${startJitter.maxMs}), for which meshproof would have chosen ${chosen}`,
  };
}
