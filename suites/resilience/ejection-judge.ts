/**
 * Holds live traffic through one outlier-detecting cluster against the oracle
 * (simulateOutlierDetection): which replica was ejected, after how many failures, for how long,
 * the cap, the doubled second ejection, panic and the return to service.
 *
 * The oracle is fed what the traffic observed (each upstream answer, at the time it came back)
 * and says when each replica is ejected and when it returns. Two things it cannot know are
 * allowed for, and nothing else:
 * - the phase of the sidecar's interval sweep (ejections end at a sweep; the sweep timer started
 *   when the cluster did). Every phase on a grid over one interval is tried, and the traffic
 *   agrees with the oracle if it agrees under some phase (and drift, below); the report shows it.
 * - how soon a replica back in service is picked. Under ROUND_ROBIN that is within one round;
 *   `maxMissedRequests` says how many requests in a row may pass a replica in service by (Envoy
 *   balances per worker thread, so the caller allows one round per balancer).
 * - how late a host's change of health reaches the balancers (`hostHealthLagMs`: Envoy merges
 *   such changes over update_merge_window before its workers see them).
 *
 * - how late the sweeps run. A timer loop on a loaded machine runs late, and a late sweep delays
 *   every later one (the sidecar, like Envoy, arms the next sweep after each one), so the live
 *   sweeps drift: each comes up to a few ms more than one interval after the last. Every drift on a small grid
 *   (`driftsMs`, ms per sweep) is tried with every phase: the oracle runs on a clock stretched so
 *   its sweeps meet the live ones. A replica's ejection time is real time, not sweeps, so it is
 *   judged unstretched: never back before ejection + base × multiplier, and back by the oracle's
 *   sweep plus `lateSweepMs` (what the drift grid does not catch).
 *
 * Under a phase, the traffic disagrees with the oracle when:
 * - a request reaches a replica the oracle has ejected (and no panic lets it), more than
 *   `toleranceMs` before its ejection time is up;
 * - a replica the oracle has in service is passed by more than `maxMissedRequests` requests in a
 *   row while the set of replicas in service stays the same (ejected too early, too long, or never
 *   back; a change of the set restarts a round-robin balancer's round, so the count restarts);
 * - the sidecar answers 503 UH (no healthy upstream) while the oracle has a replica to route to,
 *   or answers with anything else itself.
 *
 * Reading chosen for the time of an outlier event: the client saw the answer end (the sidecar
 * counted it a moment before); a request is routed when the client sent it.
 */
import { effectiveOutlierDetection, simulateOutlierDetection, type OutlierDetectionSettings, type OutlierSimulationResult, type OutlierStats } from '../../harness/index.ts';

export interface ObservedRequest {
  /** When the client sent it, in ms on the experiment's axis. */
  readonly startMs: number;
  /** When its answer came back. */
  readonly endMs: number;
  /** The replica that answered; undefined when the client's sidecar answered itself. */
  readonly endpoint?: string;
  readonly status: number;
  /** The client sidecar's response flags (`-`, `UH`, …). */
  readonly flags?: string;
}

export interface EjectionJudgeInput {
  /** The cluster's replicas (pod names). */
  readonly endpoints: readonly string[];
  /** Every request sent through the cluster, in the order sent. */
  readonly requests: readonly ObservedRequest[];
  readonly outlierDetection: OutlierDetectionSettings | undefined;
  readonly timeScale: number;
  /** How many requests in a row may pass by a replica the oracle has in service. */
  readonly maxMissedRequests: number;
  /** Clock reads: how far a request's time may be off the sidecar's (ms). */
  readonly toleranceMs: number;
  /**
   * How late a change of host health reaches the sidecar's load balancers (Envoy's
   * update_merge_window, time-scaled): for this long after an ejection a request may still reach
   * the host, and after its end the host may still be passed by. Default 0.
   */
  readonly hostHealthLagMs?: number;
  /** How late a sweep may run behind the oracle's, beyond the drift tried. */
  readonly lateSweepMs: number;
  /**
   * How late the sidecar may reset a host's consecutive-error count after detecting it (Envoy: its
   * main thread, as busy as the machine; see simulateOutlierDetection's resetLagMs). The counters
   * (`range`) then run from the fewest detections such a lag allows to the most without one. Default 0.
   */
  readonly resetLagMs?: number;
  /** Sweep phases tried over one interval (default 40). */
  readonly phases?: number;
  /** Sweep drifts tried: how much later than one interval after the last each sweep runs (default 0, 2, 5, 10 ms). */
  readonly driftsMs?: readonly number[];
}

