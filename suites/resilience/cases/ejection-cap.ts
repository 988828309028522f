/**
 * The cap: with the seed's maxEjectionPercent 50 and 4 replicas, at most 2 are ejected at once
 * (Envoy ≥ 1.28: 100 × (ejected + 1) / hosts ≤ 50). Three replicas (drawn from the seed) fail;
 * the third to be detected is counted as an overflow and keeps taking traffic.
 */
import { ErrorCode, Feature, FaultSchedule, MeshproofError, failingEndpoint, maxEjectedHosts, type ClusterSample, type ConformanceCase } from '../../../harness/index.ts';
import { TrafficRecorder, phasedHypothesis, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { DR_VARIATIONS, RATE, SAMPLE_MS, TOLERANCE_MS, caseExperiment, echoOf, judge, scaledOutlier, timeScaleLine, verifyEjections, verifySteadyState } from './common.ts';

const NAME = 'outlier-cap-max-ejection-percent';
const SERVICE = 'payment-cap';

export const ejectionCapCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    "payment-cap has the seed's outlierDetection, maxEjectionPercent 50. With 3 of its 4 replicas answering 503, at most 2 are ejected at once (Envoy ≥ 1.28 applies the cap as 100 × (ejected + 1) / hosts ≤ 50); the third is counted in envoy_cluster_outlier_detection_ejections_overflow and keeps taking traffic, and the healthy replica answers every request it gets.",
  area: 'resilience',
  features: [Feature.OutlierDetection, Feature.Metrics],
  manifests: [DR_VARIATIONS],
  async test(ctx) {
    const env = ctx.env;
    const { settings, intervalMs, baseMs } = scaledOutlier(env, SERVICE);
    const cap = maxEjectedHosts(env.replicas.length, settings.maxEjectionPercent);
    const failing = FaultSchedule.pick(ctx.seed, NAME, env.replicas, 3);
    const healthy = env.replicas.filter((r) => !failing.includes(r));
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    const recorder = new TrafficRecorder(env, SERVICE, await env.clusterOf(SERVICE), SAMPLE_MS);
    /** The samples one phase took. */
    const phase = async (count: number): Promise<ClusterSample[]> => {
      const from = recorder.samples.length;
      await recorder.drive(count, RATE);
      return recorder.samples.slice(from);
    };
    let during: ClusterSample[] = [];

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(
          `at most ${cap} of ${SERVICE}'s ${env.replicas.length} replicas are ejected at once (maxEjectionPercent ${settings.maxEjectionPercent}), whatever fails`,
          [() => phase(40), async () => during, () => phase(Math.ceil((RATE * (2 * baseMs + 2 * intervalMs)) / 1000))],
          (samples) => {
            const most = Math.max(0, ...samples.map((s) => s.ejected.length));
            return { holds: samples.length > 0 && most <= cap, detail: `${samples.length} samples of /clusters: at most ${most} ejected at once (cap ${cap})` };
          },
        ),
        faults: failing.map((pod) => failingEndpoint(echoOf(env, pod))),
        whileInjected: async (journal) => {
          during = await phase(Math.ceil((RATE * (2 * baseMs + 2 * intervalMs)) / 1000));
          journal(`requests at ${RATE}/s: ${tally(recorder.results)}`);
        },
      },
      [timeScaleLine(env, [['interval', settings.intervalMs], ['baseEjectionTime', settings.baseEjectionTimeMs]]), `seed ${ctx.seed} picks the failing replicas: ${failing.join(', ')}`],
    );
    await watch.stop();
    ctx.attach('metrics', watch.samples);

    const judged = judge(env, SERVICE, recorder);
    verifyEjections(ctx, env, SERVICE, recorder, judged);
    const most = Math.max(0, ...recorder.samples.map((s) => s.ejected.length));
    ctx.verify(`/clusters never shows more than ${cap} ejected (maxEjectedHosts(${env.replicas.length}, ${settings.maxEjectionPercent}) = ${cap}), and shows ${cap} at some point`, most === cap ? undefined : new Error(`at most ${most} ejected at once`));
    const healthyServed = recorder.results.filter((r) => r.servedBy !== undefined && healthy.includes(r.servedBy));
    ctx.verify(
      `the healthy replica ${healthy.join(', ')} answers all of its ${healthyServed.length} requests with 200, and is never ejected`,
      healthyServed.length > 0 && healthyServed.every((r) => r.status === 200) && recorder.samples.every((s) => !s.ejected.some((h) => healthy.includes(h))) ? undefined : new Error(`healthy replica: ${tally(healthyServed)}; ejected in ${recorder.samples.filter((s) => s.ejected.some((h) => healthy.includes(h))).length} samples`),
    );
    const labels = { cluster_name: await env.clusterOf(SERVICE) };
    const overflow = judged.range((s) => s.ejectionsOverflow);
    const margin = env.timing.margin(TOLERANCE_MS);
    watch.check(
      ctx,
      { name: 'envoy_cluster_outlier_detection_ejections_overflow', labels },
      overflow,
      `detections over the cap are counted as overflow, as the oracle counts them (${overflow[0] === overflow[1] ? overflow[0] : overflow.join('–')}; the least with each consecutive-5xx count reset up to ${Math.round(margin)} ms after its detection, as Envoy's main thread may, losing the 5xx answered meanwhile)`,
    );
    watch.check(ctx, { name: 'envoy_cluster_outlier_detection_ejections_enforced_total', labels }, judged.range((s) => s.ejectionsEnforcedTotal), 'ejections enforced, as the oracle counts them');
    if (overflow[0] === 0 && judged.disagreements.length === 0) throw new MeshproofError(ErrorCode.Internal, `the traffic never reached the cap of ${cap}: the case cannot show it (send more requests)`);
    verifySteadyState(ctx, outcome);
  },
};
