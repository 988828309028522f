/**
 * What a DestinationRule's connectionPool lets into a cluster at once, as istiod sets Envoy's
 * circuit breakers (istio-semantics.md §3 "connectionPool"): every threshold is 2^32-1 unless set,
 * and 0 means the default, not zero (istiod cannot tell unset from 0). Over HTTP/1.1 a connection
 * carries one request at a time, and max_pending_requests wait for one; the next overflows (503
 * UO, never queued). Envoy lets max_connections be passed by one connection per host it picks
 * (circuit_breaking.rst: "Envoy will ensure that a host selected by cluster load balancing has at
 * least one connection allocated", bound max_connections + endpoints × pools): so with 4 hosts and
 * maxConnections 1, up to 5 requests can be upstream at once, not 1.
 */
import type { ConnectionPoolSettings } from '../../harness/index.ts';

/** Istio's value for every circuit-breaker threshold a DestinationRule does not set. */
const UNSET_THRESHOLD = 2 ** 32 - 1;

export interface PoolLimits {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

const limit = (value: number | undefined): number => (value === undefined || value <= 0 ? UNSET_THRESHOLD : value);

export function poolLimits(pool: ConnectionPoolSettings | undefined): PoolLimits {
  return {
    maxConnections: limit(pool?.tcp?.maxConnections),
    maxPendingRequests: limit(pool?.http?.http1MaxPendingRequests),
    maxRequests: limit(pool?.http?.http2MaxRequests),
    maxRetries: limit(pool?.http?.maxRetries),
  };
}

/**
 * Most HTTP/1.1 requests a cluster of `endpoints` hosts holds at once (upstream or waiting):
 * beyond it, requests overflow. `pools` connection pools per host: Envoy keeps one per worker
 * thread, and each may open its first connection to a host past max_connections.
 */
export function admittedAtOnce(limits: PoolLimits, endpoints: number, pools = 1): number {
  return Math.min(limits.maxConnections + endpoints * pools, limits.maxRequests) + limits.maxPendingRequests;
}

/**
 * The most intervals that overlap at any instant. Each is shrunk by `slackMs` at both ends first:
 * the client sees a request start a little before the sidecar admits it and end a little after.
 */
export function mostAtOnce(intervals: readonly { readonly startMs: number; readonly endMs: number }[], slackMs: number): number {
  const points: [number, number][] = [];
  for (const i of intervals) {
    const from = i.startMs + slackMs;
    const to = i.endMs - slackMs;
    if (to > from) points.push([from, 1], [to, -1]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of points) {
    now += d;
    most = Math.max(most, now);
  }
  return most;
}
