/**
 * A full queue is refused, not waited on: payment-pool allows 1 connection and 1 pending request.
 * Every replica answers slowly, and 10 requests at a time are sent: what does not fit is answered
 * at once by the client sidecar with 503 UO and `x-envoy-overloaded: true`, never reaches an app
 * and is never retried. The seed's limits (100 connections, 100 pending) take the same load.
 */
import { Feature, slowEndpoint, type ConformanceCase, type MeshForwardEvidence, type MeshForwardResult } from '../../../harness/index.ts';
import { phasedHypothesis, send, successAtLeast, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { admittedAtOnce, mostAtOnce, poolLimits } from '../pool-limits.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { DR_VARIATIONS, caseExperiment, echoOf, verifySteadyState } from './common.ts';

const NAME = 'connection-pool-overflow-503-uo';
const POOL = 'payment-pool';
const SEED_POOL = 'payment-seed-pool';
/** How slowly every replica answers while the fault is in (not a policy duration: not scaled). */
const SLOW_MS = 100;
const LOAD = { count: 40, concurrency: 10 } as const;
const OVERFLOW_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';

export const poolOverflowCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    "payment-pool's connectionPool allows 1 connection and 1 pending request. With every replica answering 100 ms late and 10 requests in flight, the client sidecar admits at most 1 + 4 × its connection pools per host (Envoy passes maxConnections by one connection per host and pool, and keeps a pool per worker thread), plus 1 pending and answers the rest at once with 503 UO, `x-envoy-overloaded: true` and Envoy's overflow body; no app sees them and none is retried; envoy_cluster_upstream_rq_pending_overflow and istio_requests_total{response_flags=\"UO\"} count them. The seed's limits (payment-seed-pool: 100 connections, 100 pending) serve the same load in full.",
  area: 'resilience',
  features: [Feature.ConnectionPool, Feature.Metrics],
  manifests: [DR_VARIATIONS],
  async test(ctx) {
    const env = ctx.env;
    const limits = poolLimits(env.service(POOL).ports[0]?.trafficPolicy?.connectionPool);
    const seedLimits = poolLimits(env.service(SEED_POOL).ports[0]?.trafficPolicy?.connectionPool);
    const pools = env.balancing.loadBalancers;
    const admitted = admittedAtOnce(limits, env.replicas.length, pools);
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    let overloaded: MeshForwardEvidence | undefined;
    let during: readonly MeshForwardResult[] = [];

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(
          `${SEED_POOL}, with the seed's connectionPool (admits ${admittedAtOnce(seedLimits, env.replicas.length, pools)} at once), serves at least 99% of ${LOAD.concurrency} concurrent requests`,
          [async () => (await send(env, SEED_POOL, LOAD.count, { concurrency: LOAD.concurrency })).results, async () => during, async () => (await send(env, SEED_POOL, LOAD.count, { concurrency: LOAD.concurrency })).results],
          successAtLeast(0.99),
        ),
        faults: env.replicas.map((pod) => slowEndpoint(echoOf(env, pod), SLOW_MS)),
        whileInjected: async (journal) => {
          overloaded = await send(env, POOL, LOAD.count, { concurrency: LOAD.concurrency });
          journal(`${POOL} (admits ${admitted} at once), ${LOAD.count} requests ${LOAD.concurrency} at a time: ${tally(overloaded.results)}`);
          during = (await send(env, SEED_POOL, LOAD.count, { concurrency: LOAD.concurrency })).results;
          journal(`${SEED_POOL}, the same load: ${tally(during)}`);
        },
      },
      [`${POOL}: maxConnections ${limits.maxConnections}, http1MaxPendingRequests ${limits.maxPendingRequests}; every replica answers ${SLOW_MS} ms late while the fault is in`],
    );
    await watch.stop();
    ctx.attach('metrics', watch.samples);

    const results = overloaded?.results ?? [];
    const refused = results.filter((r) => r.status === 503);
    const served = results.filter((r) => r.status === 200);
    ctx.verify(
      `${POOL} refuses what does not fit (${LOAD.concurrency} in flight > ${admitted} admitted): ${refused.length} of ${results.length} with 503`,
      refused.length > 0 && served.length + refused.length === results.length ? undefined : new Error(`${POOL}: ${tally(results)}`),
    );
    const wrong = refused.filter((r) => r.responseFlags !== 'UO' || r.headers?.['x-envoy-overloaded'] !== 'true' || r.body !== OVERFLOW_BODY || r.servedBy !== undefined);
    ctx.verify(
      "every refusal is the client sidecar's own 503 UO with x-envoy-overloaded: true and Envoy's overflow body",
      wrong.length === 0 ? undefined : new Error(`${wrong.length} refusals differ, e.g. flags ${wrong[0]!.responseFlags ?? 'none'}, x-envoy-overloaded ${wrong[0]!.headers?.['x-envoy-overloaded'] ?? 'absent'}, body '${(wrong[0]!.body ?? '').slice(0, 80)}'`),
    );
    // As the client sidecar logged them: from when it took a request (and queued it) to its answer.
    const log = (overloaded?.accessLog ?? []).filter((l) => l.status === 200);
    const atOnce = mostAtOnce(
      log.map((l) => ({ startMs: Date.parse(l.time), endMs: Date.parse(l.time) + l.durationMs })),
      1,
    );
    ctx.verify(
      `at most ${admitted} admitted requests were in the client sidecar at once (maxConnections + one connection per host and pool (${pools} per host) past it + http1MaxPendingRequests); its access log shows ${atOnce}`,
      log.length !== served.length ? new Error(`the access log has ${log.length} served requests, the client saw ${served.length}`) : atOnce <= admitted ? undefined : new Error(`${atOnce} served requests overlapped in the client sidecar, beyond the ${admitted} the pool admits`),
    );
    const appsSaw = Object.values(overloaded?.received ?? {}).reduce((a, b) => a + b, 0);
    ctx.verify(`the apps received exactly the ${served.length} served requests (refused ones never left the client sidecar, and none was retried)`, appsSaw === served.length ? undefined : new Error(`the apps received ${appsSaw}`));
    const cluster = await env.clusterOf(POOL);
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_pending_overflow', labels: { cluster_name: cluster } }, refused.length, `upstream_rq_pending_overflow counts the ${refused.length} refusals`);
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_retry', labels: { cluster_name: cluster } }, 0, 'no refusal is retried');
    watch.check(ctx, { name: 'istio_requests_total', labels: { reporter: 'source', destination_service: env.service(POOL).host, response_code: '503', response_flags: 'UO' } }, refused.length, 'istio_requests_total counts them with response_flags UO');
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_pending_overflow', labels: { cluster_name: await env.clusterOf(SEED_POOL) } }, 0, `${SEED_POOL} (the seed's limits) never overflows`);
    verifySteadyState(ctx, outcome);
  },
};
