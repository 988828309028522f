/**
 * A transient glitch is retried: the seed's VirtualService on payment-service (attempts 3,
 * perTryTimeout 1s, retryOn 5xx,gateway-error,connect-failure, timeout 3s) while replicas glitch
 * at points drawn from the seed: for a few requests one replica answers 503 or resets the
 * connection. The client sees every request succeed; each request's attempts are what the oracle
 * says the route makes of them, and the metrics count the retries the replicas absorbed.
 */
import { scaleMs, ErrorCode, Feature, FaultSchedule, MeshproofError, failingEndpoint, resettingEndpoint, runSchedule, type ConformanceCase, type MeshForwardResult } from '../../../harness/index.ts';
import { phasedHypothesis, send, successAtLeast, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { attemptsOf, compareWithRoute, routeFor } from '../route-oracle.ts';
import { SEED_DESTINATION_RULE, SEED_VIRTUAL_SERVICE, caseExperiment, echoOf, timeScaleLine, verifySteadyState } from './common.ts';

const NAME = 'retries-absorb-transient-failures';
const SERVICE = 'payment-service';
const REQUESTS = 240;
const RATE = 100;
/** How many disagreements a failure message lists. */
const LISTED = 4;
const isUt = (r: MeshForwardResult): boolean => (r.responseFlags ?? '').split(',').includes('UT');

/** The glitches a run with `seed` injects: 6 short ones (4–12 requests), each on one replica, each a run of 503s or connection resets. */
export function retriesSchedule(seed: number, replicas: readonly string[]): FaultSchedule {
  return FaultSchedule.glitches(seed, NAME, { targets: replicas, kinds: ['fail', 'reset'], requests: REQUESTS, count: 6, length: [4, 12], margin: 10 });
}

export const retriesCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    "payment-service with the seed's DestinationRule and VirtualService (attempts 3, perTryTimeout 1s, retryOn 5xx,gateway-error,connect-failure, timeout 3s). While replicas glitch at points drawn from the seed (a few requests of 503s or connection resets from one replica at a time), at least 99% of requests succeed; every request's status, flags and attempt count is what the oracle says the route makes of its attempts; envoy_cluster_upstream_rq_retry counts the retries, the apps received every attempt, and the client sidecar reports no 503.",
  area: 'resilience',
  features: [Feature.Retries, Feature.Metrics],
  manifests: [SEED_DESTINATION_RULE, SEED_VIRTUAL_SERVICE],
  async test(ctx) {
    const env = ctx.env;
    const destination = env.service(SERVICE);
    const route = routeFor(destination.httpRoutes, '/pay/1', env.timeScale);
    const schedule = retriesSchedule(ctx.seed, env.replicas);
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    const replicaWatch = await MetricWatch.start(() => env.mesh.metrics(`prod-namespace/${SERVICE}`), 'payment-service sidecars', watch.samples);
    const during: MeshForwardResult[] = [];
    /** The steady-state probes before and after the glitches: the metric watches see their attempts too. */
    const steady: MeshForwardResult[] = [];
    const steadyProbe = async (): Promise<readonly MeshForwardResult[]> => {
      const results = (await send(env, SERVICE, 40, { ratePerSecond: RATE })).results;
      steady.push(...results);
      return results;
    };
    let appsSaw = 0;
    /** Requests the glitching replicas received while glitching (their apps' own records): each one a failed attempt. */
    let glitchHits = 0;

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(
          `at least 99% of requests to ${SERVICE} succeed while its replicas glitch`,
          [steadyProbe, async () => during, steadyProbe],
          successAtLeast(0.99),
        ),
        faults: [],
        whileInjected: async (journal) => {
          await runSchedule(schedule, {
            fault: (w) => (w.kind === 'reset' ? resettingEndpoint(echoOf(env, w.target)) : failingEndpoint(echoOf(env, w.target))),
            send: async (from, to) => {
              const f = await send(env, SERVICE, to - from, { ratePerSecond: RATE });
              during.push(...f.results);
              appsSaw += Object.values(f.received).reduce((a, b) => a + b, 0);
              const hits = schedule.activeAt(from).reduce((n, w) => n + (f.received[w.target] ?? 0), 0);
              glitchHits += hits;
              if (schedule.activeAt(from).length > 0) journal(`requests ${from}–${to - 1}: ${tally(f.results)}; the glitching replica received ${hits} of them`);
            },
            journal: (phase, text) => journal(text, phase),
          });
          journal(`${during.length} requests at ${RATE}/s: ${tally(during)}; ${during.filter((r) => (attemptsOf(r) ?? 1) > 1).length} needed more than one attempt`);
        },
      },
      [timeScaleLine(env, [['perTryTimeout', 1_000], ['timeout', 3_000]]), schedule.summary()],
      // Before any glitch, requests that fail only by the route timeout (UT) on a machine whose jitter cannot resolve it say nothing about retries.
      () => {
        const failed = steady.filter((r) => r.status !== 200);
        const routeTimeoutMs = scaleMs(3_000, env.timeScale);
        return failed.length > 0 && failed.every(isUt) ? env.timing.tooThin(`the route timeout of ${routeTimeoutMs} ms`, routeTimeoutMs)?.message : undefined;
      },
    );
    await watch.stop();
    await replicaWatch.stop();
    ctx.attach('metrics', watch.samples);

    // Each request: its first n-1 attempts failed (the glitching replica's 503 or reset), the last got what the client saw.
    // Requests the route timeout cut (UT: 60 ms at 0.02, retry back-off included) are left to the steady state: the
    // oracle does not predict back-off.
    const timedOut = during.filter(isUt);
    const compared = during
      .filter((r) => !timedOut.includes(r))
      .map((r) => {
        const n = attemptsOf(r) ?? 1;
        const failed = Array.from({ length: n - 1 }, () => ({ kind: 'response' as const, status: 503 }));
        return { r, ...compareWithRoute(r, { route, attempts: [...failed, { kind: 'response', status: r.status ?? 0 }], slackMs: env.timing.margin() }) };
      });
    const disagree = compared.filter((c) => c.error !== undefined);
    ctx.verify(
      `each request ended as the oracle says the seed's route ends it (${route?.retries?.attempts ?? 'default'} retries on ${route?.retries?.retryOn ?? 'the default'}): ${compared.length} compared${timedOut.length > 0 ? `, ${timedOut.length} cut by the route timeout left to the steady state` : ''}`,
      disagree.length === 0 ? undefined : new Error(`${disagree.length} disagree: ${disagree.slice(0, LISTED).map((c) => `request ${c.r.index}: ${c.error!.message}`).join('; ')}`),
    );
    if (glitchHits === 0) throw new MeshproofError(ErrorCode.Internal, `no request reached a glitching replica during its glitch (${schedule.summary()}): the case shows nothing about retries`);
    const retried = during.filter((r) => (attemptsOf(r) ?? 1) > 1);
    const retries = watch.increase({ name: 'envoy_cluster_upstream_rq_retry', labels: { cluster_name: await env.clusterOf(SERVICE) } });
    ctx.verify(
      `the glitches were felt and retried: the glitching replicas received ${glitchHits} requests while glitching (their apps' records), and the client sidecar retried at least as often (upstream_rq_retry grew by ${retries}; ${retried.length} requests report more than one attempt)`,
      retries >= glitchHits ? undefined : new Error(`the glitching replicas failed ${glitchHits} attempts, but upstream_rq_retry grew by only ${retries}`),
    );
    const attempts = during.reduce((n, r) => n + (attemptsOf(r) ?? 1), 0);
    ctx.verify(`the apps received every attempt: ${attempts} for ${during.length} requests`, appsSaw === attempts ? undefined : new Error(`the apps received ${appsSaw} requests, the attempt counts add up to ${attempts}`));
    const cluster = await env.clusterOf(SERVICE);
    // The counters grew over the whole watch, steady-state probes included: a probe may be retried too
    // (a per-try timeout of 20 ms at 0.02 on a loaded machine), so they count on both sides.
    const watched = [...steady, ...during];
    const watchedAttempts = watched.reduce((n, r) => n + (attemptsOf(r) ?? 1), 0);
    // Envoy counts a retry when it schedules it, before its back-off (RetryStateImpl::shouldRetry): a
    // request the route timeout ends in back-off has one retry counted and never sent. Those are
    // the UT requests with no try in flight at the timeout, i.e. the UT requests upstream_rq_timeout
    // (a try cut in flight) does not count.
    const ut = watched.filter(isUt).length;
    const cutInFlight = watch.increase({ name: 'envoy_cluster_upstream_rq_timeout', labels: { cluster_name: cluster } });
    const cutInBackoff = Math.max(0, ut - cutInFlight);
    watch.check(
      ctx,
      { name: 'envoy_cluster_upstream_rq_retry', labels: { cluster_name: cluster } },
      watchedAttempts - watched.length + cutInBackoff,
      `upstream_rq_retry counts one retry per extra attempt, and one scheduled but never sent for each request the route timeout ended in its back-off (${watched.length} requests, ${steady.length} of them steady-state probes; ${ut} UT, ${cutInFlight} of them cut in flight by upstream_rq_timeout, ${cutInBackoff} in back-off)`,
    );
    const clientFailed = watched.filter((r) => r.status === 503).length;
    watch.check(ctx, { name: 'istio_requests_total', labels: { reporter: 'source', destination_service: destination.host, response_code: '503' } }, clientFailed, `the client sidecar reports the ${clientFailed} 503s the client saw, not the replicas' 503s it retried`);
    // Every failed attempt was a replica's 503 (its own, or its sidecar's for a reset app) or a per-try timeout of a slow answer.
    const failedAttempts = watchedAttempts - watched.filter((r) => r.status === 200).length;
    const cut = watched.filter(isUt).length + watch.increase({ name: 'envoy_cluster_upstream_rq_per_try_timeout', labels: { cluster_name: cluster } });
    replicaWatch.check(ctx, { name: 'istio_requests_total', labels: { reporter: 'destination', response_code: '503' } }, [Math.max(0, failedAttempts - cut), failedAttempts], `the replicas' sidecars report a 503 for each of the ${failedAttempts} failed attempts (but the ${cut} cut by a timeout, answered late instead)`);
    verifySteadyState(ctx, outcome);
  },
};
