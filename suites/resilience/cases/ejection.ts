/**
 * The seed's circuit breaker, ejection by ejection: one replica (drawn from the seed) answers 503
 * to everything. With the seed's outlierDetection it is ejected on its 3rd consecutive 503, sent
 * nothing until the sweep after baseEjectionTime × its multiplier, fails again at once and is
 * ejected twice as long; after the fault is rolled back it returns to service. Traffic, the
 * oracle, /clusters and the metrics must all tell the same story.
 */
import { Feature, FaultSchedule, failingEndpoint, type ConformanceCase, type MeshForwardResult } from '../../../harness/index.ts';
import { ordinal } from '../ejection-judge.ts';
import { TrafficRecorder, phasedHypothesis, requestsUntil, successAtLeast, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { DR_VARIATIONS, RATE, SAMPLE_MS, caseExperiment, echoOf, ejectionMargin, judge, observedWindows, scaledOutlier, timeScaleLine, verifyEjections, verifySteadyState } from './common.ts';
import { describeMargin } from '../case-timing.ts';

const NAME = 'outlier-ejects-failing-replica';
const SERVICE = 'payment-eject';

export const ejectionCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    "payment-eject has the seed's outlierDetection (consecutive5xxErrors 3, interval 10s, baseEjectionTime 30s, maxEjectionPercent 50). A replica that answers 503 to everything is ejected on its 3rd consecutive 503, gets no request until the sweep after 30 s × its multiplier, is ejected twice as long when it fails again at once, and returns to service once it is healthy; the oracle, /clusters, ejections_active and istio_requests_total agree with the traffic.",
  area: 'resilience',
  features: [Feature.OutlierDetection, Feature.Metrics],
  manifests: [DR_VARIATIONS],
  async test(ctx) {
    const env = ctx.env;
    const { settings, intervalMs, baseMs } = scaledOutlier(env, SERVICE);
    const [failing] = FaultSchedule.pick(ctx.seed, NAME, env.replicas, 1) as [string];
    // Long enough for two ejections and their returns: 3 failures, base (+ a sweep), 3 failures, 2 × base (+ a sweep).
    const duringCount = Math.ceil((RATE * (4 * baseMs + 3 * intervalMs)) / 1000);
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    const recorder = new TrafficRecorder(env, SERVICE, await env.clusterOf(SERVICE), SAMPLE_MS);
    let during: readonly MeshForwardResult[] = [];
    let afterRollback: readonly MeshForwardResult[] = [];

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(
          `at least 90% of requests to ${SERVICE} succeed while one of its ${env.replicas.length} replicas answers 503 to everything (without ejection about 25% would fail)`,
          [
            () => recorder.drive(40, RATE),
            async () => during,
            async () => {
              // Until the replica has served out its last ejection (the oracle says how long; none may be left), and 3 intervals more.
              const ends = judge(env, SERVICE, recorder).expected.filter((w) => w.toMs === null).map((w) => w.fromMs + w.ejectionMs + intervalMs);
              const now = recorder.now();
              afterRollback = await recorder.drive(requestsUntil(Math.max(now, ...ends), now, 3 * intervalMs, RATE), RATE);
              return afterRollback;
            },
          ],
          successAtLeast(0.9),
        ),
        faults: [failingEndpoint(echoOf(env, failing))],
        whileInjected: async (journal) => {
          during = await recorder.drive(duringCount, RATE);
          journal(`${during.length} requests at ${RATE}/s: ${tally(during)}; ${failing} answered ${during.filter((r) => r.servedBy === failing).length} of them`);
        },
      },
      [timeScaleLine(env, [['interval', settings.intervalMs], ['baseEjectionTime', settings.baseEjectionTimeMs]]), `seed ${ctx.seed} picks the failing replica: ${failing}`],
    );
    await watch.stop();
    ctx.attach('metrics', watch.samples);

    // The measured margin (or MESHPROOF_ERR_TIMING_MARGIN when it is too wide for the sweep interval), for every timing check below.
    const marginMs = ejectionMargin(env, SERVICE);
    const judged = judge(env, SERVICE, recorder, marginMs);
    // First, so that an ejection time that does not grow is named as such (from /clusters alone), not by the timeline disagreements it leads to.
    const [firstOut, secondOut] = observedWindows(recorder.samples, [failing]);
    const lasted = (w: typeof firstOut): number | undefined => (w?.toMs === null || w === undefined ? undefined : Math.round(w.toMs - w.fromMs));
    ctx.verify(
      `/clusters shows ${failing}'s second ejection, right after its first, last at least 2 × baseEjectionTime (${2 * baseMs} ms, less the ${marginMs} ms margin and a sample)`,
      lasted(secondOut) === undefined || lasted(secondOut)! >= 2 * baseMs - marginMs - SAMPLE_MS ? undefined : new Error(`the ejection time was not doubled: /clusters showed ${failing} out for ${lasted(firstOut)} ms, then for ${lasted(secondOut)} ms after its second ejection, under 2 × ${baseMs} ms`),
    );
    verifyEjections(ctx, env, SERVICE, recorder, judged, true, marginMs);
    const others = recorder.samples.filter((s) => s.ejected.some((h) => h !== failing));
    ctx.verify(
      `only the failing replica ${failing} is ever ejected (/clusters, every ${SAMPLE_MS} ms)`,
      others.length > 0 ? new Error(`at ${Math.round(others[0]!.atMs)} ms /clusters shows ${others[0]!.ejected.join(', ')} ejected`) : recorder.samples.some((s) => s.ejected.includes(failing)) ? undefined : new Error(`/clusters never showed ${failing} ejected in ${recorder.samples.length} samples`),
    );
    const episodes = judged.episodes;
    ctx.verify(
      `${failing} is ejected on its ${ordinal(settings.consecutive5xx)} consecutive 503 each time (${episodes.map((e) => e.failuresBefore).join(', ') || 'no ejection'})`,
      episodes.length >= 2 && episodes.every((e) => e.failuresBefore === settings.consecutive5xx) ? undefined : new Error(`failures before each ejection: [${episodes.map((e) => e.failuresBefore).join(', ')}], expected ${settings.consecutive5xx} before each of at least 2 ejections`),
    );
    // A replica back in service is picked within one round of the replicas (round robin), after a sweep that may run late.
    const pickMs = ((env.replicas.length + 2) * 1000) / RATE + marginMs;
    const ended = episodes.filter((e) => e.backAfterMs !== undefined);
    const range = (e: (typeof ended)[number]): string => `${e.expected.ejectionMs}–${e.expected.ejectionMs + intervalMs} ms`;
    const wrong = ended.filter((e) => e.backAfterMs! < e.expected.ejectionMs - marginMs || e.backAfterMs! > e.expected.ejectionMs + intervalMs + pickMs);
    ctx.verify(
      `each ejection lasts baseEjectionTime × its multiplier, ended by the next sweep (${describeMargin(env.timing, marginMs)}): ${ended.map((e) => `${Math.round(e.backAfterMs!)} ms (×${e.expected.multiplier}: ${range(e)})`).join(', ')}`,
      ended.length === 0 ? new Error('no ejection ended while traffic was sent') : wrong.length === 0 ? undefined : new Error(`out for ${wrong.map((e) => `${Math.round(e.backAfterMs!)} ms where the oracle says ${range(e)} (+${Math.round(pickMs)} ms for a late sweep and the next pick)`).join(', ')}`),
    );
    const [first, second] = episodes;
    const doubledEverywhere = judged.agreeing.every((a) => a.expected[1]?.multiplier === 2);
    ctx.verify(
      `the second ejection, right after the first, lasts 2 × baseEjectionTime (${2 * baseMs} ms)`,
      second?.backAfterMs === undefined || first === undefined
        ? new Error('there was no second ejection that ended while traffic was sent')
        : second.expected.multiplier !== 2 || !doubledEverywhere
          ? new Error(`the oracle does not expect a doubled second ejection here (multiplier ${second.expected.multiplier}): ${failing} failed again ${Math.round(second.expected.fromMs - first.expected.fromMs - (first.backAfterMs ?? 0))} ms after its return, too late to test doubling`)
          : second.backAfterMs < 2 * baseMs - marginMs
            ? new Error(`${failing} was back ${Math.round(second.backAfterMs)} ms after its second ejection, before 2 × ${baseMs} ms`)
            : undefined,
    );
    const back = afterRollback.filter((r) => r.servedBy === failing && r.status === 200).length;
    ctx.verify(`${failing} returns to service after the rollback: it answered ${back} requests with 200`, back > 0 ? undefined : new Error(`${failing} answered none of the ${afterRollback.length} requests after the rollback`));
    const labels = { cluster_name: await env.clusterOf(SERVICE) };
    watch.check(ctx, { name: 'envoy_cluster_outlier_detection_ejections_enforced_consecutive_5xx', labels }, judged.range((s) => s.ejectionsEnforced.consecutive_5xx), 'consecutive-5xx ejections enforced, as the oracle counts them');
    watch.check(ctx, { name: 'envoy_cluster_outlier_detection_ejections_enforced_total', labels }, judged.range((s) => s.ejectionsEnforcedTotal), 'ejections enforced in all, as the oracle counts them');
    const failed = recorder.results.filter((r) => r.status === 503).length;
    watch.check(ctx, { name: 'istio_requests_total', labels: { reporter: 'source', destination_service: env.service(SERVICE).host, response_code: '503', response_flags: '-' } }, failed, `istio_requests_total counts the ${failed} 503s the client saw (the failing replica's own answers, no flag)`);
    verifySteadyState(ctx, outcome);
  },
};