/** When the sweeps run: at phase + k × (interval + drift) on the experiment's axis. */
export interface SweepModel {
  readonly phaseMs: number;
  readonly driftMs: number;
}

/** One ejection the oracle expects. */
export interface ExpectedEjection {
  readonly endpoint: string;
  readonly fromMs: number;
  /** When the oracle returns it (at a sweep); null when it is still out when the traffic ends. */
  readonly toMs: number | null;
  /** The back-off multiplier this ejection had: 1 first, 2 doubled, … */
  readonly multiplier: number;
  /** How long at least (base × multiplier, capped), before the sweep rounds it up. */
  readonly ejectionMs: number;
}

/** How the traffic saw one expected ejection. */
export interface ObservedEpisode {
  readonly expected: ExpectedEjection;
  /** Failures the replica answered in a row before it (since its previous return). */
  readonly failuresBefore: number;
  /** The first request it got after the ejection, ms after the ejection started; undefined if none came. */
  readonly backAfterMs?: number;
}

export interface EjectionJudgement {
  /** Sweep phases (ms on the experiment's axis, modulo the interval) under which the traffic agrees (with some drift). */
  readonly agreeingPhases: readonly number[];
  /** The ejections the oracle expects under each agreeing sweep model. */
  readonly agreeing: readonly (SweepModel & { readonly expected: readonly ExpectedEjection[] })[];
  /** How many sweep models were tried. */
  readonly tried: number;
  /** The sweeps the rest describes: the middle agreeing model, else the one with the fewest disagreements. */
  readonly sweeps: SweepModel;
  readonly intervalMs: number;
  readonly expected: readonly ExpectedEjection[];
  readonly episodes: readonly ObservedEpisode[];
  readonly stats: OutlierStats;
  /** Empty when some phase agrees; else, under the phase shown, what disagrees. */
  readonly disagreements: readonly string[];
  /**
   * Over the agreeing phases (or the one shown): the least and most of a statistic, the least with
   * each counter reset as late as `resetLagMs` allows.
   */
  range(stat: (stats: OutlierStats) => number): readonly [number, number];
  /** Most replicas out at once, over the agreeing phases (or the one shown). */
  readonly mostEjected: readonly [number, number];
}

interface PhaseRun {
  readonly phaseMs: number;
  readonly driftMs: number;
  readonly sim: OutlierSimulationResult;
  readonly expected: ExpectedEjection[];
  readonly disagreements: string[];
  readonly mostEjected: number;
}

