/**
 * Panic mode (Envoy's healthy_panic_threshold, Istio's minHealthPercent): every replica fails.
 * Without minHealthPercent (Istio sets the threshold to 0), once all are ejected the client
 * sidecar answers 503 UH `no healthy upstream`. With minHealthPercent 50, once fewer than half
 * are healthy it stops trusting the ejections and sends traffic to every replica, ejected ones
 * included: the apps answer, and no request is refused with UH.
 */
import { Feature, failingEndpoint, type ConformanceCase, type MeshForwardResult } from '../../../harness/index.ts';
import { TrafficRecorder, phasedHypothesis, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { DR_VARIATIONS, RATE, SAMPLE_MS, caseExperiment, echoOf, ejectionTimeline, judge, scaledOutlier, timeScaleLine, verifyEjections, verifySteadyState } from './common.ts';

const NAME = 'outlier-panic-min-health-percent';
const PANIC = 'payment-panic';
const NO_PANIC = 'payment-nopanic';

const isUh = (flags: string | undefined): boolean => (flags ?? '').split(',').includes('UH');

export const panicCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    'Every replica answers 503. payment-nopanic (maxEjectionPercent 100, no minHealthPercent) ejects them all and then answers 503 UH `no healthy upstream`; payment-panic (the same with minHealthPercent 50) goes into panic once fewer than half are healthy and keeps sending to every replica, ejected ones included, so no request gets UH. Both agree with the oracle; envoy_cluster_lb_healthy_panic counts the panic routing, and istio_requests_total the UH answers.',
  area: 'resilience',
  features: [Feature.OutlierDetection, Feature.PanicThreshold, Feature.Metrics],
  manifests: [DR_VARIATIONS],
  async test(ctx) {
    const env = ctx.env;
    const { settings, intervalMs, baseMs } = scaledOutlier(env, PANIC);
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    const panic = new TrafficRecorder(env, PANIC, await env.clusterOf(PANIC), SAMPLE_MS);
    const noPanic = new TrafficRecorder(env, NO_PANIC, await env.clusterOf(NO_PANIC), SAMPLE_MS);
    // Long enough for every replica to be ejected and to come back once.
    const count = Math.ceil((RATE * (baseMs + 3 * intervalMs)) / 1000);
    let during: readonly MeshForwardResult[] = [];

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(
          `no request to ${PANIC} is refused with 503 UH (minHealthPercent ${settings.panicThresholdPercent}: below that share of healthy replicas, every replica takes traffic)`,
          [() => panic.drive(40, RATE), async () => during, () => panic.drive(40, RATE)],
          (results) => {
            const uh = results.filter((r) => isUh(r.responseFlags)).length;
            return { holds: results.length > 0 && uh === 0, detail: `${uh} of ${results.length} requests answered 503 UH` };
          },
        ),
        faults: env.replicas.map((pod) => failingEndpoint(echoOf(env, pod))),
        whileInjected: async (journal) => {
          const refused = await noPanic.drive(count, RATE);
          journal(`${NO_PANIC} (no minHealthPercent): ${tally(refused)}`);
          during = await panic.drive(count, RATE);
          journal(`${PANIC} (minHealthPercent ${settings.panicThresholdPercent}): ${tally(during)}`);
        },
      },
      [timeScaleLine(env, [['interval', settings.intervalMs], ['baseEjectionTime', settings.baseEjectionTimeMs]]), `every replica fails: ${env.replicas.join(', ')}`],
    );
    await watch.stop();
    ctx.attach('metrics', watch.samples);

    const judgedPanic = judge(env, PANIC, panic);
    ctx.attach('ejectionTimeline', ejectionTimeline(env, panic.requests, panic.samples, judgedPanic.expected));
    verifyEjections(ctx, env, NO_PANIC, noPanic, judge(env, NO_PANIC, noPanic), false);
    verifyEjections(ctx, env, PANIC, panic, judgedPanic, false);

    const uh = noPanic.results.filter((r) => isUh(r.responseFlags));
    ctx.verify(
      `without minHealthPercent, once every replica is out, ${NO_PANIC} answers 503 UH 'no healthy upstream' (${uh.length} of ${noPanic.results.length} requests)`,
      uh.length > 0 && uh.every((r) => r.status === 503 && (r.body ?? '').startsWith('no healthy upstream')) ? undefined : new Error(`${NO_PANIC}: ${tally(noPanic.results)}; UH bodies: ${[...new Set(uh.map((r) => r.body))].join(' | ') || 'none'}`),
    );
    // Panic routing: requests that reached a replica while the oracle had it ejected.
    const toEjected = panic.requests.filter((q) => q.endpoint !== undefined && judgedPanic.expected.some((w) => w.endpoint === q.endpoint && w.fromMs < q.startMs && (w.toMs === null || q.startMs < w.toMs)));
    ctx.verify(
      `with minHealthPercent ${settings.panicThresholdPercent}, ${PANIC} sends requests to ejected replicas (${toEjected.length}) and answers none with UH`,
      toEjected.length > 0 && !panic.results.some((r) => isUh(r.responseFlags)) ? undefined : new Error(`${PANIC}: ${tally(panic.results)}; ${toEjected.length} requests reached a replica the oracle had ejected`),
    );
    const inPanic = panic.results.length;
    watch.check(ctx, { name: 'envoy_cluster_lb_healthy_panic', labels: { cluster_name: await env.clusterOf(PANIC) } }, [1, inPanic], `${PANIC} balanced requests in panic mode`);
    watch.check(ctx, { name: 'envoy_cluster_lb_healthy_panic', labels: { cluster_name: await env.clusterOf(NO_PANIC) } }, 0, `${NO_PANIC} never balances in panic mode (its threshold is 0)`);
    watch.check(ctx, { name: 'istio_requests_total', labels: { reporter: 'source', destination_service: env.service(NO_PANIC).host, response_code: '503', response_flags: 'UH' } }, uh.length, `istio_requests_total counts the ${uh.length} UH answers of ${NO_PANIC}`);
    verifySteadyState(ctx, outcome);
  },
};
