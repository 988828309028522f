/**
 * A 4xx is the caller's problem, not a glitch: the seed's VirtualService retries on
 * `5xx,gateway-error,connect-failure` only (payment-4xx has its retries without the timers, so that
 * a busy machine cannot turn a slow 4xx into a per-try timeout), so a 409, 429, 404 or 403 from a replica goes back to
 * the client at once. Every replica answers its own 4xx (409 is what `retriable-4xx` would retry,
 * 429 and 404 what a proxy retrying "rate limited" or any 4xx would): the client gets the code of
 * the replica whose app says it received the request, the apps received each request exactly once
 * (their own records, by the index header the forwarder numbers requests with), each request is
 * what the oracle says the route makes of one 4xx attempt, and upstream_rq_retry does not grow.
 */
import { Feature, failingEndpoint, receiptsOf, type ConformanceCase, type MeshForwardEvidence } from '../../../harness/index.ts';
import { phasedHypothesis, send, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { compareWithRoute, routeFor } from '../route-oracle.ts';
import { VS_VARIATIONS, caseExperiment, echoOf, verifySteadyState } from './common.ts';

const NAME = 'no-retry-on-4xx';
/** The seed's retries (attempts 3, retryOn 5xx,gateway-error,connect-failure) with no timers (fixtures/resilience/virtual-services.yaml). */
const SERVICE = 'payment-4xx';
/** What each replica answers, in replica order: 409 (retriable-4xx's only code), 429, 404, 403. */
export const CLIENT_ERRORS: readonly number[] = [409, 429, 404, 403];
const REQUESTS = 40;
const RATE = 50;
const LISTED = 4;

/** Requests whose apps' records do not show exactly one attempt: `request 3 reached the apps 4 times (payment-service-1, …)`. */
export function notOnce(forward: Pick<MeshForwardEvidence, 'results' | 'receipts'>): string[] {
  return forward.results.flatMap((r) => {
    const pods = receiptsOf(forward, r.index);
    return pods.length === 1 ? [] : [`request ${r.index} reached the apps ${pods.length} time${pods.length === 1 ? '' : 's'}${pods.length === 0 ? '' : ` (${pods.join(', ')})`}`];
  });
}

export const noRetryOn4xxCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    "payment-4xx with the seed's VirtualService retries (attempts 3, retryOn 5xx,gateway-error,connect-failure) and no timeout or perTryTimeout. Each replica answers a client error of its own (409, 429, 404, 403): none is retriable under that retryOn (retriable-4xx would retry 409, retriable-status-codes a listed code), so the client gets the code of the replica whose app received the request, each app's records show every request exactly once, every request is what the oracle says the route makes of one 4xx attempt, and envoy_cluster_upstream_rq_retry does not grow.",
  area: 'resilience',
  features: [Feature.Retries, Feature.Metrics],
  manifests: [VS_VARIATIONS],
  async test(ctx) {
    const env = ctx.env;
    const route = routeFor(env.service(SERVICE).httpRoutes, '/pay/1', env.timeScale);
    const codeOf = new Map(env.replicas.map((pod, i) => [pod, CLIENT_ERRORS[i % CLIENT_ERRORS.length]!]));
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    let during: MeshForwardEvidence | undefined;
    /** The steady-state batches before and after: the watch sees their attempts too. */
    const steady: MeshForwardEvidence[] = [];
    const batch = async (): Promise<MeshForwardEvidence> => {
      const f = await send(env, SERVICE, 20, { ratePerSecond: RATE });
      steady.push(f);
      return f;
    };

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(`each request to ${SERVICE} reaches one app exactly once (the apps' records)`, [batch, async () => during!, batch], (f) => {
          const off = notOnce(f);
          return { holds: f.results.length > 0 && off.length === 0, detail: `${f.results.length} requests (${tally(f.results)}), ${f.receipts.length} received by the apps${off.length === 0 ? '' : `; ${off.slice(0, LISTED).join('; ')}`}` };
        }),
        faults: env.replicas.map((pod) => failingEndpoint(echoOf(env, pod), codeOf.get(pod)!)),
        whileInjected: async (journal) => {
          during = await send(env, SERVICE, REQUESTS, { ratePerSecond: RATE });
          journal(`${REQUESTS} requests at ${RATE}/s: ${tally(during.results)}; the apps received ${during.receipts.length}`);
        },
      },
      [`the replicas answer ${env.replicas.map((pod) => `${pod} ${codeOf.get(pod)}`).join(', ')}; ${SERVICE}'s route retries on ${route?.retries?.retryOn ?? "Istio's default"}`],
    );
    await watch.stop();
    ctx.attach('metrics', watch.samples);
    const forward = during!;

    // Each request: the replica its app's record names, and the code that replica answers.
    const problems = forward.results.flatMap((r) => {
      const pods = receiptsOf(forward, r.index);
      const first = pods[0];
      if (first === undefined) return [`request ${r.index}: ${r.status ?? r.outcome}, but no app received it`];
      const code = codeOf.get(first)!;
      const error = compareWithRoute(r, { route, attempts: [{ kind: 'response', status: code }], slackMs: 5 }).error;
      return error === undefined ? [] : [`request ${r.index} to ${first} (answers ${code}): ${error.message}`];
    });
    ctx.verify(
      `each request ended as the oracle says one 4xx attempt ends on ${SERVICE}'s route: the code of the replica whose app received it, 1 attempt, no retry flag`,
      problems.length === 0 ? undefined : new Error(`${problems.length} of ${forward.results.length} disagree: ${problems.slice(0, LISTED).join('; ')}`),
    );
    const repeated = notOnce(forward);
    ctx.verify(
      `the apps received each of the ${forward.results.length} requests exactly once (their records, by request index): no 4xx was retried`,
      forward.results.length === 0 ? new Error('no request was sent') : repeated.length === 0 ? undefined : new Error(`${repeated.length} of ${forward.results.length} requests were not received exactly once: ${repeated.slice(0, LISTED).join('; ')}; a 4xx is retried only when retryOn says so (retriable-4xx: 409; retriable-status-codes: the listed codes), and ${route?.retries?.retryOn ?? 'the default'} does not`),
    );
    const answered = new Set(forward.results.map((r) => r.status));
    ctx.verify(`every replica's client error reached the client (${[...codeOf.values()].join(', ')})`, [...codeOf.values()].every((c) => answered.has(c)) ? undefined : new Error(`the client saw ${tally(forward.results)}`));
    // The steady-state batches answered 200 and count only what they were retried.
    const steadyRetries = steady.reduce((n, f) => n + f.results.reduce((m, r) => m + Math.max(0, receiptsOf(f, r.index).length - 1), 0), 0);
    watch.check(ctx, { name: 'envoy_cluster_upstream_rq_retry', labels: { cluster_name: await env.clusterOf(SERVICE) } }, steadyRetries, `upstream_rq_retry of ${SERVICE} grew by no retry of a 4xx (only the ${steadyRetries} of the steady-state batches, by the apps' records)`);
    verifySteadyState(ctx, outcome);
  },
};
