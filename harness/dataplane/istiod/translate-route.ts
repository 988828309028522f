/**
 * VirtualService HTTP routes → reference routes, read from istiod's route translation
 * (istio-semantics.md §4, envoy-mapping.md §3.4):
 *
 * - `timeout` unset: no route timeout (Istio's 0s).
 * - `retries` unset (or no VirtualService): meshConfig.defaultHttpRetryPolicy if the mesh has
 *   one, else Istio's default: 2 retries on connect-failure, refused-stream, unavailable,
 *   cancelled, retriable-status-codes with no codes (no HTTP status is retried; Istio ≥ 1.24).
 *   `attempts: 0` (or less) means no retries at all. A `retries` block without `retryOn` keeps
 *   the default tokens; integer tokens become retriable status codes. The previous-hosts
 *   predicate is on unless `retryIgnorePreviousHosts: false`; back-off base 25 ms unless set.
 * - `fault.delay` / `fault.abort`: `percentage.value` → millionths (× 10000, as istiod); the
 *   deprecated integer `percent` for the delay; neither means 0 % (never). `exponentialDelay`
 *   and `http2Error` are not supported (dropped, with a note), as istiod drops the former.
 * - `match[].port` keeps a match entry only on the listener of that port; a route whose entries
 *   all name other ports is not on this listener.
 */
import { durationMs, scaleMs } from '../../model/duration.ts';
import type { HttpMatchRequest, HttpRetry, HttpRoute, StringMatch } from '../../model/resources.ts';
import type { FaultConfig, RetryConfig, RouteConfig, RouteMatchConfig, StringMatchConfig } from './outbound-config.ts';

export const ISTIO_DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
const ISTIO_DEFAULT_ATTEMPTS = 2;
const ENVOY_BACKOFF_BASE_MS = 25;
const HOST_SELECTION_MAX_ATTEMPTS = 5;

/** gRPC status names as VirtualService `abort.grpcStatus` writes them. */
const GRPC_CODES: Readonly<Record<string, number>> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

export interface RouteContext {
  /** The port of the listener the route is for. */
  readonly port: number;
  readonly scale: number;
  readonly meshDefaultRetry?: HttpRetry;
  /** The cluster a route destination names: host (as written), port (or undefined) and subset. */
  readonly clusterFor: (host: string, port: number | undefined, subset: string | undefined) => string;
  readonly note: (message: string) => void;
}

/** The route Istio gives a service without a VirtualService: everything to its own cluster. */
export function defaultRoute(cluster: string, ctx: RouteContext): RouteConfig {
  const retry = retryConfig(undefined, ctx);
  return { source: 'default route (no VirtualService)', match: [], clusters: [{ name: cluster, weight: 100 }], timeoutMs: 0, ...(retry === undefined ? {} : { retry }) };
}

/** One VirtualService HTTP route on the listener of `ctx.port`; undefined when it is not on this port. */
export function renderRoute(route: HttpRoute, source: string, ctx: RouteContext): RouteConfig | undefined {
  const entries = route.match ?? [];
  const here = entries.filter((m) => m.port === undefined || m.port === ctx.port);
  if (entries.length > 0 && here.length === 0) return undefined;
  if (route.route === undefined || route.route.length === 0) {
    ctx.note(`${source}: a route without destinations (redirect, directResponse) is not supported by the reference sidecar and is left out`);
    return undefined;
  }
  const single = route.route.length === 1;
  let clusters = route.route.map((d) => ({ name: ctx.clusterFor(d.destination.host, d.destination.port?.number, d.destination.subset), weight: d.weight ?? (single ? 100 : 0) }));
  if (clusters.every((c) => c.weight === 0)) clusters = clusters.map((c) => ({ ...c, weight: 1 }));
  const retry = retryConfig(route.retries, ctx);
  const fault = route.fault === undefined ? undefined : faultConfig(route.fault, source, ctx);
  return {
    source,
    match: here.map(matchConfig),
    clusters,
    timeoutMs: route.timeout === undefined ? 0 : scaleMs(durationMs(route.timeout), ctx.scale),
    ...(retry === undefined ? {} : { retry }),
    ...(fault === undefined ? {} : { fault }),
  };
}

