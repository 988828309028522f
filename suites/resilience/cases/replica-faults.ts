/**
 * Real outages, not the app's own answers: one replica (drawn from the seed) crashes (its app is
 * killed, its sidecar stays), hangs (its app takes requests and never answers), freezes (the whole
 * pod is paused) or is partitioned (its interface goes down; its address and name stay, as an
 * unreachable pod stays in Istio's registry until its readiness fails), under steady traffic to a
 * service with the seed's DestinationRule and VirtualService. The oracle (replicaFaultReading) says
 * what the client sidecar makes of it: which attempts are retried, what a request that meets the
 * replica ends in, and which attempts outlier detection counts. Live traffic, /clusters and the
 * client sidecar's counters are held to it; then the fault is rolled back and the replica must
 * serve again.
 */
import {
  scaleMs,
  Feature,
  FaultSchedule,
  MESH_DEFAULT_CONNECT_TIMEOUT_MS,
  allowedOutcomes,
  durationMs,
  hungEndpoint,
  maxEjectedHosts,
  outcomeKey,
  replicaFaultReading,
  type ConformanceCase,
  type Fault,
  type MeshForwardResult,
  type ReplicaFault,
} from '../../../harness/index.ts';
import { TrafficRecorder, phasedHypothesis, tally } from '../live-traffic.ts';
import { MetricWatch } from '../metric-watch.ts';
import { CLIENT, type ResilienceEnv } from '../resilience-env.ts';
import { attemptsOf, routeFor } from '../route-oracle.ts';
import { routeTimeoutBounds } from '../route-timeout-count.ts';
import { DR_VARIATIONS, RATE, SAMPLE_MS, TOLERANCE_MS, VS_VARIATIONS, caseExperiment, echoOf, scaledOutlier, timeScaleLine, verifySteadyState } from './common.ts';

/** Requests while the fault lasts: 3 s at RATE, several ejections' worth at time scale 0.02. */
const DURING = 300;
/** Requests of each steady-state probe (before and after): 1 s at RATE. */
const STEADY = 100;
/** The share of steady-state requests that must succeed: at time scale 0.02 a per-try timeout is 20 ms, which a loaded machine can exceed once in a while. */
const STEADY_SUCCESS = 0.99;
/**
 * Batches of STEADY requests after the rollback within which the steady state must return, and the
 * replica serve again: its last ejection may keep it out for seconds, and after a partition or a
 * freeze a connection attempt made while it lasted completes only at its next SYN retransmission
 * (Linux: 1, 3, 7, 15 s after the first), requests queued on it waiting meanwhile.
 */
const RETURN_DRIVES = 15;
const LISTED = 4;

const WHAT: Readonly<Record<ReplicaFault, string>> = {
  crash: "its app is killed (SIGKILL) while its sidecar stays",
  hang: 'its app takes every request and never answers',
  freeze: 'the whole pod is frozen (cgroup freezer)',
  partition: 'the pod is cut off the network (its interface down; its address and name stay)',
};

const key = (r: MeshForwardResult): string => outcomeKey(r.status ?? 0, r.responseFlags ?? '-', attemptsOf(r) ?? 1);

