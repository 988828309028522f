/**
 * Seeded fault schedules: which targets a fault hits, and at which request of an experiment's
 * traffic each fault is injected and reverted (DESIGN.md "Randomness is seeded"). A schedule is a
 * pure function of (run seed, label, plan): the same `--seed` gives the same windows, so a
 * replayed run injects the same faults at the same points. The label names the experiment, so
 * each experiment draws from its own stream and adding one does not shift another's faults.
 *
 * Points are request indexes, not times: "payment-service-2 fails from request 40 to 52". The
 * traffic is sent in segments between those points (runSchedule), so where a fault starts does
 * not depend on how fast the machine is.
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import { SeededRandom } from '../util/seeded-random.ts';
import { FaultSet, type Fault } from './fault.ts';

/** One fault on one target, in force for requests `from` (included) to `to` (excluded). */
export interface FaultWindow {
  readonly target: string;
  /** What the fault does, as the case names it (`fail`, `reset`, `slow`, …). */
  readonly kind: string;
  readonly from: number;
  readonly to: number;
}

export interface GlitchPlan {
  /** Who may glitch (replica pods). */
  readonly targets: readonly string[];
  /** Fault kinds to draw from, each equally likely. */
  readonly kinds: readonly string[];
  /** Requests the traffic has. */
  readonly requests: number;
  /** How many glitches. */
  readonly count: number;
  /** Shortest and longest glitch, in requests (both included). */
  readonly length: readonly [number, number];
  /** Requests at the start and end kept free of faults (default 0). */
  readonly margin?: number;
}

export class FaultSchedule {
  readonly seed: number;
  readonly label: string;
  readonly requests: number;
  readonly windows: readonly FaultWindow[];

  constructor(seed: number, label: string, requests: number, windows: readonly FaultWindow[]) {
    for (const w of windows) {
      if (!(Number.isInteger(w.from) && Number.isInteger(w.to) && w.from >= 0 && w.from < w.to && w.to <= requests)) {
        throw new MeshproofError(ErrorCode.BadArgument, `fault window ${w.kind} on ${w.target} [${w.from}, ${w.to}) is not inside the ${requests} requests of '${label}'`);
      }
    }
    this.seed = seed;
    this.label = label;
    this.requests = requests;
    this.windows = [...windows].sort((a, b) => a.from - b.from || a.target.localeCompare(b.target));
  }

  /** `n` distinct targets drawn from `targets` (seeded), in the order drawn. */
  static pick(seed: number, label: string, targets: readonly string[], n: number): string[] {
    if (n > targets.length) throw new MeshproofError(ErrorCode.BadArgument, `cannot pick ${n} of ${targets.length} targets for '${label}'`);
    return new SeededRandom(seed).fork(`pick:${label}`).shuffle(targets).slice(0, n);
  }

  /** The same fault on each target for the whole traffic. */
  static throughout(seed: number, label: string, requests: number, targets: readonly string[], kind: string): FaultSchedule {
    return new FaultSchedule(seed, label, requests, targets.map((target) => ({ target, kind, from: 0, to: requests })));
  }

  /**
   * Short glitches at seeded points: each on a seeded target, of a seeded kind and length. At
   * most one glitch is in force at a time (they do not overlap), so "a transient failure of one
   * replica" stays what the schedule says.
   */
  static glitches(seed: number, label: string, plan: GlitchPlan): FaultSchedule {
    const [shortest, longest] = plan.length;
    const margin = plan.margin ?? 0;
    const usable = plan.requests - 2 * margin;
    if (plan.targets.length === 0 || plan.kinds.length === 0 || shortest < 1 || longest < shortest || plan.count * longest > usable) {
      throw new MeshproofError(ErrorCode.BadArgument, `glitch plan '${label}' does not fit: ${plan.count} glitches of ${shortest}–${longest} requests on ${plan.targets.length} targets in ${usable} requests`);
    }
    const random = new SeededRandom(seed).fork(`glitches:${label}`);
    // One slot per glitch, each slot long enough for the longest glitch; a glitch starts somewhere in its slot.
    const slot = Math.floor(usable / plan.count);
    const windows: FaultWindow[] = [];
    for (let i = 0; i < plan.count; i++) {
      const length = random.int(shortest, longest);
      const from = margin + i * slot + random.int(0, slot - length);
      windows.push({ target: random.pick(plan.targets), kind: random.pick(plan.kinds), from, to: from + length });
    }
    return new FaultSchedule(seed, label, plan.requests, windows);
  }

  /** Request indexes where something changes, with 0 and the end: the segment boundaries. */
  boundaries(): number[] {
    return [...new Set([0, this.requests, ...this.windows.flatMap((w) => [w.from, w.to])])].sort((a, b) => a - b);
  }

  /** Which windows are in force for request `index`. */
  activeAt(index: number): FaultWindow[] {
    return this.windows.filter((w) => index >= w.from && index < w.to);
  }

  /** One line per window, for the journal: `requests 40–51: payment-service-2 fail`. */
  describe(): string[] {
    return this.windows.map((w) => `requests ${w.from}–${w.to - 1}: ${w.target} ${w.kind}`);
  }

  /** The schedule in one line, with the seed that drew it: what a replay must reproduce. */
  summary(): string {
    return `fault schedule '${this.label}' (seed ${this.seed}, ${this.requests} requests): ${this.describe().join('; ') || 'no fault'}`;
  }
}

export interface ScheduleDriver<R> {
  /** The fault that makes a window happen (injected at `from`, reverted at `to`). */
  fault(window: FaultWindow): Fault;
  /** Sends requests `from` to `to` (excluded) and returns what they did. */
  send(from: number, to: number): Promise<R>;
  /** Journal lines as the schedule is carried out. */
  journal?(phase: 'inject' | 'rollback', text: string): void;
}

/**
 * Carries out a schedule: sends the traffic segment by segment, injecting each window's fault at
 * its first request and reverting it after its last. Every injected fault is reverted, also when
 * sending or another fault fails (newest first), and the first error is thrown after that.
 */
export async function runSchedule<R>(schedule: FaultSchedule, driver: ScheduleDriver<R>): Promise<R[]> {
  const points = schedule.boundaries();
  const active = new Map<FaultWindow, { readonly set: FaultSet; readonly description: string }>();
  const results: R[] = [];
  const revert = async (window: FaultWindow): Promise<void> => {
    const injected = active.get(window)!;
    active.delete(window);
    await injected.set.revert();
    driver.journal?.('rollback', `request ${window.to}: reverted: ${injected.description}`);
  };
  let failure: unknown;
  try {
    for (let i = 0; i < points.length - 1; i++) {
      const from = points[i]!;
      const to = points[i + 1]!;
      for (const w of [...active.keys()].filter((x) => x.to === from)) await revert(w);
      for (const w of schedule.windows.filter((x) => x.from === from)) {
        const fault = driver.fault(w);
        const set = new FaultSet([fault]);
        await set.inject();
        active.set(w, { set, description: fault.description });
        driver.journal?.('inject', `request ${from}: injected: ${fault.description}`);
      }
      results.push(await driver.send(from, to));
    }
  } catch (error) {
    failure = error;
  }
  for (const w of [...active.keys()].reverse()) {
    try {
      await revert(w);
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
  return results;
}
