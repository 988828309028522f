/**
 * Steady traffic: one probe sent over and over, one at a time, while a case changes something
 * (a policy, a certificate). Every result is kept with the time it started, so a case can say
 * "not one request failed before, during or after". The probe may be made anew for each request
 * (a fresh canary in each, for the wire).
 */
import type { LiveProbe, LiveProbeResult, LiveProber } from './live-prober.ts';

export interface SteadyResult {
  /** Milliseconds since the traffic started. */
  readonly atMs: number;
  /** When it was answered, milliseconds since the traffic started. */
  readonly doneMs: number;
  readonly result: LiveProbeResult;
}

/** The probe to send, or what makes the n-th one (from 0). */
export type SteadyProbe = LiveProbe | ((n: number) => LiveProbe);

export class SteadyTraffic {
  readonly startedAt: number;
  readonly results: SteadyResult[] = [];
  readonly #loop: Promise<void>;
  #stopping = false;
  #error: unknown;
  #waiters: { count: number; resolve: () => void }[] = [];

  private constructor(prober: LiveProber, probe: SteadyProbe) {
    this.startedAt = Date.now();
    this.#loop = this.#run(prober, probe);
  }

  static start(prober: LiveProber, probe: SteadyProbe): SteadyTraffic {
    return new SteadyTraffic(prober, probe);
  }

  get count(): number {
    return this.results.length;
  }

  /** Resolves once `count` requests have completed (or the traffic stopped on an infrastructure error). */
  atLeast(count: number): Promise<void> {
    if (this.results.length >= count || this.#error !== undefined || this.#stopping) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Stops after the request in flight; rethrows an infrastructure error the loop hit. */
  async stop(): Promise<readonly SteadyResult[]> {
    this.#stopping = true;
    await this.#loop;
    if (this.#error !== undefined) throw this.#error;
    return this.results;
  }

  /** The results that started in [fromMs, toMs) (milliseconds since the start). */
  between(fromMs: number, toMs: number): SteadyResult[] {
    return this.results.filter((r) => r.atMs >= fromMs && r.atMs < toMs);
  }

  async #run(prober: LiveProber, probe: SteadyProbe): Promise<void> {
    while (!this.#stopping) {
      const atMs = Date.now() - this.startedAt;
      try {
        const result = await prober.run(typeof probe === 'function' ? probe(this.results.length) : probe);
        this.results.push({ atMs, doneMs: Date.now() - this.startedAt, result });
      } catch (error) {
        this.#error = error;
        this.#stopping = true;
      }
      this.#waiters = this.#waiters.filter((w) => {
        if (this.results.length >= w.count || this.#stopping) w.resolve();
        return !(this.results.length >= w.count || this.#stopping);
      });
    }
    for (const w of this.#waiters) w.resolve();
  }
}
