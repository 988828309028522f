/**
 * A hung call is cut off. One replica (drawn from the seed) answers far later than any timeout:
 * - through the seed's VirtualService (perTryTimeout 1s, 3 retries on 5xx): each try that reaches
 *   it ends at the per-try timeout and is retried on another replica, so the client gets 200;
 * - through payment-timeout (the seed's timeout 3s, no retries): the request ends at the route
 *   timeout with 504 UT `upstream request timeout`;
 * - when every replica is that slow, the seed's route timeout ends the request across its retries,
 *   504 UT.
 * Each request is compared with what the oracle says the route makes of it, and the metrics count
 * the per-try and route timeouts.
 */
import { Feature, FaultSchedule, slowEndpoint, withFaults, type ConformanceCase, type MeshForwardResult } from '../../../harness/index.ts';
import { phasedHypothesis, send, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { attemptsOf, compareWithRoute, routeFor } from '../route-oracle.ts';
import { SEED_VIRTUAL_SERVICE, VS_VARIATIONS, caseExperiment, echoOf, timeScaleLine, verifySteadyState } from './common.ts';

const NAME = 'per-try-and-route-timeouts-504-ut';
const SEED = 'payment-service';
const TIMEOUT_ONLY = 'payment-timeout';
/** How late a slow replica answers: far beyond the route timeout, at least 500 ms. */
const slowMs = (routeTimeoutMs: number): number => Math.max(500, 4 * routeTimeoutMs);
const RATE = 50;
/** A local reply, or a retry, takes this much longer than the timer that caused it: the measured margin (env.timing), at least this. */
const SLACK_FLOOR_MS = 100;
const LISTED = 4;

const isUt = (r: MeshForwardResult): boolean => (r.responseFlags ?? '').split(',').includes('UT');

export const timeoutsCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    "One replica answers far beyond the route timeout (500 ms at the default time scale). Through the seed's VirtualService (perTryTimeout 1s, attempts 3 on 5xx) each try that reaches it is cut at the per-try timeout and retried elsewhere, so the client gets 200; through payment-timeout (timeout 3s, no retries) those requests end at the route timeout with 504 UT `upstream request timeout`; with every replica that slow, the seed's route timeout ends requests across their retries with 504 UT. Every request is what the oracle says its route makes of it, none waits past its route timeout, and upstream_rq_per_try_timeout, upstream_rq_timeout (for a timeout that cuts a try in flight, as Envoy counts it) and istio_requests_total{response_code=\"504\",response_flags=\"UT\"} count them.",
  area: 'resilience',
  features: [Feature.Timeouts, Feature.Retries, Feature.Metrics],
  manifests: [SEED_VIRTUAL_SERVICE, VS_VARIATIONS],
  async test(ctx) {
    const env = ctx.env;
    const seedRoute = routeFor(env.service(SEED).httpRoutes, '/pay/1', env.timeScale);
    const timeoutRoute = routeFor(env.service(TIMEOUT_ONLY).httpRoutes, '/pay/1', env.timeScale);
    const routeTimeoutMs = 3_000 * env.timeScale;
    const slowAnswerMs = slowMs(routeTimeoutMs);
    // Margins from the measured jitter: one must tell the route timeout from the slow answer, the other a per-try timeout from none.
    const SLACK_MS = env.timing.judgeable(`the route timeout of ${routeTimeoutMs} ms against a ${slowAnswerMs} ms answer`, slowAnswerMs - routeTimeoutMs, SLACK_FLOOR_MS);
    const tryMarginMs = env.timing.judgeable(`the per-try timeout of ${1_000 * env.timeScale} ms`, 1_000 * env.timeScale);
    const [slow] = FaultSchedule.pick(ctx.seed, NAME, env.replicas, 1) as [string];
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    let perTry: readonly MeshForwardResult[] = [];
    let routeOnly: readonly MeshForwardResult[] = [];
    /** Route timeouts of payment-timeout as the client sidecar logged them: a 504 UT, or a reset when the answer had started. */
    let routeOnlyLoggedUt = 0;
    let allSlow: readonly MeshForwardResult[] = [];

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(
          `no request to ${SEED} or ${TIMEOUT_ONLY} waits longer than its route timeout (3s × ${env.timeScale} = ${routeTimeoutMs} ms) plus ${SLACK_MS} ms, whatever a replica does`,
          [async () => (await send(env, SEED, 40, { ratePerSecond: RATE })).results, async () => [...perTry, ...routeOnly, ...allSlow], async () => (await send(env, SEED, 40, { ratePerSecond: RATE })).results],
          (results) => {
            const longest = Math.max(0, ...results.map((r) => r.durationMs));
            return { holds: results.length > 0 && longest <= routeTimeoutMs + SLACK_MS, detail: `the longest of ${results.length} requests took ${longest} ms: ${tally(results)}` };
          },
        ),
        faults: [slowEndpoint(echoOf(env, slow), slowAnswerMs)],
        whileInjected: async (journal) => {
          perTry = (await send(env, SEED, 60, { ratePerSecond: RATE })).results;
          journal(`${SEED}: ${tally(perTry)}; ${perTry.filter((r) => (attemptsOf(r) ?? 1) > 1).length} retried after a per-try timeout`);
          const routeForward = await send(env, TIMEOUT_ONLY, 40, { ratePerSecond: RATE });
          routeOnly = routeForward.results;
          routeOnlyLoggedUt = routeForward.accessLog.filter((e) => e.responseFlags.split(',').includes('UT')).length;
          journal(`${TIMEOUT_ONLY}: ${tally(routeOnly)}`);
          const others = env.replicas.filter((r) => r !== slow).map((pod) => slowEndpoint(echoOf(env, pod), slowAnswerMs));
          journal(`every replica answers ${slowAnswerMs} ms late`, 'inject');
          allSlow = await withFaults(others, async () => (await send(env, SEED, 20, { ratePerSecond: RATE })).results);
          journal(`only ${slow} is slow again`, 'rollback');
          journal(`${SEED}, every replica slow: ${tally(allSlow)}`);
        },
      },
      [timeScaleLine(env, [['perTryTimeout', 1_000], ['timeout', 3_000]]), `seed ${ctx.seed} picks the slow replica: ${slow} (answers ${slowAnswerMs} ms late)`],
    );
    await watch.stop();
    ctx.attach('metrics', watch.samples);

    const slowTry = { kind: 'response' as const, status: 200, latencyMs: slowAnswerMs };
    const fast = { kind: 'response' as const, status: 200, latencyMs: 0 };
    const disagreements = (what: string, results: readonly MeshForwardResult[], expect: (r: MeshForwardResult) => Error | undefined): void => {
      const off = results.map((r) => ({ r, error: expect(r) })).filter((x) => x.error !== undefined);
      ctx.verify(what, results.length === 0 ? new Error('no request was sent') : off.length === 0 ? undefined : new Error(`${off.length} of ${results.length} disagree: ${off.slice(0, LISTED).map((x) => `request ${x.r.index}: ${x.error!.message}`).join('; ')}`));
    };
    // Per-try: a request's first n-1 tries reached the slow replica and were cut; the last got a fast answer.
    disagreements(`${SEED}: each request is what the oracle says (per-try timeout ${1_000 * env.timeScale} ms, then a retry elsewhere)`, perTry, (r) => {
      const n = attemptsOf(r) ?? 1;
      return compareWithRoute(r, { route: seedRoute, attempts: [...Array.from({ length: n - 1 }, () => slowTry), fast], slackMs: tryMarginMs }).error;
    });
    const cutTries = perTry.reduce((sum, r) => sum + (attemptsOf(r) ?? 1) - 1, 0);
    ctx.verify(`${SEED}: the slow replica was reached and cut off (${cutTries} tries), and every request still got 200`, cutTries > 0 && perTry.every((r) => r.status === 200) ? undefined : new Error(`${tally(perTry)}; ${cutTries} tries cut`));
    disagreements(`${TIMEOUT_ONLY}: each request is what the oracle says (route timeout ${routeTimeoutMs} ms, no retry): 504 UT for the slow replica's`, routeOnly, (r) => {
      const error = compareWithRoute(r, { route: timeoutRoute, attempts: [r.status === 504 ? slowTry : fast], slackMs: tryMarginMs }).error;
      if (error !== undefined) return error;
      return r.status === 504 && r.durationMs > routeTimeoutMs + SLACK_MS ? new Error(`504 after ${r.durationMs} ms, long after the ${routeTimeoutMs} ms route timeout`) : undefined;
    });
    const routeTimedOut = routeOnly.filter((r) => r.status === 504);
    ctx.verify(`${TIMEOUT_ONLY}: the requests the slow replica got ended at the route timeout (${routeTimedOut.length})`, routeTimedOut.length > 0 ? undefined : new Error(`${tally(routeOnly)}: the slow replica got none`));
    disagreements(`${SEED}, every replica slow: each request ends at the route timeout across its retries, 504 UT (the oracle; back-off makes the number of tries vary)`, allSlow, (r) => compareWithRoute(r, { route: seedRoute, attempts: [slowTry], slackMs: tryMarginMs, compareAttempts: false }).error);

    const seedCluster = { cluster_name: await env.clusterOf(SEED) };
    const timeoutCluster = { cluster_name: await env.clusterOf(TIMEOUT_ONLY) };
    // Every try of an all-slow request but the one the route timeout cut was a per-try timeout.
    const allSlowTries = allSlow.reduce((sum, r) => sum + (attemptsOf(r) ?? 1), 0);
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_per_try_timeout', labels: seedCluster }, [cutTries + allSlowTries - allSlow.length, cutTries + allSlowTries], 'upstream_rq_per_try_timeout counts the tries cut by the per-try timeout');
    // Envoy counts a route timeout only when it cuts a try still awaiting headers; one that ends a
    // request in its retry back-off is not counted (Router::onResponseTimeout), so some of these are not.
    const seedUt = allSlow.filter(isUt).length;
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_timeout', labels: seedCluster }, [Math.min(1, seedUt), seedUt], `upstream_rq_timeout of ${SEED} counts the route timeouts that cut a try in flight (at most the ${seedUt} UT answers)`);
    // Envoy counts every route timeout that cuts a try in flight, even one whose answer had started (the client then sees a reset, not a 504): its UT log lines.
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_timeout', labels: timeoutCluster }, Math.max(routeTimedOut.length, routeOnlyLoggedUt), `upstream_rq_timeout of ${TIMEOUT_ONLY} counts its route timeouts (${routeTimedOut.length} 504 UT, ${routeOnlyLoggedUt} UT in the client sidecar's log)`);
    watch.check(ctx, { name: 'istio_requests_total', labels: { reporter: 'source', destination_service: env.service(TIMEOUT_ONLY).host, response_code: '504', response_flags: 'UT' } }, routeTimedOut.length, 'istio_requests_total counts them as 504 UT');
    verifySteadyState(ctx, outcome);
  },
};