function stringMatch(m: StringMatch): StringMatchConfig {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { regex: m.regex };
  return { prefix: '' };
}

function matchConfig(m: HttpMatchRequest): RouteMatchConfig {
  const headers: Record<string, StringMatchConfig> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) headers[name.toLowerCase()] = stringMatch(value);
  return {
    ...(m.uri === undefined ? {} : { uri: stringMatch(m.uri) }),
    ...(m.ignoreUriCase === true ? { ignoreUriCase: true } : {}),
    ...(m.method === undefined ? {} : { method: stringMatch(m.method) }),
    ...(m.authority === undefined ? {} : { authority: stringMatch(m.authority) }),
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
  };
}

/** The retry policy of a route (`retries` undefined: the mesh's or Istio's default). */
export function retryConfig(retries: HttpRetry | undefined, ctx: Pick<RouteContext, 'scale' | 'meshDefaultRetry'>): RetryConfig | undefined {
  const policy: HttpRetry = retries ?? ctx.meshDefaultRetry ?? { attempts: ISTIO_DEFAULT_ATTEMPTS };
  const attempts = policy.attempts ?? 0;
  if (attempts <= 0) return undefined;
  const retryOn: string[] = [];
  const codes: number[] = [];
  for (const raw of (policy.retryOn ?? ISTIO_DEFAULT_RETRY_ON).split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    if (/^\d+$/.test(token)) codes.push(Number(token));
    else if (!retryOn.includes(token)) retryOn.push(token);
  }
  if (codes.length > 0 && !retryOn.includes('retriable-status-codes')) retryOn.push('retriable-status-codes');
  const base = policy.backoff === undefined ? ENVOY_BACKOFF_BASE_MS : scaleMs(durationMs(policy.backoff), ctx.scale);
  return {
    numRetries: attempts,
    retryOn,
    retriableStatusCodes: codes,
    ...(policy.perTryTimeout === undefined || durationMs(policy.perTryTimeout) <= 0 ? {} : { perTryTimeoutMs: scaleMs(durationMs(policy.perTryTimeout), ctx.scale) }),
    backoffBaseMs: base,
    backoffMaxMs: base * 10,
    previousHosts: policy.retryIgnorePreviousHosts !== false,
    hostSelectionMaxAttempts: HOST_SELECTION_MAX_ATTEMPTS,
  };
}

/** `percentage.value` (0–100, double) → out of a million, truncated as istiod's uint32(value*10000). */
function millionths(percentage: { readonly value?: number } | undefined, percent?: number): number {
  if (percentage?.value !== undefined) return Math.min(1_000_000, Math.max(0, Math.floor(percentage.value * 10_000 + 1e-6)));
  if (percent !== undefined) return Math.min(1_000_000, Math.max(0, Math.floor(percent) * 10_000));
  return 0;
}

function faultConfig(fault: NonNullable<HttpRoute['fault']>, source: string, ctx: RouteContext): FaultConfig | undefined {
  const out: { delay?: FaultConfig['delay']; abort?: FaultConfig['abort'] } = {};
  const d = fault.delay;
  if (d !== undefined) {
    if (d.fixedDelay !== undefined) out.delay = { fixedDelayMs: scaleMs(durationMs(d.fixedDelay), ctx.scale), millionths: millionths(d.percentage, d.percent) };
    else if (d.exponentialDelay !== undefined) ctx.note(`${source}: fault.delay.exponentialDelay is not supported (istiod drops it too); no delay is injected`);
  }
  const a = fault.abort;
  if (a !== undefined) {
    if (a.httpStatus !== undefined) out.abort = { httpStatus: a.httpStatus, millionths: millionths(a.percentage) };
    else if (a.grpcStatus !== undefined && GRPC_CODES[a.grpcStatus] !== undefined) out.abort = { grpcStatus: GRPC_CODES[a.grpcStatus]!, millionths: millionths(a.percentage) };
    else ctx.note(`${source}: fault.abort ${a.http2Error !== undefined ? 'http2Error' : `grpcStatus ${String(a.grpcStatus)}`} is not supported by the reference sidecar; no abort is injected`);
  }
  return out.delay === undefined && out.abort === undefined ? undefined : out;
}
