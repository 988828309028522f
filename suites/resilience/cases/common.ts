/**
 * What the resilience cases share: manifest names (relative to suites/resilience, as reports show
 * them), the experiment wrapper that puts each journal in the report, the scaled policy durations,
 * and the ejection views (timeline, /clusters against the oracle) the outlier cases attach.
 */
import {
  scaleMs,
  ErrorCode,
  MeshproofError,
  effectiveOutlierDetection,
  runExperiment,
  comparable,
  gaugeDisagreement,
  type CaseContext,
  type ClusterSample,
  type EffectiveOutlierDetection,
  type EjectionTimeline,
  type EchoTarget,
  type Experiment,
  type ExperimentOutcome,
} from '../../../harness/index.ts';
import { judgeEjections, samplesFit, type EjectionJudgement, type ExpectedEjection, type ObservedRequest } from '../ejection-judge.ts';
import type { TrafficRecorder } from '../live-traffic.ts';
import type { ResilienceEnv } from '../resilience-env.ts';

export const SEED_DESTINATION_RULE = '../../fixtures/seed/destination-rule.yaml';
export const SEED_VIRTUAL_SERVICE = '../../fixtures/seed/virtual-service.yaml';
export const DR_VARIATIONS = '../../fixtures/resilience/destination-rules.yaml';
export const VS_VARIATIONS = '../../fixtures/resilience/virtual-services.yaml';
/** Relative to fixtures/, as ResilienceEnv.use() takes it. */
export const FAULT_INJECTION = 'resilience/fault-injection.yaml';

/** Requests per second the outlier cases send, one at a time: each of 4 replicas gets one every 40 ms. */
export const RATE = 100;
/** Sampling period of /clusters and the ejections_active gauge. */
export const SAMPLE_MS = 50;
/**
 * The floor of the ejection judge's clock and scheduling slack (ms): the slack itself is the run's
 * measured margin (2 × the worst p99 timer lateness, env.timing), never less than this.
 */
export const TOLERANCE_MS = 40;
/** The floor of how late the client sidecar's interval sweep may run behind the oracle's, beyond the drifts the judge tries (ms). */
export const LATE_SWEEP_MS = 40;

/**
 * The ejection judge's slack for `service` (ms): the measured margin, at least TOLERANCE_MS. It
 * must stay under half the sweep interval the judge tells ejections apart by, or the case is an
 * infrastructure error (MESHPROOF_ERR_TIMING_MARGIN) instead of a verdict.
 */
export function ejectionMargin(env: ResilienceEnv, service: string): number {
  const { intervalMs } = scaledOutlier(env, service);
  return env.timing.judgeable(`the ejection timing of ${service} (sweep interval ${intervalMs} ms)`, intervalMs, Math.max(TOLERANCE_MS, LATE_SWEEP_MS));
}

/** The outlier-detection settings of a service, with its durations after the run's time scale. */
export interface ScaledOutlier {
  readonly settings: EffectiveOutlierDetection;
  readonly intervalMs: number;
  readonly baseMs: number;
}

export function scaledOutlier(env: ResilienceEnv, service: string): ScaledOutlier {
  const settings = effectiveOutlierDetection(env.outlierDetectionOf(service));
  if (settings === undefined) throw new MeshproofError(ErrorCode.Internal, `the fixture for ${service} has no outlierDetection, yet an outlier case uses it`);
  return { settings, intervalMs: scaleMs(settings.intervalMs, env.timeScale), baseMs: scaleMs(settings.baseEjectionTimeMs, env.timeScale) };
}

/** The echo app of one replica, as a fault target. */
export function echoOf(env: ResilienceEnv, pod: string): EchoTarget {
  const target = env.mesh.echoTargets(pod)[0];
  if (target === undefined) throw new MeshproofError(ErrorCode.Internal, `no echo app for ${pod}`);
  return target;
}

/**
 * Runs a chaos experiment for a case and attaches its journal to the report, opened by what a
 * reader needs to replay and read it: the time scale (with the durations it made) and the seed.
 * When the steady state did not hold before any fault, the case fails there and then.
 */
