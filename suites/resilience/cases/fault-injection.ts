/**
 * Fault injection the Istio way: a VirtualService with `fault` is applied to the running mesh and
 * removed afterwards (fixtures/resilience/fault-injection.yaml). /delay holds 50% of requests for
 * fixedDelay 5s before the router, so its route timeout (3s) does not count the delay; /abort
 * answers 40% with 503 `fault filter abort` before the router, so its retries never see them. The
 * sidecar draws which requests from the run seed. Every request is compared with the oracle, the
 * shares with the percentages, and the metrics with the traffic.
 */
import { scaleMs, Feature, type ConformanceCase, type Fault, type HttpRoute, type MeshForwardEvidence, type MeshForwardResult } from '../../../harness/index.ts';
import { phasedHypothesis, send, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { compareWithRoute, routeFor } from '../route-oracle.ts';
import { FAULT_INJECTION, caseExperiment, timeScaleLine, verifySteadyState } from './common.ts';

const NAME = 'fault-injection-delay-and-abort';
const SERVICE = 'payment-fault';
const EACH = 50;
const LISTED = 4;

const flagged = (r: MeshForwardResult, flag: string): boolean => (r.responseFlags ?? '').split(',').includes(flag);

/** Whether `count` of `n` draws fits a probability `percent` (within 4 standard deviations, and neither none nor all). */
export function fitsPercentage(count: number, n: number, percent: number): boolean {
  const p = percent / 100;
  const spread = 4 * Math.sqrt(n * p * (1 - p));
  return count >= Math.max(1, n * p - spread) && count <= Math.min(n - 1, n * p + spread);
}

export const faultInjectionCase: ConformanceCase<ResilienceEnv> = {
  shortName: NAME,
  description:
    'A VirtualService applied to the running mesh injects faults into payment-fault: /delay holds 50% of requests for fixedDelay 5s (flag DI), which its route timeout 3s does not count, so they still get 200; /abort answers 40% with 503 `fault filter abort` (flag FI) that never reach an app and are not retried despite the seed\'s retries. Each request is what the oracle says, the shares fit the percentages, envoy_http_fault_delays_injected, envoy_http_fault_aborts_injected and istio_requests_total{response_flags="FI"} count them, and once the VirtualService is removed every request succeeds again.',
  area: 'resilience',
  features: [Feature.FaultInjection, Feature.Timeouts, Feature.Retries, Feature.Metrics],
  manifests: [`../../fixtures/${FAULT_INJECTION}`],
  async test(ctx) {
    const env = ctx.env;
    const routeTimeoutMs = scaleMs(3_000, env.timeScale);
    const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
    let routes: readonly HttpRoute[] = [];
    let delayed: MeshForwardEvidence | undefined;
    let aborted: MeshForwardEvidence | undefined;
    const both = async (count: number): Promise<MeshForwardResult[]> => [...(await send(env, SERVICE, count, { path: '/delay/1' })).results, ...(await send(env, SERVICE, count, { path: '/abort/1' })).results];
    const applied: Fault = {
      description: `VirtualService prod-namespace/payment-fault (fixtures/${FAULT_INJECTION}) applied to the running sidecars`,
      target: CLIENT,
      inject: async () => {
        const mesh = await env.use([FAULT_INJECTION]);
        routes = mesh.destinations.find((d) => d.name === SERVICE)?.httpRoutes ?? [];
      },
      revert: async () => void (await env.use([])),
    };

    const outcome = await caseExperiment(
      ctx,
      {
        name: NAME,
        hypothesis: phasedHypothesis(
          `at least 99% of requests to ${SERVICE} succeed within its route timeout (3s × ${env.timeScale} = ${routeTimeoutMs} ms); the injected faults must break this, and removing them restore it`,
          [() => both(20), async () => [...(delayed?.results ?? []), ...(aborted?.results ?? [])], () => both(20)],
          (results) => {
            const fine = results.filter((r) => r.status === 200 && r.durationMs <= routeTimeoutMs).length;
            return { holds: results.length > 0 && fine / results.length >= 0.99, detail: `${fine} of ${results.length} succeeded within ${routeTimeoutMs} ms: ${tally(results)}` };
          },
        ),
        faults: [applied],
        expectDuring: false,
        whileInjected: async (journal) => {
          delayed = await send(env, SERVICE, EACH, { path: '/delay/1' });
          journal(`/delay ×${EACH}: ${tally(delayed.results)}`);
          aborted = await send(env, SERVICE, EACH, { path: '/abort/1' });
          journal(`/abort ×${EACH}: ${tally(aborted.results)}`);
        },
      },
      [timeScaleLine(env, [['fixedDelay', 5_000], ['timeout', 3_000], ['perTryTimeout', 1_000]]), `the client sidecar draws which requests get a fault from the run seed ${ctx.seed}`],
    );
    await watch.stop();
    ctx.attach('metrics', watch.samples);

    const delayRoute = routeFor(routes, '/delay/1', env.timeScale);
    const abortRoute = routeFor(routes, '/abort/1', env.timeScale);
    // Delayed and undelayed requests differ by the fixedDelay: the measured margin must resolve it, or the case is an infrastructure error.
    const slackMs = env.timing.judgeable(`the fault's fixedDelay of ${scaleMs(5_000, env.timeScale)} ms`, scaleMs(5_000, env.timeScale));
    const compare = (what: string, results: readonly MeshForwardResult[], route: HttpRoute | undefined, flag: string): void => {
      // A request the sidecar flagged got the fault (a roll under the percentage); the others did not.
      const off = results
        .map((r) => ({ r, error: compareWithRoute(r, { route, attempts: [{ kind: 'response', status: 200 }], faultRoll: flagged(r, flag) ? 0 : 99.9999, slackMs }).error }))
        .filter((x) => x.error !== undefined);
      ctx.verify(what, results.length === 0 ? new Error('no request was sent') : off.length === 0 ? undefined : new Error(`${off.length} of ${results.length} disagree: ${off.slice(0, LISTED).map((x) => `request ${x.r.index}: ${x.error!.message}`).join('; ')}`));
    };
    const delays = delayed?.results ?? [];
    const aborts = aborted?.results ?? [];
    compare(`/delay: each request is what the oracle says: delayed ones (DI) take the fixedDelay ${scaleMs(5_000, env.timeScale)} ms and still get 200, as the route timeout does not count the delay`, delays, delayRoute, 'DI');
    compare("/abort: each request is what the oracle says: aborted ones (FI) get the sidecar's 503 'fault filter abort' with no upstream attempt and no retry", aborts, abortRoute, 'FI');
    const di = delays.filter((r) => flagged(r, 'DI')).length;
    const fi = aborts.filter((r) => flagged(r, 'FI')).length;
    ctx.verify(`the delay hit ${di} of ${delays.length} requests, a share that fits 50%`, fitsPercentage(di, delays.length, 50) ? undefined : new Error(`${di} of ${delays.length} delayed does not fit 50%`));
    ctx.verify(`the abort hit ${fi} of ${aborts.length} requests, a share that fits 40%`, fitsPercentage(fi, aborts.length, 40) ? undefined : new Error(`${fi} of ${aborts.length} aborted does not fit 40%`));
    const appsSaw = (f: MeshForwardEvidence | undefined): number => Object.values(f?.received ?? {}).reduce((a, b) => a + b, 0);
    ctx.verify(`the apps received the ${aborts.length - fi} requests that were not aborted, once each, and all ${delays.length} delayed or not`, appsSaw(aborted) === aborts.length - fi && appsSaw(delayed) === delays.length ? undefined : new Error(`the apps received ${appsSaw(aborted)} of /abort and ${appsSaw(delayed)} of /delay`));
    watch.check(ctx, { name: 'envoy_http_fault_delays_injected', labels: {} }, di, 'envoy_http_fault_delays_injected counts the delayed requests');
    watch.check(ctx, { name: 'envoy_http_fault_aborts_injected', labels: {} }, fi, 'envoy_http_fault_aborts_injected counts the aborted requests');
    watch.check(ctx, { name: 'istio_requests_total', labels: { reporter: 'source', destination_service: env.service(SERVICE).host, response_code: '503', response_flags: 'FI' } }, fi, 'istio_requests_total counts the aborts as 503 FI');
    verifySteadyState(ctx, outcome);
  },
};
