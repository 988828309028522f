/**
 * How many route timeouts the client sidecar's upstream_rq_timeout may count over a metric watch.
 * Envoy counts one for each upstream request still in flight when the route timeout fires
 * (router.cc, onResponseTimeout: awaiting its answer or its connection); without hedging (Istio
 * sets none) a request has at most one in flight, so at most one per request the route timeout
 * ended, and none for a request it ended in its retry back-off (nothing in flight then).
 */
import type { MeshForwardResult } from '../../harness/index.ts';
import { attemptsOf } from './route-oracle.ts';

export interface RouteTimeoutBounds {
  /** Requests during the fault the route timeout ended on their first try (504 UT, one attempt). */
  readonly timedOut: number;
  /** Retries upstream_rq_retry counted beyond those the requests during the fault report (scheduled, never sent). */
  readonly unsent: number;
  /** Requests over the whole watch that ended 504 UT: each may be one count, no more. */
  readonly ended: number;
  /** Requests over the whole watch the client got no answer to: what the sidecar did with them is unknown, one count each at most. */
  readonly unanswered: number;
  readonly low: number;
  readonly high: number;
  /** The shortest and longest of the first-try route timeouts during the fault (ms), for the message: a per-try timeout ends near the per-try timer. */
  readonly tookMs?: readonly [number, number];
}

const timedOutByRoute = (r: MeshForwardResult): boolean => r.outcome === 'response' && r.status === 504 && (r.responseFlags ?? '').split(',').includes('UT');

/**
 * `during`: the requests while the fault lasted; `watched`: every request the watch covers (the
 * same cluster, from before the first to after the last read); `retriesCounted`: the increase of
 * upstream_rq_retry over the watch. Low: the first-try route timeouts during the fault, less one
 * for each retry counted and never sent (such a request may have ended in back-off). High: every
 * request the watch covers that ended 504 UT or got no answer.
 */
export function routeTimeoutBounds(during: readonly MeshForwardResult[], watched: readonly MeshForwardResult[], retriesCounted: number): RouteTimeoutBounds {
  const timedOut = during.filter((r) => timedOutByRoute(r) && (attemptsOf(r) ?? 1) === 1).length;
  const retried = during.reduce((sum, r) => sum + Math.max(0, (attemptsOf(r) ?? 1) - 1), 0);
  const unsent = Math.max(0, retriesCounted - retried);
  const ended = watched.filter(timedOutByRoute).length;
  const unanswered = watched.filter((r) => r.outcome !== 'response').length;
  const took = during.filter((r) => timedOutByRoute(r) && (attemptsOf(r) ?? 1) === 1).map((r) => r.sidecarDurationMs ?? r.durationMs);
  return { timedOut, unsent, ended, unanswered, low: Math.max(0, timedOut - unsent), high: ended + unanswered, ...(took.length === 0 ? {} : { tookMs: [Math.min(...took), Math.max(...took)] as const }) };
}
