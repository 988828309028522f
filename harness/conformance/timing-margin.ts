/**
 * Timing is judged with measured margins (DESIGN.md): the slack a duration check allows is taken
 * from the machine's scheduling jitter, and a check whose margin is too wide to tell the right
 * duration from the wrong one is not judged at all: it is an infrastructure error
 * (MESHPROOF_ERR_TIMING_MARGIN), never a pass or a fail.
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import type { JitterSummary } from '../spec/run.ts';

/** A margin is this many times the worst p99 timer lateness measured… */
export const MARGIN_PER_P99 = 2;
/** …and never less than this (ms): clocks in whole milliseconds on both sides of a comparison. */
export const MARGIN_FLOOR_MS = 5;

/** The margin for a duration check: 2 × the jitter's p99, at least `floorMs` (default MARGIN_FLOOR_MS). */
export function marginFromJitter(jitter: JitterSummary | undefined, floorMs: number = MARGIN_FLOOR_MS): number {
  return Math.ceil(Math.max(floorMs, MARGIN_PER_P99 * (jitter?.p99Ms ?? 0)));
}

/**
 * undefined when a check with margin `marginMs` can tell apart two durations `differenceMs` apart
 * (the margin is less than half of it); else the infrastructure error that says why it cannot.
 */
export function marginTooThin(what: string, marginMs: number, differenceMs: number, jitter: JitterSummary | undefined): MeshproofError | undefined {
  if (marginMs < differenceMs / 2) return undefined;
  const measured = jitter === undefined ? 'no jitter measured' : `worst timer lateness p99 ${jitter.p99Ms} ms, max ${jitter.maxMs} ms`;
  return new MeshproofError(
    ErrorCode.TimingMargin,
    `${what}: a margin of ${marginMs} ms (${measured}) is not under half of the ${differenceMs} ms the check must tell apart, so this machine cannot judge it`,
    { hint: 'the machine is too busy for this time scale: give a larger --time-scale (e.g. 0.1), or leave it out so meshproof chooses one from the jitter it measures' },
  );
}