export async function caseExperiment<Env>(ctx: CaseContext<Env>, experiment: Experiment, preface: readonly string[], timingOnly?: () => string | undefined): Promise<ExperimentOutcome> {
  const outcome = await runExperiment(experiment);
  const opening = preface.map((text) => ({ atMs: 0, phase: 'before' as const, text }));
  ctx.attach('experiment', { ...outcome.journal, entries: [...opening, ...outcome.journal.entries] });
  // No fault was injected when the mesh was not healthy to begin with: nothing after this would mean anything.
  // Where the case can tell that only its timing margin broke it (timingOnly), that is the machine's, not the data plane's: an infrastructure error.
  if (!outcome.before.holds) {
    const why = timingOnly?.();
    if (why !== undefined) throw new MeshproofError(ErrorCode.TimingMargin, `the steady state did not hold before any fault, by timing alone (${outcome.before.detail}): ${why}`, { hint: 'the machine is too busy for this time scale; a larger --time-scale (e.g. 0.1), or none (meshproof then chooses one from the jitter it measures), gives the scaled timeouts more room' });
    verifySteadyState(ctx, outcome);
  }
  return outcome;
}

/** The experiment's steady-state verdict, as one check of the case. */
export function verifySteadyState<Env>(ctx: CaseContext<Env>, outcome: ExperimentOutcome): void {
  ctx.verify(`steady state (${outcome.journal.hypothesis}) before, under and after the fault`, outcome.deviation === undefined ? undefined : new Error(outcome.deviation));
}

/** `time scale 0.02: interval 10s → 200 ms, baseEjectionTime 30s → 600 ms`. */
export function timeScaleLine(env: ResilienceEnv, durations: readonly (readonly [string, number])[]): string {
  const parts = durations.map(([name, policyMs]) => `${name} ${policyMs / 1000}s → ${scaleMs(policyMs, env.timeScale)} ms`);
  return `time scale ${env.timeScale} (the run's): ${parts.join(', ')}`;
}

/** Ejection windows as /clusters showed them in the samples: from the first sample showing a replica out to the first showing it back. */
export function observedWindows(samples: readonly ClusterSample[], endpoints: readonly string[]): EjectionTimeline['ejections'][number][] {
  const out: EjectionTimeline['ejections'][number][] = [];
  for (const e of endpoints) {
    let from: number | undefined;
    for (const s of samples) {
      const ejected = s.ejected.includes(e);
      if (ejected && from === undefined) from = s.atMs;
      if (!ejected && from !== undefined) {
        out.push({ endpoint: e, fromMs: Math.max(0, from), toMs: Math.max(0, s.atMs), source: 'observed' });
        from = undefined;
      }
    }
    if (from !== undefined) out.push({ endpoint: e, fromMs: Math.max(0, from), toMs: null, source: 'observed' });
  }
  return out;
}

/**
 * What /clusters showed, for a message: `/clusters showed payment-service-0 out 550–4480 ms,
 * 4540– ms; …` (sampled every SAMPLE_MS). A case attaches one timeline; the others' failures
 * still say what the sidecar did.
 */
export function describeObserved(samples: readonly ClusterSample[], endpoints: readonly string[]): string {
  const windows = observedWindows(samples, endpoints);
  if (windows.length === 0) return `/clusters showed no replica ejected in ${samples.length} samples`;
  const short = (e: string): string => e.split('.')[0] ?? e;
  const parts = endpoints
    .map((e) => ({ e, w: windows.filter((w) => w.endpoint === e) }))
    .filter(({ w }) => w.length > 0)
    .map(({ e, w }) => `${short(e)} out ${w.map((x) => `${Math.round(x.fromMs)}–${x.toMs === null ? '' : Math.round(x.toMs)}`).join(', ')} ms`);
  return `/clusters (every ${SAMPLE_MS} ms) showed ${parts.join('; ')}`;
}

/** The report's ejection timeline: every request, the ejections /clusters showed and those the oracle expects. */
export function ejectionTimeline(env: ResilienceEnv, requests: readonly ObservedRequest[], samples: readonly ClusterSample[], expected: readonly ExpectedEjection[]): Omit<EjectionTimeline, 'case'> {
  return {
    requests: requests.map((q) => ({ atMs: Math.max(0, q.startMs), servedBy: q.endpoint ?? null, status: q.status, ...(q.flags === undefined ? {} : { flags: q.flags }) })),
    ejections: [...observedWindows(samples, env.replicas), ...expected.map((w) => ({ endpoint: w.endpoint, fromMs: Math.max(0, w.fromMs), toMs: w.toMs, source: 'expected' as const }))],
    endpoints: [...env.replicas],
    timeScale: env.timeScale,
  };
}

/**
 * The gauge and /clusters say the same: in every sample where no host was ejected between the two
 * stats reads around /clusters (ejections_enforced_total unchanged), the gauge read before is at
 * least the hosts /clusters showed ejected and the gauge read after at most (equal when both read
 * the same). Samples with an ejection in between say nothing either way and are left out (when
 * every replica fails, ejections start and end every few milliseconds); how long the reads took
 * does not matter.
 */
