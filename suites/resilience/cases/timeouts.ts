/**
 * A hung call is cut off. One replica (drawn from the seed) answers far later than any timeout:
 * - through the seed's VirtualService (perTryTimeout 1s, 3 retries on 5xx): each try that reaches
 *   it ends at the per-try timeout and is retried on another replica, so the client gets 200;
 * - through payment-timeout (the seed's timeout 3s, no retries): the request ends at the route
 *   timeout with 504 UT `upstream request timeout`;
 * - when every replica is that slow, the seed's route timeout ends the request across its retries,
 *   504 UT.
 * Each request is compared with what the oracle says the route makes of the tries the apps say they
 * received (their own records, by request index: never inferred from the status the client got),
 * and must end no earlier than its timer and no later than the timer plus the margin
 * (measured from the machine's jitter, at least TIMER_MARGIN_FLOOR_MS), so a route timeout that is missing, doubled or a per-try timeout that is missing
 * fails every request that shows it. The metrics count the per-try and route timeouts.
 */
import { scaleMs, Feature, FaultSchedule, durationMs, receiptsOf, slowEndpoint, withFaults, type ConformanceCase, type HttpRoute, type MeshForwardEvidence, type MeshForwardResult } from '../../../harness/index.ts';
import { phasedHypothesis, send, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { compareWithRoute, routeFor } from '../route-oracle.ts';
import { describeMargin } from '../case-timing.ts';
import { SEED_VIRTUAL_SERVICE, VS_VARIATIONS, caseExperiment, echoOf, timeScaleLine, verifySteadyState } from './common.ts';

const NAME = 'per-try-and-route-timeouts-504-ut';
const SEED = 'payment-service';
const TIMEOUT_ONLY = 'payment-timeout';
/** How late a slow replica answers: far beyond the route timeout, at least 500 ms. */
const slowMs = (routeTimeoutMs: number): number => Math.max(500, 4 * routeTimeoutMs);
const RATE = 50;
/**
 * The least margin a timed request gets past its timer, whatever the jitter (the local reply and
 * the scheduling of two sidecars, durations being the client sidecar's own). The margin itself is
 * the measured one (env.timing: 2 × the worst recent p99 timer lateness, at least this), and it
 * must be under half the route timeout, or a doubled timeout could not be told from a late answer:
 * then the case is an infrastructure error (MESHPROOF_ERR_TIMING_MARGIN), not a verdict.
 */
export const TIMER_MARGIN_FLOOR_MS = 25;
/**
 * The millisecond clocks of the forwarder and the sidecar's log: env.timing.early adds the kernel's
 * coarse clock tick (Envoy's timers keep that time: 57 ms for a 60 ms route timeout on an idle
 * machine) and the longest measured lateness (a busy 2-core runner saw 297 ms for 300 ms).
 */
const EARLY_FLOOR_MS = 2;
/** Envoy's retry back-off when the route sets none: retry n waits up to base × (2^n − 1) (JitteredExponentialBackOffStrategy). */
const BACKOFF_BASE_MS = 25;
const LISTED = 4;

const isUt = (r: MeshForwardResult): boolean => (r.responseFlags ?? '').split(',').includes('UT');

/** What a timed request is expected to be: its status, and the window it must end in. */
export interface TimedExpectation {
  readonly status: number;
  readonly flags: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** Why, for the message: `the route timeout is 60 ms`. */
  readonly because: string;
}

/** undefined when request `r` (received by `pods`, the apps' records) ended as expected and in its window; else a message that says which way it went wrong. */
export function judgeTimed(r: MeshForwardResult, service: string, pods: readonly string[], expected: TimedExpectation): string | undefined {
  const flags = r.responseFlags ?? '-';
  const inWindow = r.durationMs >= expected.fromMs && r.durationMs <= expected.toMs;
  const sorted = (f: string): string => f.split(',').sort().join(',');
  const statusRight = r.status === expected.status && (r.responseFlags === undefined || sorted(flags) === sorted(expected.flags));
  if (inWindow && statusRight) return undefined;
  const got = `${r.status ?? r.outcome}${flags === '-' ? '' : ` ${flags}`}`;
  const want = `${expected.status}${expected.flags === '-' ? '' : ` ${expected.flags}`}`;
  const where = pods.length === 0 ? `${service} (no app received it)` : pods.join(' then ');
  const late = r.durationMs > expected.toMs ? ' (late)' : r.durationMs < expected.fromMs ? ' (early)' : '';
  return `request ${r.index} to ${where} took ${r.durationMs} ms${late} and got ${got}, ${expected.because}: expected ${want} at ${expected.fromMs}–${expected.toMs} ms`;
}

/** Most tries a request can start before the route timeout when every try is cut at the per-try timeout: a try starts only after the ones before it ended. */
export function mostTries(routeTimeoutMs: number, perTryMs: number, numRetries: number): number {
  return Math.min(1 + numRetries, Math.ceil(routeTimeoutMs / perTryMs));
}

/** The longest retry back-off before the n-th retry, and all of the first n together. */
const backoffUpToMs = (retries: number): number => Array.from({ length: retries }, (_, i) => BACKOFF_BASE_MS * (2 ** (i + 1) - 1)).reduce((a, b) => a + b, 0);

const perTryOf = (route: HttpRoute | undefined): number => (route?.retries?.perTryTimeout === undefined ? 0 : durationMs(route.retries.perTryTimeout));

export const timeoutsCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    "One replica answers far beyond the route timeout (500 ms at the default time scale). Through the seed's VirtualService (perTryTimeout 1s, attempts 3 on 5xx) each try that reaches it is cut at the per-try timeout and retried elsewhere, so the client gets 200; through payment-timeout (timeout 3s, no retries) those requests end at the route timeout with 504 UT `upstream request timeout`; with every replica that slow, the seed's route timeout ends requests across their retries with 504 UT. Each request's expectation comes from the oracle and the replicas whose apps say they received it (their records, by request index), never from the status it got, and its duration is bounded below by its timer and above by the timer plus a stated margin, so a timeout that is missing, doubled or cut short fails the request that shows it. upstream_rq_per_try_timeout, upstream_rq_timeout (for a timeout that cuts a try in flight, as Envoy counts it) and istio_requests_total{response_code=\"504\",response_flags=\"UT\"} count them.",
  area: 'resilience',
  features: [Feature.Timeouts, Feature.Retries, Feature.Metrics],
  manifests: [SEED_VIRTUAL_SERVICE, VS_VARIATIONS],
  async test(ctx) {
    const env = ctx.env;
    const seedRoute = routeFor(env.service(SEED).httpRoutes, '/pay/1', env.timeScale);
    const timeoutRoute = routeFor(env.service(TIMEOUT_ONLY).httpRoutes, '/pay/1', env.timeScale);
    const routeTimeoutMs = scaleMs(3_000, env.timeScale);
    const perTryMs = perTryOf(seedRoute);
    // The measured margin, once it can tell a route timeout from a doubled one (else MESHPROOF_ERR_TIMING_MARGIN: the machine's problem, not the data plane's).
    const margin = env.timing.judgeable(`a route timeout of ${routeTimeoutMs} ms from a doubled one`, routeTimeoutMs, TIMER_MARGIN_FLOOR_MS);
    // Under a quarter of the route timeout (else MESHPROOF_ERR_TIMING_MARGIN), so a halved timeout still fails.
    const earlyMs = env.timing.early(`a route timeout of ${routeTimeoutMs} ms from a shortened one`, routeTimeoutMs, EARLY_FLOOR_MS);
    const slowAnswerMs = slowMs(routeTimeoutMs);
    const [slow] = FaultSchedule.pick(ctx.seed, NAME, env.replicas, 1) as [string];
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    let perTry: MeshForwardEvidence | undefined;
    let routeOnly: MeshForwardEvidence | undefined;
    let allSlow: MeshForwardEvidence | undefined;
    /** Route timeouts of payment-timeout as the client sidecar logged them: a 504 UT, or a reset when the answer had started. */
    let routeOnlyLoggedUt = 0;
    const resultsOf = (f: MeshForwardEvidence | undefined): readonly MeshForwardResult[] => f?.results ?? [];

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(
          `no request to ${SEED} or ${TIMEOUT_ONLY} waits longer than its route timeout (3s × ${env.timeScale} = ${routeTimeoutMs} ms) plus ${margin} ms, whatever a replica does`,
          [async () => (await send(env, SEED, 40, { ratePerSecond: RATE })).results, async () => [...resultsOf(perTry), ...resultsOf(routeOnly), ...resultsOf(allSlow)], async () => (await send(env, SEED, 40, { ratePerSecond: RATE })).results],
          (results) => {
            const longest = Math.max(0, ...results.map((r) => r.durationMs));
            return { holds: results.length > 0 && longest <= routeTimeoutMs + margin, detail: `the longest of ${results.length} requests took ${longest} ms: ${tally(results)}` };
          },
        ),
        faults: [slowEndpoint(echoOf(env, slow), slowAnswerMs)],
        whileInjected: async (journal) => {
          perTry = await send(env, SEED, 60, { ratePerSecond: RATE });
          journal(`${SEED}: ${tally(perTry.results)}; the slow replica's app received ${receivedBy(perTry, slow)} of them`);
          routeOnly = await send(env, TIMEOUT_ONLY, 40, { ratePerSecond: RATE });
          routeOnlyLoggedUt = routeOnly.accessLog.filter((e) => e.responseFlags.split(',').includes('UT')).length;
          journal(`${TIMEOUT_ONLY}: ${tally(routeOnly.results)}; the slow replica's app received ${receivedBy(routeOnly, slow)} of them`);
          const others = env.replicas.filter((r) => r !== slow).map((pod) => slowEndpoint(echoOf(env, pod), slowAnswerMs));
          journal(`every replica answers ${slowAnswerMs} ms late`, 'inject');
          allSlow = await withFaults(others, async () => send(env, SEED, 20, { ratePerSecond: RATE }));
          journal(`only ${slow} is slow again`, 'rollback');
          journal(`${SEED}, every replica slow: ${tally(allSlow.results)}; the apps received ${allSlow.receipts.length} tries`);
        },
      },
      [timeScaleLine(env, [['perTryTimeout', 1_000], ['timeout', 3_000]]), `seed ${ctx.seed} picks the slow replica: ${slow} (answers ${slowAnswerMs} ms late); ${describeMargin(env.timing, margin)}; a timed request may end up to ${earlyMs} ms before its timer (Envoy's timers keep the kernel's coarse time: tick ${env.coarseTick.tickMs} ms, ${env.coarseTick.detail})`],
    );
    await watch.stop();
    ctx.attach('metrics', watch.samples);

    const slowTry = { kind: 'response' as const, status: 200, latencyMs: slowAnswerMs };
    const fast = { kind: 'response' as const, status: 200, latencyMs: 0 };
    const disagreements = (what: string, forward: MeshForwardEvidence | undefined, judgeOne: (r: MeshForwardResult, pods: readonly string[]) => string | undefined): void => {
      const results = resultsOf(forward);
      const off = results.map((r) => judgeOne(r, receiptsOf(forward!, r.index))).filter((m): m is string => m !== undefined);
      ctx.verify(what, results.length === 0 ? new Error('no request was sent') : off.length === 0 ? undefined : new Error(`${off.length} of ${results.length} disagree: ${off.slice(0, LISTED).join('; ')}`));
    };

    // Every request may take until the route timeout, never longer: a retried one (its back-off is random), and one no timer
    // cut (a try waits for its connection before its per-try timer starts, as in Envoy, and a busy machine stalls a sidecar).
    // Per-try: a try the slow replica's app received is cut at the per-try timeout, and so is any try
    // of a fast replica but the one that answered (late on a busy machine); the retry goes to another replica (the
    // previous-hosts predicate), and a fast one answers. The tries are the apps' records, not the status.
    disagreements(`${SEED}: each request is what the oracle says of the tries the apps received (per-try timeout ${perTryMs} ms, then a retry elsewhere), and ends within its timers plus ${margin} ms`, perTry, (r, pods) => {
      // The apps' records do not say in which order the replicas got the tries: one a fast replica got answered, all others were cut.
      const cut = pods.length - (pods.some((p) => p !== slow) ? 1 : 0);
      const oracle = compareWithRoute(r, { route: seedRoute, attempts: [...Array.from({ length: cut }, () => slowTry), fast], slackMs: earlyMs });
      const expected = { status: oracle.outcome.status, flags: oracle.outcome.flags.join(',') || '-', fromMs: oracle.outcome.elapsedMs - earlyMs, toMs: Math.max(routeTimeoutMs, oracle.outcome.elapsedMs + backoffUpToMs(cut)) + margin, because: cut === 0 ? 'a fast replica answered it' : `${cut} tr${cut === 1 ? 'y was' : 'ies were'} cut (${[...pods].sort((a, b) => Number(b === slow) - Number(a === slow)).slice(0, cut).join(', ')}) and the per-try timeout is ${perTryMs} ms` };
      return judgeTimed(r, SEED, pods, expected) ?? (oracle.error === undefined ? undefined : `request ${r.index} to ${pods.join(' then ')}: ${oracle.error.message}`);
    });
    const cutTries = resultsOf(perTry).reduce((sum, r) => sum + receiptsOf(perTry!, r.index).filter((p) => p === slow).length, 0);
    ctx.verify(`${SEED}: the slow replica was reached and cut off (${cutTries} tries, its app's records), and every request still got 200`, cutTries > 0 && resultsOf(perTry).every((r) => r.status === 200) ? undefined : new Error(`${tally(resultsOf(perTry))}; ${cutTries} tries reached ${slow}`));

    // Route timeout alone: the replica whose app received the request says what it must be.
    disagreements(`${TIMEOUT_ONLY}: each request is what the oracle says of the replica whose app received it (route timeout ${routeTimeoutMs} ms, no retry): 504 UT at ${routeTimeoutMs}–${routeTimeoutMs + margin} ms for ${slow}'s, 200 before the route timeout for the others'`, routeOnly, (r, pods) => {
      const served = pods[0];
      const attempt = served === slow ? slowTry : fast;
      const oracle = compareWithRoute(r, { route: timeoutRoute, attempts: [attempt], slackMs: earlyMs });
      const expected = { status: oracle.outcome.status, flags: oracle.outcome.flags.join(',') || '-', fromMs: served === slow ? routeTimeoutMs - earlyMs : 0, toMs: routeTimeoutMs + margin, because: served === slow ? `the route timeout is ${routeTimeoutMs} ms` : 'a fast replica answered it' };
      if (served === undefined) return `request ${r.index}: ${r.status ?? r.outcome} after ${r.durationMs} ms, but no app received it`;
      if (pods.length > 1) return `request ${r.index} reached the apps ${pods.length} times (${pods.join(', ')}), but ${TIMEOUT_ONLY} has no retries`;
      return judgeTimed(r, TIMEOUT_ONLY, pods, expected) ?? (oracle.error === undefined ? undefined : `request ${r.index} to ${served}: ${oracle.error.message}`);
    });
    const routeTimedOut = resultsOf(routeOnly).filter((r) => receiptsOf(routeOnly!, r.index)[0] === slow);
    ctx.verify(`${TIMEOUT_ONLY}: the slow replica's app received some requests (${routeTimedOut.length}), so the route timeout was put to the test`, routeTimedOut.length > 0 ? undefined : new Error(`${tally(resultsOf(routeOnly))}: the slow replica got none`));

    // Every replica slow: the route timeout ends each request, across its retries; a try starts only after the one before it was cut.
    const tries = mostTries(routeTimeoutMs, perTryMs, seedRoute?.retries?.attempts ?? 0);
    disagreements(`${SEED}, every replica slow: each request ends at the route timeout across its retries, 504 UT at ${routeTimeoutMs}–${routeTimeoutMs + margin} ms, after at most ${tries} tries of ${perTryMs} ms (the apps' records)`, allSlow, (r, pods) => {
      const oracle = compareWithRoute(r, { route: seedRoute, attempts: [slowTry], slackMs: earlyMs, compareAttempts: false });
      const timed = judgeTimed(r, SEED, pods, { status: oracle.outcome.status, flags: oracle.outcome.flags.join(',') || '-', fromMs: routeTimeoutMs - earlyMs, toMs: routeTimeoutMs + margin, because: `the route timeout is ${routeTimeoutMs} ms` });
      if (timed !== undefined) return timed;
      if (pods.length > tries) return `request ${r.index} reached the apps ${pods.length} times (${pods.join(', ')}), but within the ${routeTimeoutMs} ms route timeout at most ${tries} tries of ${perTryMs} ms fit`;
      return oracle.error === undefined ? undefined : `request ${r.index}: ${oracle.error.message}`;
    });

    const seedCluster = { cluster_name: await env.clusterOf(SEED) };
    const timeoutCluster = { cluster_name: await env.clusterOf(TIMEOUT_ONLY) };
    // Every try of an all-slow request but the one the route timeout cut was a per-try timeout.
    const allSlowTries = allSlow?.receipts.length ?? 0;
    const allSlowCount = resultsOf(allSlow).length;
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_per_try_timeout', labels: seedCluster }, [cutTries + allSlowTries - allSlowCount, cutTries + allSlowTries], 'upstream_rq_per_try_timeout counts the tries cut by the per-try timeout');
    // Envoy counts a route timeout only when it cuts a try still awaiting headers; one that ends a
    // request in its retry back-off is not counted (Router::onResponseTimeout), so some of these are not.
    const seedUt = resultsOf(allSlow).filter(isUt).length;
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_timeout', labels: seedCluster }, [Math.min(1, seedUt), seedUt], `upstream_rq_timeout of ${SEED} counts the route timeouts that cut a try in flight (at most the ${seedUt} UT answers)`);
    // Envoy counts every route timeout that cuts a try in flight, even one whose answer had started (the client then sees a reset, not a 504): its UT log lines.
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_timeout', labels: timeoutCluster }, Math.max(routeTimedOut.length, routeOnlyLoggedUt), `upstream_rq_timeout of ${TIMEOUT_ONLY} counts its route timeouts (${routeTimedOut.length} 504 UT, ${routeOnlyLoggedUt} UT in the client sidecar's log)`);
    watch.check(ctx, { name: 'istio_requests_total', labels: { reporter: 'source', destination_service: env.service(TIMEOUT_ONLY).host, response_code: '504', response_flags: 'UT' } }, routeTimedOut.length, 'istio_requests_total counts them as 504 UT');
    verifySteadyState(ctx, outcome);
  },
};

/** How many of a forward's requests the app of `pod` received. */
function receivedBy(forward: MeshForwardEvidence, pod: string): number {
  return forward.receipts.filter((r) => r.pod === pod).length;
}
