/**
 * The tick of the kernel's coarse monotonic clock (CLOCK_MONOTONIC_COARSE): one jiffy, 1000/HZ ms
 * (4 ms on this machine's kernel, HZ=250). Envoy's event loop keeps time with that clock: it
 * creates its libevent base with event_base_new(), without EVENT_BASE_FLAG_PRECISE_TIMER, and
 * libevent then reads CLOCK_MONOTONIC_COARSE (evutil_configure_monotonic_time_). A timer armed
 * when the coarse clock lags the real one by almost a tick fires almost a tick before its time by
 * the real clock, the one a stream's duration is measured with: a 60 ms route timeout was logged
 * at 57 ms on an idle machine here, 3 of 40 times. Timed checks must allow for it, and only for it.
 *
 * Node has no clock_getres, so the tick is measured: the kernel's jiffies counter
 * (/proc/timer_list) is read twice a known time apart, and HZ is the nearest of the values Linux
 * is built with. Where it cannot be read, the coarsest (HZ=100, 10 ms) is assumed, and said.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** The HZ values Linux kernels are configured with (CONFIG_HZ). */
export const KERNEL_HZ = [100, 250, 300, 1000] as const;
/** The tick assumed when the jiffies counter cannot be read: the coarsest kernel (HZ=100). */
export const COARSEST_TICK_MS = 10;

export interface CoarseClockTick {
  /** One tick of CLOCK_MONOTONIC_COARSE, ms. */
  readonly tickMs: number;
  /** measured: from the jiffies counter; assumed: the coarsest, because it could not be read. */
  readonly source: 'measured' | 'assumed';
  /** `HZ=250 (25 jiffies in 100.2 ms)`, or why it was assumed. */
  readonly detail: string;
}

/** The kernel's jiffies counter in a /proc/timer_list text, or undefined. */
export function jiffiesIn(timerList: string): bigint | undefined {
  const match = /^jiffies:\s*(\d+)\s*$/m.exec(timerList);
  return match === null ? undefined : BigInt(match[1]!);
}

/** The kernel HZ nearest to `jiffies` counted in `elapsedMs` (relative error), or undefined when none is within 20 %. */
export function nearestHz(jiffies: number, elapsedMs: number): number | undefined {
  if (!(elapsedMs > 0) || !(jiffies > 0)) return undefined;
  const hz = (jiffies * 1000) / elapsedMs;
  const [best] = [...KERNEL_HZ].sort((a, b) => Math.abs(a - hz) / a - Math.abs(b - hz) / b);
  return best !== undefined && Math.abs(best - hz) / best <= 0.2 ? best : undefined;
}

export interface CoarseClockOptions {
  /** How long to count jiffies (ms; default 200: 20–200 jiffies, whatever the HZ). */
  readonly sampleMs?: number;
  /** Reads /proc/timer_list (tests pass their own). */
  readonly read?: () => Promise<string>;
}

/** Measures the coarse clock's tick; never throws (an unreadable counter gives the coarsest tick, assumed). */
export async function coarseClockTick(options: CoarseClockOptions = {}): Promise<CoarseClockTick> {
  const read = options.read ?? (() => readFile('/proc/timer_list', 'utf8'));
  const sampleMs = options.sampleMs ?? 200;
  const assumed = (why: string): CoarseClockTick => ({ tickMs: COARSEST_TICK_MS, source: 'assumed', detail: `${why}; assumed the coarsest kernel tick (HZ=100, ${COARSEST_TICK_MS} ms)` });
  try {
    const start = performance.now();
    const first = jiffiesIn(await read());
    await sleep(sampleMs);
    const second = jiffiesIn(await read());
    const elapsedMs = performance.now() - start;
    if (first === undefined || second === undefined) return assumed('/proc/timer_list shows no jiffies counter');
    const counted = Number(second - first);
    const hz = nearestHz(counted, elapsedMs);
    if (hz === undefined) return assumed(`${counted} jiffies in ${elapsedMs.toFixed(1)} ms match no kernel HZ`);
    return { tickMs: 1000 / hz, source: 'measured', detail: `HZ=${hz} (${counted} jiffies in ${elapsedMs.toFixed(1)} ms)` };
  } catch (error) {
    return assumed(`/proc/timer_list could not be read (${(error as Error).message})`);
  }
}
