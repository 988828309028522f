/**
 * The timing margins of the resilience cases, from the machine's scheduling jitter as measured
 * while the suite runs (a JitterMonitor sampling in 5 s windows from the suite's start): a margin
 * is 2 × the worst window's p99 timer lateness so far, at least a floor (MARGIN_FLOOR_MS unless a
 * check names its own). Taking the worst window seen so far, not the first, is deliberate: jitter
 * measured at the start of a run underpredicts jitter while the mesh carries traffic. Only recent
 * windows count (RECENT_WINDOWS).
 *
 * `judgeable` is the rule every duration check goes through before it is made: when the margin is
 * not under half of the difference the check must tell apart, the case ends with
 * MESHPROOF_ERR_TIMING_MARGIN (an infrastructure error), not with a pass or a fail.
 */
import { ErrorCode, MARGIN_FLOOR_MS, MeshproofError, marginFromJitter, marginTooThin, worstWindow as worst, type JitterSummary } from '../../harness/index.ts';

/**
 * Margins look at the last 12 windows (about a minute: longer than any case's traffic), so the
 * image builds and container starts at the suite's beginning do not widen every later margin.
 */
export const RECENT_WINDOWS = 12;

export interface CaseTiming {
  /** The margin for a duration check now (ms): 2 × the worst p99 lateness so far, at least `floorMs`. */
  margin(floorMs?: number): number;
  /** The margin, once it is sure to tell apart two durations `differenceMs` apart; else throws MESHPROOF_ERR_TIMING_MARGIN. */
  judgeable(what: string, differenceMs: number, floorMs?: number): number;
  /**
   * How much earlier than its timer a timed request may end (ms), from three sources added up:
   * - the coarse clock's tick (`coarseTickMs`): Envoy's libevent keeps time with
   *   CLOCK_MONOTONIC_COARSE (see harness/util/coarse-clock.ts), so a timer fires up to a tick
   *   before its time by the real clock stream durations are measured with (57 ms for a 60 ms
   *   route timeout on an idle machine here, whose tick is 4 ms);
   * - the worst recent p99 timer lateness: the loop's time is cached once per turn, and a callback
   *   that ran late in its turn (the thread preempted on a busy machine) arms its timer from a time
   *   already past (not the maximum: one stall while containers start would make every timed case
   *   unjudgeable at the smaller time scales);
   * - `floorMs`, the millisecond clocks of the forwarder and the sidecar's log.
   * A CI runner ended a 150 ms route timeout at 145 ms when the tick was not allowed for.
   * The sum must stay under a quarter of `timerMs` (so a halved timer still fails): else the
   * case is an infrastructure error (MESHPROOF_ERR_TIMING_MARGIN), not a verdict.
   */
  early(what: string, timerMs: number, floorMs: number): number;
  /** The MESHPROOF_ERR_TIMING_MARGIN error judgeable would throw, or undefined. */
  tooThin(what: string, differenceMs: number, floorMs?: number): MeshproofError | undefined;
  /** The measured jitter: the first recent window, the worst of them, and how many. */
  readonly jitter: () => { readonly first?: JitterSummary; readonly worst?: JitterSummary; readonly windows: number };
}

/** Margins from the windows a monitor has measured (any source of windows: a JitterMonitor, or fixed ones in tests), and the coarse clock's tick (harness coarseClockTick; 0 where timers keep precise time). */
export function caseTiming(allWindows: () => readonly JitterSummary[], coarseTickMs = 0): CaseTiming {
  const windows = (): readonly JitterSummary[] => allWindows().slice(-RECENT_WINDOWS);
  const margin = (floorMs: number = MARGIN_FLOOR_MS): number => marginFromJitter(worst(windows()), floorMs);
  return {
    margin,
    tooThin: (what, differenceMs, floorMs) => marginTooThin(what, margin(floorMs), differenceMs, worst(windows())),
    judgeable(what, differenceMs, floorMs) {
      const error = this.tooThin(what, differenceMs, floorMs);
      if (error !== undefined) throw error;
      return margin(floorMs);
    },
    early(what, timerMs, floorMs) {
      const all = windows();
      const lateness = worst(all)?.p99Ms ?? 0;
      const early = Math.ceil(coarseTickMs + lateness) + floorMs;
      if (early < timerMs / 4) return early;
      throw new MeshproofError(
        ErrorCode.TimingMargin,
        `${what}: a request may end ${early} ms before its timer on this machine (coarse clock tick ${coarseTickMs} ms, timer lateness p99 ${lateness} ms in the worst of the last ${all.length} windows, clocks ${floorMs} ms), which is not under a quarter of the ${timerMs} ms timer, so a shortened timer could not be told from an early one`,
        { hint: 'the machine is too busy for this time scale: give a larger --time-scale (e.g. 0.1), or leave it out so meshproof chooses one from the jitter it measures' },
      );
    },
    jitter: () => {
      const all = windows();
      const w = worst(all);
      return { ...(all[0] === undefined ? {} : { first: all[0] }), ...(w === undefined ? {} : { worst: w }), windows: all.length };
    },
  };
}

/** `timer lateness p99 4.2 ms (worst of 37 windows; 0.3 ms at the start) → margin 9 ms`, for check descriptions and journals. */
export function describeMargin(timing: CaseTiming, marginMs: number): string {
  const { first, worst, windows } = timing.jitter();
  if (worst === undefined) return `margin ${marginMs} ms (no jitter measured yet)`;
  return `margin ${marginMs} ms (timer lateness p99 ${worst.p99Ms} ms in the worst of ${windows} windows${first === undefined ? '' : `, ${first.p99Ms} ms at the start`})`;
}
