/**
 * Load through one service from inside order-client's pod, and what the client sidecar said about
 * the service's cluster meanwhile (/clusters and the ejections_active gauge, sampled). Times are
 * put on one axis per experiment: milliseconds since its origin (epoch ms); the pods share the
 * host's clock.
 */
import { sampleClusterWhile, type ClusterSample, type MeshForward, type MeshForwardEvidence, type MeshForwardResult, type SteadyStateHypothesis } from '../../harness/index.ts';
import type { ObservedRequest } from './ejection-judge.ts';
import { CLIENT, type ResilienceEnv } from './resilience-env.ts';

/** Sends `count` requests from order-client to `service`. */
export function send(env: ResilienceEnv, service: string, count: number, more: Partial<MeshForward> = {}): Promise<MeshForwardEvidence> {
  return env.mesh.forward(CLIENT, { to: service, path: '/pay/1', method: 'POST', count, ...more });
}

/** A forward's requests on the experiment's axis, as the ejection judge reads them. */
export function onAxis(forward: MeshForwardEvidence, origin: number): ObservedRequest[] {
  const offset = forward.startedAt - origin;
  return forward.results.map((r) => ({
    startMs: offset + r.startedAtMs,
    endMs: offset + r.startedAtMs + r.durationMs,
    ...(r.servedBy === undefined ? {} : { endpoint: r.servedBy }),
    status: r.status ?? 0,
    ...(r.responseFlags === undefined ? {} : { flags: r.responseFlags }),
  }));
}

/**
 * Everything one experiment sends through one service, on one time axis (origin: when the
 * recorder was made): each request as the judge reads it, the forwarder's results, and the
 * samples of the service's cluster taken while it was sent.
 */
export class TrafficRecorder {
  readonly origin = Date.now();
  readonly requests: ObservedRequest[] = [];
  readonly results: MeshForwardResult[] = [];
  readonly samples: ClusterSample[] = [];
  /** What each replica's app received during each drive (a replica whose app cannot answer is absent). */
  readonly received: Readonly<Record<string, number>>[] = [];
  readonly #env: ResilienceEnv;
  readonly #service: string;
  readonly #cluster: string;
  readonly #sampleMs: number;

  constructor(env: ResilienceEnv, service: string, cluster: string, sampleMs: number) {
    this.#env = env;
    this.#service = service;
    this.#cluster = cluster;
    this.#sampleMs = sampleMs;
  }

  /** Sends `count` requests at `ratePerSecond`, one at a time, sampling the cluster meanwhile. */
  async drive(count: number, ratePerSecond: number): Promise<readonly MeshForwardResult[]> {
    const run = await sampleClusterWhile(this.#env.mesh, CLIENT, this.#cluster, this.origin, this.#sampleMs, send(this.#env, this.#service, count, { ratePerSecond }));
    this.requests.push(...onAxis(run.result, this.origin));
    this.results.push(...run.result.results);
    this.samples.push(...run.samples);
    this.received.push(run.result.received);
    return run.result.results;
  }

  /** Milliseconds since the origin. */
  now(): number {
    return Date.now() - this.origin;
  }
}

/**
 * How many requests at `ratePerSecond` keep traffic flowing from `nowMs` until `untilMs` and
 * `extraMs` beyond it: at least one for the extra time, however late `nowMs` already is. (Taking
 * `until - now` alone went negative on a busy machine, or when nothing was left to wait for, and
 * turned into a negative request count.)
 */
export function requestsUntil(untilMs: number, nowMs: number, extraMs: number, ratePerSecond: number): number {
  if (!(ratePerSecond > 0) || !(extraMs > 0)) throw new RangeError(`requestsUntil needs a rate and an extra time above 0, got ${ratePerSecond}/s and ${extraMs} ms`);
  return Math.max(1, Math.ceil((ratePerSecond * (Math.max(0, untilMs - nowMs) + extraMs)) / 1000));
}

export const succeeded = (r: MeshForwardResult): boolean => r.status === 200;

/** `3 × 503 UH, 97 × 200`: what a batch of requests got, for journals and messages. */
export function tally(results: readonly MeshForwardResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const key = r.status === undefined ? r.outcome : `${r.status}${r.responseFlags === undefined || r.responseFlags === '-' ? '' : ` ${r.responseFlags}`}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`).join(', ');
}

/**
 * A steady-state hypothesis measured on something each phase produces (a batch of requests,
 * samples of /clusters): the experiment probes it before the fault, under it and after the
 * rollback, and each probe takes the next phase's measurement (`phases[0]` before, `phases[1]`
 * during, `phases[2]` after). `judge` says whether it holds, and what was measured.
 */
export function phasedHypothesis<T>(
  description: string,
  phases: readonly [() => Promise<T>, () => Promise<T>, () => Promise<T>],
  judge: (measured: T) => { readonly holds: boolean; readonly detail: string },
): SteadyStateHypothesis {
  let next = 0;
  return {
    description,
    probe: async () => {
      const measure = phases[Math.min(next++, phases.length - 1)]!;
      const judged = judge(await measure());
      return { holds: judged.holds, detail: judged.detail };
    },
  };
}

/** Holds when at least `threshold` (0..1) of the batch got 200. */
export function successAtLeast(threshold: number): (results: readonly MeshForwardResult[]) => { holds: boolean; detail: string } {
  return (results) => {
    const ok = results.filter(succeeded).length;
    const ratio = results.length === 0 ? 0 : ok / results.length;
    return { holds: results.length > 0 && ratio >= threshold, detail: `${ok} of ${results.length} requests succeeded (${(ratio * 100).toFixed(1)}%, needed ${(threshold * 100).toFixed(0)}%): ${tally(results)}` };
  };
}