export function gaugeMatchesClusters(samples: readonly ClusterSample[]): Error | undefined {
  const judged = samples.filter(comparable);
  if (judged.length === 0) return new Error(`none of ${samples.length} samples had no ejection between their two stats reads`);
  const off = judged.flatMap((s) => {
    const why = gaugeDisagreement(s);
    return why === undefined ? [] : [{ s, why }];
  });
  const first = off[0];
  return first === undefined ? undefined : new Error(`${off.length} of ${judged.length} comparable samples differ, e.g. at ${Math.round(first.s.atMs)} ms ${first.why}`);
}

/**
 * The oracle's verdict on everything a recorder sent through `service` (round robin: a replica
 * back in service is picked within one round of each balancer). Its counters run down to what a
 * sidecar makes when it resets each consecutive-error count up to the margin late (Envoy resets it
 * on its main thread after the worker posts the detection; answers in between count for nothing).
 */
export function judge(env: ResilienceEnv, service: string, recorder: TrafficRecorder, marginMs: number = env.timing.margin(TOLERANCE_MS)): EjectionJudgement {
  // A round robin per balancer (Envoy: per worker thread) may pass a host by one round on each.
  const { loadBalancers, hostHealthLagMs } = env.balancing;
  return judgeEjections({
    endpoints: env.replicas,
    requests: recorder.requests,
    outlierDetection: env.outlierDetectionOf(service),
    timeScale: env.timeScale,
    maxMissedRequests: env.replicas.length * loadBalancers + 1,
    toleranceMs: marginMs,
    lateSweepMs: marginMs,
    hostHealthLagMs,
    // Envoy's main thread, as late as the machine's timers, may reset a count after more answers came in.
    resetLagMs: marginMs,
  });
}

/**
 * The checks every outlier case makes: the traffic agrees with the oracle under some sweep phase;
 * /clusters, sampled, fits the oracle's ejections; the ejections_active gauge equals what
 * /clusters shows; and its peak is the oracle's most replicas out at once. The timeline goes to
 * the report (a case has one: the first service's, when it judges several).
 */
export function verifyEjections<Env>(ctx: CaseContext<Env>, env: ResilienceEnv, service: string, recorder: TrafficRecorder, judged: EjectionJudgement, attachTimeline = true, marginMs: number = ejectionMargin(env, service)): void {
  const { samples } = recorder;
  if (attachTimeline) ctx.attach('ejectionTimeline', ejectionTimeline(env, recorder.requests, samples, judged.expected));
  const listed = judged.disagreements.slice(0, 3).join('; ');
  ctx.verify(
    `the traffic through ${service} agrees with the oracle's ejections${judged.agreeing.length > 0 ? ` (under ${judged.agreeing.length} of the ${judged.tried} sweep phases and drifts tried, e.g. sweeps at ${Math.round(judged.sweeps.phaseMs)} ms + k × (${judged.intervalMs} + ${judged.sweeps.driftMs}) ms)` : ''}`,
    judged.disagreements.length === 0 ? undefined : new Error(`ejection timeline disagrees with the oracle: ${listed}${judged.disagreements.length > 3 ? `; and ${judged.disagreements.length - 3} more` : ''}; ${describeObserved(samples, env.replicas)}`),
  );
  const fit = judged.agreeing.map((a) => samplesFit(samples, env.replicas, a.expected, marginMs + SAMPLE_MS / 2, marginMs + SAMPLE_MS / 2));
  ctx.verify(
    `/clusters of ${service}, sampled every ${SAMPLE_MS} ms, shows the ejections the oracle expects`,
    judged.agreeing.length === 0 ? new Error('no sweep phase of the oracle fits the traffic') : fit.some((e) => e === undefined) ? undefined : fit[0],
  );
  ctx.verify(`envoy_cluster_outlier_detection_ejections_active of ${service} equals the hosts /clusters shows ejected, in every sample with no ejection between its reads`, gaugeMatchesClusters(samples));
  const most = Math.max(0, ...samples.map((s) => s.active));
  const [low, high] = judged.mostEjected;
  ctx.verify(`at most ${high} replica${high === 1 ? '' : 's'} of ${service} out at once (oracle); the gauge peaked at ${most}`, most >= low && most <= high ? undefined : new Error(`ejections_active peaked at ${most}; the oracle expects ${low === high ? low : `${low}–${high}`}`));
}