/** `1st`, `2nd`, `3rd`, `4th`, … */
export const ordinal = (n: number): string => `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
const ms = (t: number): string => `${Math.round(t)} ms`;

export function judgeEjections(input: EjectionJudgeInput): EjectionJudgement {
  const settings = effectiveOutlierDetection(input.outlierDetection);
  const interval = settings === undefined ? 1 : settings.intervalMs * input.timeScale;
  const grid = settings === undefined ? 1 : (input.phases ?? 40);
  const drifts = settings === undefined ? [0] : (input.driftsMs ?? [0, 2, 5, 10]);
  const runs: PhaseRun[] = [];
  for (const drift of drifts) for (let j = 0; j < grid; j++) runs.push(runPhase(input, { phaseMs: (j * interval) / grid, driftMs: drift }, interval));
  const agreeing = runs.filter((r) => r.disagreements.length === 0);
  // Shown: the middle of the agreeing models (the likeliest sweeps), else the least wrong one.
  const shown = agreeing[Math.floor(agreeing.length / 2)] ?? [...runs].sort((a, b) => a.disagreements.length - b.disagreements.length)[0]!;
  const pool = agreeing.length > 0 ? agreeing : [shown];
  const span = (values: number[]): readonly [number, number] => [Math.min(...values), Math.max(...values)];
  // The same models with every counter reset as late as allowed: the fewest detections the answers can make.
  const lag = input.resetLagMs ?? 0;
  const late = lag > 0 ? pool.map((r) => simulate(input, r, interval, lag).stats) : [];
  return {
    agreeingPhases: [...new Set(agreeing.map((r) => r.phaseMs))],
    agreeing: agreeing.map((r) => ({ phaseMs: r.phaseMs, driftMs: r.driftMs, expected: r.expected })),
    tried: runs.length,
    sweeps: { phaseMs: shown.phaseMs, driftMs: shown.driftMs },
    intervalMs: interval,
    expected: shown.expected,
    episodes: episodes(input, shown.expected),
    stats: shown.sim.stats,
    disagreements: agreeing.length > 0 ? [] : shown.disagreements,
    range: (stat) => span([...pool.map((r) => stat(r.sim.stats)), ...late.map(stat)]),
    mostEjected: span(pool.map((r) => r.mostEjected)),
  };
}

/**
 * Oracle sweeps fall at k × interval; live ones at phase + (k - 1) × (interval + drift). A clock
 * for the oracle that meets them: oracle(t) = (t - phase) × interval / period + interval.
 */
function clocks(sweeps: SweepModel, interval: number): { oracleTime: (t: number) => number; liveTime: (o: number) => number } {
  const period = interval + sweeps.driftMs;
  return { oracleTime: (t) => ((t - sweeps.phaseMs) * interval) / period + interval, liveTime: (o) => ((o - interval) * period) / interval + sweeps.phaseMs };
}

/** The oracle fed the traffic's answers on its clock under `sweeps`; `resetLagMs` in live time. */
function simulate(input: EjectionJudgeInput, sweeps: SweepModel, interval: number, resetLagMs = 0): OutlierSimulationResult {
  const index = new Map(input.endpoints.map((e, i) => [e, i]));
  const { oracleTime } = clocks(sweeps, interval);
  const events = input.requests.flatMap((q) => (q.endpoint === undefined || !index.has(q.endpoint) ? [] : [{ at: oracleTime(q.endMs), endpoint: index.get(q.endpoint)!, result: q.status }]));
  const until = oracleTime(Math.max(0, ...input.requests.map((q) => q.endMs))) + 1;
  const lag = (resetLagMs * interval) / (interval + sweeps.driftMs);
  return simulateOutlierDetection({ endpoints: input.endpoints.length, outlierDetection: input.outlierDetection, untilMs: until, timeScale: input.timeScale, events, ...(lag > 0 ? { resetLagMs: lag } : {}) });
}

function runPhase(input: EjectionJudgeInput, sweeps: SweepModel, interval: number): PhaseRun {
  const { liveTime } = clocks(sweeps, interval);
  const sim = simulate(input, sweeps, interval);
  const expected: ExpectedEjection[] = [];
  const open = new Map<number, { fromMs: number; multiplier: number; ejectionMs: number }>();
  for (const e of sim.timeline) {
    if (e.kind === 'ejected') open.set(e.endpoint, { fromMs: liveTime(e.at), multiplier: e.backoff ?? 1, ejectionMs: e.ejectionMs ?? 0 });
    if (e.kind === 'unejected') {
      const o = open.get(e.endpoint);
      if (o !== undefined) expected.push({ endpoint: input.endpoints[e.endpoint]!, ...o, toMs: liveTime(e.at) });
      open.delete(e.endpoint);
    }
  }
  for (const [i, o] of open) expected.push({ endpoint: input.endpoints[i]!, ...o, toMs: null });
  expected.sort((a, b) => a.fromMs - b.fromMs);
  let most = 0;
  for (const w of expected) most = Math.max(most, expected.filter((x) => x.fromMs <= w.fromMs && (x.toMs === null || x.toMs > w.fromMs)).length);
  return { phaseMs: sweeps.phaseMs, driftMs: sweeps.driftMs, sim, expected, disagreements: disagreements(input, expected, sim), mostEjected: most };
}

function disagreements(input: EjectionJudgeInput, expected: readonly ExpectedEjection[], sim: OutlierSimulationResult): string[] {
  const tol = input.toleranceMs;
  const lag = input.hostHealthLagMs ?? 0;
  const n = input.endpoints.length;
  const threshold = sim.settings?.panicThresholdPercent ?? 0;
  const consecutive = sim.settings?.consecutive5xx ?? 0;
  const windowsOf = (endpoint: string): ExpectedEjection[] => expected.filter((w) => w.endpoint === endpoint);
  /** Surely out: after the ejection began, and its time (base × multiplier) not up. */
  const surelyOut = (endpoint: string, t: number): ExpectedEjection | undefined => windowsOf(endpoint).find((w) => w.fromMs + lag < t && t < w.fromMs + w.ejectionMs - tol);
  /** Possibly out: from the ejection until the oracle's sweep, which may run late. */
  const possiblyOut = (endpoint: string, t: number): boolean => windowsOf(endpoint).some((w) => w.fromMs - tol <= t && (w.toMs === null || t < w.toMs + input.lateSweepMs + lag));
  const healthyAtLeast = (t: number): number => input.endpoints.filter((e) => !possiblyOut(e, t)).length;
  const panicPossible = (t: number): boolean => threshold > 0 && (100 * healthyAtLeast(t)) / n < threshold;
  const describe = (w: ExpectedEjection): string =>
    `the oracle ejects it at ${ms(w.fromMs)} (${w.multiplier === 1 ? 'first ejection' : `ejection ×${w.multiplier}`}: at least ${ms(w.ejectionMs)}, so out until ${ms(w.fromMs + w.ejectionMs)} at the earliest, back at the sweep ${w.toMs === null ? 'after the traffic ends' : `at ${ms(w.toMs)}`})`;

  const out: string[] = [];
  // Requests sent to a replica while out, one message per ejection: the first, and how many more.
  const sentWhileOut = new Map<ExpectedEjection, { first: string; more: number; lastMs: number; endpoint: string }>();
  const missed = new Map<string, { count: number; since: number }>();
  let routable = '';
  input.requests.forEach((q, i) => {
    const t = q.startMs;
    // A change in who is in service restarts the balancer's round: count misses from there (any
    // change the oracle allows, from the first moment it may happen to the last).
    const now = input.endpoints.map((e) => (surelyOut(e, t) !== undefined ? 'o' : possiblyOut(e, t) ? '?' : 'i')).join('');
    if (now !== routable) missed.clear();
    routable = now;
    const label = `request ${i} at ${ms(t)}`;
    if (q.endpoint !== undefined) {
      const w = surelyOut(q.endpoint, t);
      if (w !== undefined && !panicPossible(t)) {
        const seen = sentWhileOut.get(w);
        if (seen === undefined) sentWhileOut.set(w, { first: label, more: 0, lastMs: t, endpoint: q.endpoint });
        else Object.assign(seen, { more: seen.more + 1, lastMs: t });
      }
    } else if ((q.flags ?? '').split(',').includes('UH')) {
      const routable = healthyAtLeast(t);
      if (threshold > 0 || routable > 0) out.push(`${label} was answered 503 UH (no healthy upstream), but the oracle has ${threshold > 0 ? `panic routing (minHealthPercent ${threshold})` : `${routable} of ${n} replicas in service`} then`);
    } else {
      out.push(`${label} was answered by the client sidecar itself (status ${q.status}, flags ${q.flags ?? 'none'}), which outlier detection does not explain`);
    }
    // Replicas in service that this request passed by.
    for (const e of input.endpoints) {
      if (e === q.endpoint || possiblyOut(e, t)) {
        missed.delete(e);
        continue;
      }
      const m = missed.get(e) ?? { count: 0, since: t };
      m.count += 1;
      missed.set(e, m);
      if (m.count === input.maxMissedRequests + 1) {
        const last = [...expected].reverse().find((w) => w.endpoint === e && w.toMs !== null && w.toMs <= t);
        const why = last === undefined ? 'in service all along' : `back in service since the sweep at ${ms(last.toMs!)}`;
        out.push(`${e} got none of ${m.count} requests in a row from ${ms(m.since)} to ${ms(t)}, although the oracle has it ${why}`);
      }
    }
  });
  for (const [w, seen] of sentWhileOut) {
    const more = seen.more === 0 ? '' : ` and ${seen.more} more until ${ms(seen.lastMs)}`;
    out.push(`${seen.endpoint} was sent ${seen.first}${more}, but ${describe(w)}${consecutive > 0 ? `, after its ${ordinal(consecutive)} consecutive 5xx` : ''}`);
  }
  return out;
}

/** The expected ejections as the traffic saw them: failures that led to each, and when the replica was next sent a request. */
function episodes(input: EjectionJudgeInput, expected: readonly ExpectedEjection[]): ObservedEpisode[] {
  return expected.map((w) => {
    const own = input.requests.filter((q) => q.endpoint === w.endpoint);
    const previous = [...expected].reverse().find((x) => x.endpoint === w.endpoint && x.fromMs < w.fromMs);
    // The ejection time went through the oracle's clock and back: allow for rounding.
    const before = own.filter((q) => q.endMs <= w.fromMs + 1e-6 && (previous === undefined || q.startMs > previous.fromMs));
    let failuresBefore = 0;
    for (let i = before.length - 1; i >= 0 && before[i]!.status >= 500; i--) failuresBefore++;
    const next = own.find((q) => q.startMs > w.fromMs);
    return { expected: w, failuresBefore, ...(next === undefined ? {} : { backAfterMs: next.startMs - w.fromMs }) };
  });
}

/** One look at a cluster: which replicas /clusters said were ejected. */
export interface EjectionSample {
  readonly atMs: number;
  readonly ejected: readonly string[];
}

/**
 * Whether what /clusters said, sampled, fits the expected ejections (with the judge's bounds): a
 * replica shown ejected is inside one, from its start (give or take `toleranceMs`) to the oracle's
 * sweep (plus `lateSweepMs`); one shown in service is not inside one before its time is up.
 * Returns what does not fit, or undefined.
 */
export function samplesFit(samples: readonly EjectionSample[], endpoints: readonly string[], expected: readonly ExpectedEjection[], toleranceMs: number, lateSweepMs: number): Error | undefined {
  const problems: string[] = [];
  for (const s of samples) {
    for (const e of endpoints) {
      const windows = expected.filter((w) => w.endpoint === e);
      const shown = s.ejected.includes(e);
      const inside = windows.some((w) => s.atMs >= w.fromMs - toleranceMs && (w.toMs === null || s.atMs <= w.toMs + lateSweepMs));
      const wellInside = windows.some((w) => s.atMs > w.fromMs + toleranceMs && s.atMs < w.fromMs + w.ejectionMs - toleranceMs);
      if (shown && !inside) problems.push(`at ${ms(s.atMs)} /clusters shows ${e} ejected, outside every ejection the oracle expects`);
      if (!shown && wellInside) problems.push(`at ${ms(s.atMs)} /clusters shows ${e} in service, inside an ejection the oracle expects`);
    }
  }
  return problems.length === 0 ? undefined : new Error(`${problems.slice(0, 4).join('; ')}${problems.length > 4 ? `; and ${problems.length - 4} more` : ''}`);
}
