/**
 * How late this machine runs timers: a worker thread sets a short timer again and again and
 * records how much later than asked each one fired (its lateness). On an idle machine that is a
 * fraction of a millisecond; on a busy one, tens. The timing margins of the resilience cases and
 * the automatic time scale are derived from it.
 *
 * Sampling runs in windows (5 s by default: some hundreds of timers even on a loaded machine, so
 * that a window's p99 is a percentile and not its one worst stall) for as long as the monitor
 * runs, because jitter measured at the start of a run underpredicts jitter during it (seen here:
 * p99 0.2–3.8 ms in the first second, 5–23 ms while the mesh carried traffic): a margin is taken
 * from the worst recent window, not from the first.
 */
import { Worker } from 'node:worker_threads';
import type { JitterSummary } from '../spec/run.ts';

/** Lateness of each timer (ms) → its median, 99th percentile (nearest rank) and maximum, rounded to 0.1 ms. */
export function summarizeLateness(latenessMs: readonly number[]): JitterSummary {
  if (latenessMs.length === 0) throw new RangeError('no timer was sampled: a jitter summary needs at least one lateness');
  const sorted = latenessMs.map((ms) => Math.max(0, ms)).sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1]!;
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return { samples: sorted.length, p50Ms: round(rank(0.5)), p99Ms: round(rank(0.99)), maxMs: round(sorted[sorted.length - 1]!) };
}

/** The window with the highest p99 (ties: the higher max); undefined for none. */
export function worstWindow(windows: readonly JitterSummary[]): JitterSummary | undefined {
  let worst: JitterSummary | undefined;
  for (const w of windows) if (worst === undefined || w.p99Ms > worst.p99Ms || (w.p99Ms === worst.p99Ms && w.maxMs > worst.maxMs)) worst = w;
  return worst;
}

// Plain JavaScript, evaluated in the worker: it must not depend on the TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { intervalMs, windowMs } = workerData;
let batch = [];
let windowStart = performance.now();
const arm = () => { const due = performance.now() + intervalMs; setTimeout(() => fire(due), intervalMs); };
const fire = (due) => {
  const now = performance.now();
  batch.push(now - due);
  if (now - windowStart >= windowMs) { parentPort.postMessage(batch); batch = []; windowStart = now; }
  arm();
};
arm();
`;

/** The monitor's window: 1 s windows on a loaded machine held ~60 timers, whose p99 was their single worst stall. */
export const DEFAULT_WINDOW_MS = 5_000;

export interface JitterMonitorOptions {
  /** Timer period (default 5 ms). */
  readonly intervalMs?: number;
  /** One summary per window (default 5000 ms). */
  readonly windowMs?: number;
}

/** Samples timer lateness in a worker thread, window after window, until stopped. */
export class JitterMonitor {
  readonly #worker: Worker;
  readonly #windows: JitterSummary[] = [];
  readonly #waiting: (() => void)[] = [];

  private constructor(options: JitterMonitorOptions) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { intervalMs: options.intervalMs ?? 5, windowMs: options.windowMs ?? DEFAULT_WINDOW_MS } });
    this.#worker.unref();
    this.#worker.on('message', (batch: number[]) => {
      if (batch.length === 0) return;
      this.#windows.push(summarizeLateness(batch));
      for (const wake of this.#waiting.splice(0)) wake();
    });
  }

  static start(options: JitterMonitorOptions = {}): JitterMonitor {
    return new JitterMonitor(options);
  }

  /** The first window's summary, once it is complete (about windowMs after start). */
  async first(): Promise<JitterSummary> {
    while (this.#windows.length === 0) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return this.#windows[0]!;
  }

  /** Every complete window so far, in order. */
  get windows(): readonly JitterSummary[] {
    return this.#windows;
  }

  /** The worst complete window so far (highest p99), or undefined before the first completes. */
  get worst(): JitterSummary | undefined {
    return worstWindow(this.#windows);
  }

  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}

/** One window of `durationMs` (default 1 s): the machine's scheduling jitter right now. */
export async function measureSchedulingJitter(durationMs = 1_000, intervalMs = 5): Promise<JitterSummary> {
  const monitor = JitterMonitor.start({ windowMs: durationMs, intervalMs });
  try {
    return await monitor.first();
  } finally {
    await monitor.stop();
  }
}