function replicaFaultCase(fault: ReplicaFault): ConformanceCase<ResilienceEnv> {
  const name = `replica-${fault}-under-traffic`;
  const service = `payment-${fault}`;
  return {
    shortName: name,
    description: `payment-${fault} has the seed's DestinationRule and VirtualService (consecutive5xxErrors 3, maxEjectionPercent 50; timeout 3s, 3 retries, perTryTimeout 1s on 5xx,gateway-error,connect-failure). One replica fails for real: ${WHAT[fault]}. Every request ends as the oracle says a request meeting that replica can end (retried elsewhere, or failed with the status and flags it names); /clusters ejects that replica only, for certain where every failed attempt counts for outlier detection; the client sidecar counts the retries and timeouts; after the rollback the replica serves again.`,
    area: 'resilience',
    features: [Feature.OutlierDetection, Feature.Retries, Feature.Timeouts, Feature.Metrics],
    manifests: [DR_VARIATIONS, VS_VARIATIONS],
    async test(ctx) {
      const env = ctx.env;
      const destination = env.service(service);
      const route = routeFor(destination.httpRoutes, '/pay/1', env.timeScale);
      const tcp = destination.ports[0]?.trafficPolicy?.connectionPool?.tcp;
      const connectTimeoutMs = tcp?.connectTimeout === undefined ? MESH_DEFAULT_CONNECT_TIMEOUT_MS : scaleMs(durationMs(tcp.connectTimeout), env.timeScale);
      const reading = replicaFaultReading(fault, { route, connectTimeoutMs });
      const allowed = new Set(allowedOutcomes(reading));
      // A retry left less than the suite's scheduling slack before the route timeout (at worst) may be cut by it: 504 UT after as many attempts.
      const tight = reading.paths.filter((p) => p.retryBudgetMs !== undefined && p.retryBudgetMs < TOLERANCE_MS);
      for (const p of tight) allowed.add(outcomeKey(504, 'UT', p.outcome.attempts));
      const failuresAllowed = [...allowed].filter((k) => !k.startsWith('200 '));
      if (reading.finding !== undefined) ctx.finding(`${service}: ${reading.finding}`);
      const [victim] = FaultSchedule.pick(ctx.seed, name, env.replicas, 1) as [string];
      const { settings } = scaledOutlier(env, service);
      const cluster = await env.clusterOf(service);
      const watch = await MetricWatch.start(() => env.mesh.metrics(CLIENT), `${CLIENT} sidecar`);
      const recorder = new TrafficRecorder(env, service, cluster, SAMPLE_MS);
      const faultOf = (): Fault => (fault === 'hang' ? hungEndpoint(echoOf(env, victim)) : env.mesh.podFault(fault, victim));
      let during: readonly MeshForwardResult[] = [];
      let duringFrom = 0;
      let duringTo = 0;
      let reached: number | undefined;
      // Before and after: at least STEADY_SUCCESS succeed. During: every failure one the oracle allows, on at most the victim's share (4 standard deviations over 1/N).
      const n = env.replicas.length;
      const share = 1 / n + 4 * Math.sqrt((1 / n) * (1 - 1 / n) / DURING);
      const judgePhase = (results: readonly MeshForwardResult[], faultActive: boolean): { holds: boolean; detail: string } => {
        const failed = results.filter((r) => r.status !== 200);
        if (!faultActive) {
          const ok = results.length - failed.length;
          return { holds: results.length > 0 && ok >= STEADY_SUCCESS * results.length, detail: `${ok} of ${results.length} requests succeeded (needed ${STEADY_SUCCESS * 100}%): ${tally(results)}` };
        }
        const unexplained = failed.filter((r) => !allowed.has(key(r)));
        const tooMany = failed.length > share * results.length;
        return { holds: results.length > 0 && unexplained.length === 0 && !tooMany, detail: `${results.length} requests: ${tally(results)}${unexplained.length > 0 ? `; not explained by the oracle: ${[...new Set(unexplained.map(key))].join(', ')}` : ''}${tooMany ? `; ${failed.length} failed, over the ${(share * 100).toFixed(0)}% the victim's share allows` : ''}` };
      };
      // Connections to every replica are open before anything is judged (a first TLS handshake under load can outlast a 20 ms per-try timeout).
      await recorder.drive(20, RATE);
      let phase = 0;
      let beforeResults: readonly MeshForwardResult[] = [];
      let recovery = { batches: 0, ms: 0 };
      /** After the rollback: batches until one holds the steady state (at most RETURN_DRIVES); the last one is judged. */
      const untilRecovered = async (): Promise<readonly MeshForwardResult[]> => {
        const started = recorder.now();
        let last: readonly MeshForwardResult[] = [];
        for (let i = 0; i < RETURN_DRIVES; i++) {
          last = await recorder.drive(STEADY, RATE);
          recovery = { batches: i + 1, ms: recorder.now() - started };
          if (judgePhase(last, false).holds) break;
        }
        return last;
      };
      const outcome = await caseExperiment(
        ctx,
        {
          name,
          hypothesis: phasedHypothesis(
            `at least ${STEADY_SUCCESS * 100}% of requests to ${service} succeed before and after the fault; while it lasts, ${failuresAllowed.length === 0 ? 'each one succeeds (a retry takes it elsewhere)' : `each one succeeds or, on at most the victim's share, ends in ${failuresAllowed.join(' or ')}`}, as the oracle says`,
            [async () => (beforeResults = await recorder.drive(STEADY, RATE)), async () => during, untilRecovered],
            (results) => {
              const current = phase++;
              const judged = judgePhase(results, current === 1);
              return current === 2 ? { ...judged, detail: `${judged.detail} (the batch ${recovery.batches} of at most ${RETURN_DRIVES} after the rollback, ${recovery.ms} ms)` } : judged;
            },
          ),
          faults: [faultOf()],
          whileInjected: async (journal) => {
            duringFrom = recorder.now();
            during = await recorder.drive(DURING, RATE);
            duringTo = recorder.now();
            reached = recorder.received.at(-1)?.[victim];
            const retried = during.filter((r) => (attemptsOf(r) ?? 1) > 1).length;
            journal(`${during.length} requests at ${RATE}/s: ${tally(during)}; ${retried} needed a retry; ${victim}'s app ${reached === undefined ? 'could not be asked' : `received ${reached}`}`);
          },
        },
        [
          timeScaleLine(env, [['perTryTimeout', 1_000], ['timeout', 3_000], ['baseEjectionTime', settings.baseEjectionTimeMs]]),
          `connect timeout ${connectTimeoutMs} ms (${tcp?.connectTimeout === undefined ? "MeshConfig's default, not scaled" : 'the rule\'s, scaled'})`,
          `seed ${ctx.seed} picks the replica: ${victim}`,
          ...reading.paths.map((p) => `oracle, via ${p.via}: ${p.why} → ${outcomeKey(p.outcome.status, p.outcome.flags.join(',') || '-', p.outcome.attempts)}${p.countsForOutlier ? ', counted for outlier detection' : ', not counted for outlier detection'}${p.retryBudgetMs !== undefined && p.retryBudgetMs < TOLERANCE_MS ? `; its retry has as little as ${p.retryBudgetMs} ms before the route timeout (a 25 ms back-off drawn high), under the ${TOLERANCE_MS} ms slack, so 504 UT×${p.outcome.attempts} is allowed too` : ''}`),
        ],
        () => {
          // Before any fault, a few requests (at most 5%) ended by the route's own timeouts and nothing else: the margin, not the
          // mesh. A data plane that is slow on every request fails more than that, and fails the case.
          const failed = beforeResults.filter((r) => r.status !== 200);
          return failed.length > 0 && failed.length <= 0.05 * beforeResults.length && failed.every((r) => r.status === 504 && (r.responseFlags ?? '').split(',').includes('UT')) ? `${failed.length} of ${beforeResults.length} healthy requests outlasted the ${route?.timeout ?? 'route'} timeout` : undefined;
        },
      );
      // The replica serves again once its last ejection is over (requests since the rollback, then more batches).
      const sinceRollback = recorder.results.slice(-recovery.batches * STEADY);
      let back = sinceRollback.filter((r) => r.servedBy === victim && r.status === 200).length;
      const servedAfter = new Map<string, number>();
      for (let i = 0; i < RETURN_DRIVES && back === 0; i++) {
        const results = await recorder.drive(STEADY, RATE);
        for (const r of results) servedAfter.set(r.servedBy ?? `${r.status ?? r.outcome}`, (servedAfter.get(r.servedBy ?? `${r.status ?? r.outcome}`) ?? 0) + 1);
        back = results.filter((r) => r.servedBy === victim && r.status === 200).length;
      }
      await watch.stop();
      ctx.attach('metrics', watch.samples);

      const failed = during.filter((r) => r.status !== 200);
      const unexplained = failed.filter((r) => !allowed.has(key(r)));
      ctx.verify(
        `each of the ${during.length} requests during the fault ended as the oracle allows (${[...allowed].join(', ')}): ${tally(during)}`,
        unexplained.length === 0 ? undefined : new Error(`${unexplained.length} did not: ${unexplained.slice(0, LISTED).map((r) => `request ${r.index}: ${key(r)}`).join('; ')}`),
      );
      const hits = during.filter((r) => (attemptsOf(r) ?? 1) > 1 || r.status !== 200).length;
      if (hits === 0) ctx.verify(`requests met ${victim} while it was down`, new Error(`none of ${during.length} requests needed a retry or failed: the fault was never felt, so the case shows nothing`));
      if (fault === 'partition') ctx.verify(`nothing reached ${victim}'s app while it was cut off (it received ${reached ?? 'unknown'})`, reached === 0 ? undefined : new Error(`${victim}'s app received ${reached ?? 'an unknown number of'} requests while partitioned`));

      const inFault = recorder.samples.filter((s) => s.atMs >= duringFrom && s.atMs <= duringTo);
      const others = recorder.samples.filter((s) => s.ejected.some((h) => h !== victim));
      ctx.verify(`no replica but ${victim} is ever ejected (/clusters, ${recorder.samples.length} samples)`, others.length === 0 ? undefined : new Error(`at ${Math.round(others[0]!.atMs)} ms /clusters shows ${others[0]!.ejected.join(', ')} ejected`));
      const ejectable = maxEjectedHosts(n, settings.maxEjectionPercent) > 0;
      const seenEjected = inFault.some((s) => s.ejected.includes(victim));
      const enforced = watch.increase({ name: 'envoy_cluster_outlier_detection_ejections_enforced_total', labels: { cluster_name: cluster } });
      if (reading.ejectionCertain && ejectable) {
        ctx.verify(`${victim} is ejected while it is down: every failed attempt on it counts (/clusters showed it ejected: ${seenEjected}; ejections enforced: ${enforced})`, seenEjected && enforced > 0 ? undefined : new Error(`${victim} was ${seenEjected ? '' : 'never shown ejected in /clusters'}${!seenEjected && enforced === 0 ? ' and ' : ''}${enforced === 0 ? 'no ejection was enforced' : ''}`));
      } else {
        ctx.finding(`${service}, ${fault}: ${victim} was ${seenEjected ? '' : 'never '}ejected while down (${enforced} ejections enforced), as the oracle allows: only attempts on connections opened before the fault count`);
      }
      const retried = during.reduce((sum, r) => sum + Math.max(0, (attemptsOf(r) ?? 1) - 1), 0);
      watch.check(ctx, { name: 'envoy_cluster_upstream_rq_retry', labels: { cluster_name: cluster } }, [retried, Number.POSITIVE_INFINITY], `upstream_rq_retry counts at least the ${retried} retries the requests during the fault report`);
      // Envoy counts upstream_rq_timeout for a route timeout that ends a try awaiting its answer or its connection, not one that
      // ends a request in its retry back-off. A single-attempt 504 UT may be either: its first try failed and the retry it
      // scheduled (counted in upstream_rq_retry at once) was still in back-off, never sent (x-envoy-attempt-count stays 1; seen
      // on a busy machine: 63 counted for 64). Retries counted beyond those sent bound how many such requests there were; the
      // requests of the whole watch the route timeout ended (or that got no answer) bound the count above, so it can always fail.
      const timeouts = routeTimeoutBounds(during, recorder.results, watch.increase({ name: 'envoy_cluster_upstream_rq_retry', labels: { cluster_name: cluster } }));
      watch.check(
        ctx,
        { name: 'envoy_cluster_upstream_rq_timeout', labels: { cluster_name: cluster } },
        [timeouts.low, timeouts.high],
        `upstream_rq_timeout counts at least the ${timeouts.timedOut} requests the route timeout ended on their first try during the fault${timeouts.tookMs === undefined ? '' : ` (after ${timeouts.tookMs[0]}–${timeouts.tookMs[1]} ms)`}, but for the ${timeouts.unsent} retries counted and never sent (a request ended in back-off): at least ${timeouts.low}; and at most one per request of the ${recorder.results.length} the watch covers that the route timeout ended (${timeouts.ended}) or that got no answer (${timeouts.unanswered}): at most ${timeouts.high}`,
      );
      let state = '';
      if (back === 0) {
        const host = (await env.mesh.clusters(CLIENT)).find((c) => c.name === cluster)?.hosts.find((h) => h.hostname === victim);
        state = host === undefined ? `; /clusters no longer lists it` : `; /clusters: ${host.ejected ? 'ejected' : 'not ejected'}, ${Object.entries(host.stats).map(([k, v]) => `${k} ${v}`).join(', ')}`;
        state += `; served by: ${[...servedAfter].map(([k, v]) => `${k} ${v}`).join(', ')}`;
        const inbound = (await env.mesh.accessLog(victim)).filter((l) => l.direction === 'inbound');
        state += `; ${victim}'s sidecar logged ${inbound.length} inbound requests in all, the last ${inbound.at(-1)?.time ?? 'never'} (${inbound.at(-1)?.status ?? ''} ${inbound.at(-1)?.responseFlags ?? ''})`;
      }
      ctx.verify(`${victim} serves again after the rollback (it answered ${back} requests with 200)`, back > 0 ? undefined : new Error(`${victim} answered none of ${RETURN_DRIVES} × ${STEADY} requests after the rollback${state}`));
      verifySteadyState(ctx, outcome);
    },
  };
}

export const replicaFaultCases: readonly ConformanceCase<ResilienceEnv>[] = (['crash', 'hang', 'freeze', 'partition'] as const).map(replicaFaultCase);
