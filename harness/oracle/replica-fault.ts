/**
 * What a client sidecar makes of requests that meet one replica in trouble, by the kind of
 * trouble (istio-semantics.md §3–§4; Envoy's router, connection pool and outlier detector, as
 * tried live on Envoy 1.40):
 *
 * - crash: the app is gone, its sidecar stays. The replica's sidecar cannot connect to the app,
 *   retries that (Istio's inbound `reset-before-request`, 2 retries with Envoy's 25 ms back-off)
 *   and answers 503 UF,URX; the client's attempt gets a 503, or reaches its per-try timeout first.
 * - hang: the app takes the request and never answers; the attempt waits for its per-try timeout,
 *   else for the route timeout.
 * - freeze: the whole pod is frozen. On a connection the client already has, the request is sent
 *   and never answered (as hang). A new connection never completes its TLS handshake: it waits for
 *   the connect timeout, unless the route timeout comes first.
 * - partition: the pod is unreachable. The same two paths as freeze (nothing answers; a new
 *   connection waits for the connect timeout).
 *
 * What counts for outlier detection (split_external_local_origin_errors off, as istiod leaves it):
 * a 5xx answer, a per-try or route timeout of an attempt that had its connection (Envoy knows the
 * attempt's host from then), a connect failure. A request ended by the route timeout while waiting
 * for a connection counts for nothing: no host was reported. So where the route timeout is shorter
 * than the connect timeout, a frozen or unreachable replica is ejected only through requests on
 * connections opened before the fault, and may never be.
 *
 * Pure: settings in, reading out. The connect timeout when the DestinationRule sets none is
 * MeshConfig's 10 s, which no time scale changes (the translation reads it the same way; kept apart
 * on purpose: this is the oracle's reading, not the data plane's).
 */
import type { HttpRoute } from '../model/resources.ts';
import { durationMs } from '../model/duration.ts';
import { effectiveRetryPolicy, requestOutcome, type AttemptResult, type RequestOutcome } from './retry-outcome.ts';

export type ReplicaFault = 'crash' | 'hang' | 'freeze' | 'partition';

export const REPLICA_FAULTS: readonly ReplicaFault[] = ['crash', 'hang', 'freeze', 'partition'];

/** MeshConfig.connectTimeout's default, for a DestinationRule without connectionPool.tcp.connectTimeout. */
export const MESH_DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Envoy's default retry back-off base (the inbound retry policy istiod writes sets none). */
const ENVOY_BACKOFF_BASE_MS = 25;
/** The worst the replica's own inbound retries can take: 2 retries, back-offs below 25 and 75 ms. */
const INBOUND_RETRIES_WORST_MS = ENVOY_BACKOFF_BASE_MS * 1 + ENVOY_BACKOFF_BASE_MS * 3;

export interface ReplicaFaultSettings {
  /** The route the requests take, durations already time-scaled (undefined: no VirtualService). */
  readonly route: HttpRoute | undefined;
  /** The cluster's connect timeout in ms (a rule's, time-scaled; else MESH_DEFAULT_CONNECT_TIMEOUT_MS). */
  readonly connectTimeoutMs: number;
  /** What the other replicas answer (their attempts succeed). */
  readonly healthyStatus?: number;
}

/** One way a request that meets the faulty replica can go. */
export interface ReplicaFaultPath {
  /** `an existing connection`, `a new connection`. */
  readonly via: string;
  /** What the attempt on the faulty replica gets, as the router sees it. */
  readonly attempt: AttemptResult;
  /** The request as the client sees it, its first attempt on the faulty replica and any retry on a healthy one. */
  readonly outcome: RequestOutcome;
  /** Whether that attempt is reported to outlier detection (towards consecutive5xxErrors). */
  readonly countsForOutlier: boolean;
  readonly why: string;
  /**
   * For a request retried elsewhere: the least time its retry has before the route timeout, after
   * the failed attempt and the longest first back-off (Envoy's base 25 ms). A retry whose answer
   * takes longer ends 504 UT instead; the oracle cannot tell which back-off Envoy drew.
   */
  readonly retryBudgetMs?: number;
}

export interface ReplicaFaultReading {
  readonly fault: ReplicaFault;
  readonly paths: readonly ReplicaFaultPath[];
  /** True when every path counts for outlier detection: the replica is ejected once it has met consecutive5xxErrors requests in a row. */
  readonly ejectionCertain: boolean;
  /** Said when some requests fail for as long as the fault lasts, and why the rules let them. */
  readonly finding?: string;
}

const HANGS: AttemptResult = { kind: 'response', status: 200, latencyMs: Number.POSITIVE_INFINITY };

