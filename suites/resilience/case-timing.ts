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
import { MARGIN_FLOOR_MS, marginFromJitter, marginTooThin, worstWindow as worst, type JitterSummary, type MeshproofError } from '../../harness/index.ts';

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
   * How much earlier than its timer a timed request may end (ms): the worst recent p99 lateness,
   * at least `floorMs`. Envoy arms a timer from the event loop's cached time (libevent's
   * event_base_new() keeps a time cache, updated once after each poll), while the stream's
   * duration starts from the real clock when its callback runs; a callback that ran late in the
   * loop's turn (the thread preempted on a busy machine) arms a timer that fires that much early
   * by the real clock. The lateness is what the machine's timers measured, never the margin's
   * floor, so on a quiet machine it stays at `floorMs`.
   */
  early(floorMs: number): number;
  /** The MESHPROOF_ERR_TIMING_MARGIN error judgeable would throw, or undefined. */
  tooThin(what: string, differenceMs: number, floorMs?: number): MeshproofError | undefined;
  /** The measured jitter: the first recent window, the worst of them, and how many. */
  readonly jitter: () => { readonly first?: JitterSummary; readonly worst?: JitterSummary; readonly windows: number };
}

/** Margins from the windows a monitor has measured (any source of windows: a JitterMonitor, or fixed ones in tests). */
export function caseTiming(allWindows: () => readonly JitterSummary[]): CaseTiming {
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
    early: (floorMs) => Math.max(floorMs, Math.ceil(worst(windows())?.p99Ms ?? 0)),
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
