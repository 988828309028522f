/**
 * A circuit breaker that cannot trip: maxEjectionPercent below one host. The oracle reads every
 * DestinationRule of the suite's mesh and reports each one that can never eject as a finding;
 * then one replica behind such a rule fails, and live traffic shows the rule does nothing: the
 * failing replica keeps its share of traffic, each detection is counted as an overflow.
 */
import { ErrorCode, Feature, FaultSchedule, MeshproofError, failingEndpoint, type ConformanceCase, type MeshForwardResult } from '../../../harness/index.ts';
import { TrafficRecorder, phasedHypothesis, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { neverEjecting } from '../never-eject.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { DR_VARIATIONS, RATE, SAMPLE_MS, SEED_DESTINATION_RULE, caseExperiment, echoOf, judge, scaledOutlier, timeScaleLine, verifyEjections, verifySteadyState } from './common.ts';

const NAME = 'outlier-cap-below-one-host-never-ejects';
const SERVICE = 'payment-cap20';

export const neverEjectCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    "maxEjectionPercent 20 on 4 replicas is below one host (25%), so Envoy ≥ 1.28 can never eject one: the oracle reports every such DestinationRule of the suite as a finding (payment-cap20 only; the seed's 50% ejects up to 2), and live traffic agrees: a replica answering 503 to everything keeps its share of requests, and each detection is counted in envoy_cluster_outlier_detection_ejections_overflow, none enforced.",
  area: 'resilience',
  features: [Feature.OutlierDetection, Feature.Metrics],
  manifests: [SEED_DESTINATION_RULE, DR_VARIATIONS],
  async test(ctx) {
    const env = ctx.env;
    const findings = neverEjecting(env.mesh.mesh);
    for (const f of findings) ctx.finding(f.text);
    const named = findings.map((f) => f.service);
    ctx.verify(`the oracle finds the one rule of the suite that can never eject (${named.join(', ') || 'none'})`, named.join() === `${SERVICE}.prod-namespace:80` ? undefined : new Error(`expected only ${SERVICE}.prod-namespace:80, found [${named.join(', ')}]`));

    const { settings, intervalMs } = scaledOutlier(env, SERVICE);
    const [failing] = FaultSchedule.pick(ctx.seed, NAME, env.replicas, 1) as [string];
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    const recorder = new TrafficRecorder(env, SERVICE, await env.clusterOf(SERVICE), SAMPLE_MS);
    let during: readonly MeshForwardResult[] = [];
    const share = (results: readonly MeshForwardResult[]): number => results.filter((r) => r.servedBy === failing).length / Math.max(1, results.length);

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(
          `nothing is ejected from ${SERVICE} (maxEjectionPercent ${settings.maxEjectionPercent} is below one of ${env.replicas.length} hosts): ${failing} keeps at least a fifth of the requests`,
          [() => recorder.drive(40, RATE), async () => during, () => recorder.drive(40, RATE)],
          (results) => ({ holds: share(results) >= 0.2, detail: `${failing} got ${(share(results) * 100).toFixed(0)}% of ${results.length} requests: ${tally(results)}` }),
        ),
        faults: [failingEndpoint(echoOf(env, failing))],
        whileInjected: async (journal) => {
          during = await recorder.drive(Math.ceil((RATE * 5 * intervalMs) / 1000), RATE);
          journal(`${during.length} requests at ${RATE}/s: ${tally(during)}`);
        },
      },
      [timeScaleLine(env, [['interval', settings.intervalMs], ['baseEjectionTime', settings.baseEjectionTimeMs]]), `seed ${ctx.seed} picks the failing replica: ${failing}`, ...findings.map((f) => `finding: ${f.text}`)],
    );
    await watch.stop();
    ctx.attach('metrics', watch.samples);

    const judged = judge(env, SERVICE, recorder);
    verifyEjections(ctx, env, SERVICE, recorder, judged);
    const labels = { cluster_name: await env.clusterOf(SERVICE) };
    const overflow = judged.range((s) => s.ejectionsOverflow);
    if (overflow[1] === 0) throw new MeshproofError(ErrorCode.Internal, `${failing} never failed ${settings.consecutive5xx} times in a row: the case cannot show the cap`);
    watch.check(ctx, { name: 'envoy_cluster_outlier_detection_ejections_overflow', labels }, overflow, `every detection is an overflow, as the oracle counts them (${overflow.join('–')})`);
    watch.check(ctx, { name: 'envoy_cluster_outlier_detection_ejections_enforced_total', labels }, 0, 'no ejection is ever enforced');
    verifySteadyState(ctx, outcome);
  },
};