function path(via: string, attempt: AttemptResult, settings: ReplicaFaultSettings, why: string): ReplicaFaultPath {
  const healthy: AttemptResult = { kind: 'response', status: settings.healthyStatus ?? 200 };
  const route = settings.route;
  const policy = effectiveRetryPolicy(route);
  const timed = (route?.timeout !== undefined && durationMs(route.timeout) > 0) || policy.perTryTimeoutMs !== undefined;
  if (attempt.kind === 'response' && attempt.latencyMs === Number.POSITIVE_INFINITY && !timed) {
    // Nothing on the route ends the wait: the client waits for as long as it is willing to.
    const outcome: RequestOutcome = { attempts: 1, status: 0, flags: [], elapsedMs: Number.POSITIVE_INFINITY, retryPolicy: policy, reason: 'never answered: the route has no timeout and no per-try timeout' };
    return { via, attempt, outcome, countsForOutlier: false, why };
  }
  const outcome = requestOutcome({ route, results: [attempt, healthy] });
  // Cut by the route timeout while connecting: no host was reported. Otherwise the attempt had its host.
  const waitedForConnection = attempt.kind === 'connect-failure' && outcome.attempts === 1 && outcome.flags.includes('UT');
  const routeTimeoutMs = route?.timeout === undefined ? 0 : durationMs(route.timeout);
  const retried = outcome.attempts > 1 && outcome.status === (settings.healthyStatus ?? 200);
  const retryBudgetMs = retried && routeTimeoutMs > 0 ? routeTimeoutMs - outcome.elapsedMs - ENVOY_BACKOFF_BASE_MS : undefined;
  return { via, attempt, outcome, countsForOutlier: !waitedForConnection, why, ...(retryBudgetMs === undefined ? {} : { retryBudgetMs }) };
}

export function replicaFaultReading(fault: ReplicaFault, settings: ReplicaFaultSettings): ReplicaFaultReading {
  const neverConnects: AttemptResult = { kind: 'connect-failure', afterMs: settings.connectTimeoutMs };
  const paths: ReplicaFaultPath[] = [];
  switch (fault) {
    case 'crash':
      paths.push(
        path('its sidecar answering at once', { kind: 'response', status: 503 }, settings, 'the replica\'s sidecar finds no app: 503 after its inbound retries'),
        path('its sidecar answering after its back-off', { kind: 'response', status: 503, latencyMs: INBOUND_RETRIES_WORST_MS }, settings, `its inbound retries wait up to ${INBOUND_RETRIES_WORST_MS} ms (Envoy's 25 ms back-off) before the 503`),
      );
      break;
    case 'hang':
      paths.push(path('any connection', HANGS, settings, 'its sidecar forwards the request and the app never answers'));
      break;
    case 'freeze':
    case 'partition': {
      const what = fault === 'freeze' ? 'the frozen pod' : 'the unreachable pod';
      paths.push(
        path('an existing connection', HANGS, settings, `the request is sent and ${what} never answers`),
        path('a new connection', neverConnects, settings, `${fault === 'freeze' ? 'its TLS handshake' : 'its TCP handshake'} never completes: it waits for the connect timeout (${settings.connectTimeoutMs} ms)`),
      );
      break;
    }
  }
  const failing = paths.filter((p) => p.outcome.status !== (settings.healthyStatus ?? 200));
  const uncounted = paths.filter((p) => !p.countsForOutlier);
  const routeTimeout = settings.route?.timeout;
  const finding =
    uncounted.length === 0
      ? undefined
      : `a ${fault === 'freeze' ? 'frozen' : 'unreachable'} replica is not reliably ejected: a request that needs a new connection to it waits until the route timeout (${routeTimeout ?? 'none'}, scaled) because the connect timeout (${settings.connectTimeoutMs} ms) is longer, and fails ${uncounted[0]!.outcome.status} ${uncounted[0]!.outcome.flags.join(',')} without a retry; Envoy reports no host for it, so outlier detection never counts it. Set connectionPool.tcp.connectTimeout below the route timeout (and perTryTimeout) so that such an attempt fails over and counts.`;
  return { fault, paths, ejectionCertain: uncounted.length === 0 && failing.every((p) => p.countsForOutlier), ...(finding === undefined ? {} : { finding }) };
}

/** The client outcomes a request meeting the faulty replica may end in, `status flags×attempts` (e.g. `200 -×2`, `504 UT×1`). */
export function allowedOutcomes(reading: ReplicaFaultReading): string[] {
  return [...new Set(reading.paths.map((p) => outcomeKey(p.outcome.status, p.outcome.flags.join(',') || '-', p.outcome.attempts)))];
}

export function outcomeKey(status: number, flags: string, attempts: number): string {
  return `${status} ${flags === '' ? '-' : flags}×${attempts}`;
}
