/**
 * What the client sidecar makes of one request through a route: fault injection, retries,
 * per-try and route timeouts (istio-semantics.md §4).
 *
 * - No `retries` on the route (or no VirtualService): Istio's default policy, 2 retries on
 *   `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes` with no codes
 *   (so no HTTP status is retried), unless meshConfig.defaultHttpRetryPolicy overrides it.
 * - `attempts: 0` disables retries. A `retries` block without `retryOn` keeps the default retryOn.
 * - A per-try timeout is retried only if retryOn has 5xx, gateway-error or reset [derived].
 * - A fault abort is a local reply: no upstream attempt, retries never consulted. A fault delay
 *   happens before the router, so the route timeout does not count it [derived].
 * - Elapsed time ignores retry back-off (Envoy jitters it, base 25 ms): a route timeout that
 *   could only be reached during back-off is not predicted.
 * - A per-try timeout starts once the attempt has its connection (Envoy's onPoolReady): it never
 *   cuts a connection attempt, which only the connect timeout or the route timeout ends.
 */
import { durationMs } from '../model/duration.ts';
import type { HttpRetry, HttpRoute } from '../model/resources.ts';

export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const DEFAULT_RETRIES = 2;

/** What one upstream attempt would get. */
export type AttemptResult =
  | { readonly kind: 'response'; readonly status: number; readonly latencyMs?: number }
  /** The connection failed (`afterMs`: when, e.g. at the connect timeout; default at once). */
  | { readonly kind: 'connect-failure'; readonly afterMs?: number }
  /** Reset after connecting, before response headers. */
  | { readonly kind: 'reset'; readonly afterMs?: number }
  /** HTTP/2 REFUSED_STREAM. */
  | { readonly kind: 'refused-stream' };

export interface EffectiveRetryPolicy {
  readonly numRetries: number;
  readonly retryOn: ReadonlySet<string>;
  readonly retriableStatusCodes: ReadonlySet<number>;
  readonly perTryTimeoutMs?: number;
  /** Where it came from. */
  readonly source: 'route' | 'mesh-default' | 'istio-default' | 'disabled';
}

export function parseRetryOn(retryOn: string): { tokens: Set<string>; codes: Set<number> } {
  const tokens = new Set<string>();
  const codes = new Set<number>();
  for (const raw of retryOn.split(',')) {
    const t = raw.trim();
    if (t === '') continue;
    if (/^\d+$/.test(t)) {
      codes.add(Number(t));
      tokens.add('retriable-status-codes');
    } else tokens.add(t);
  }
  return { tokens, codes };
}

function convert(retry: HttpRetry, source: EffectiveRetryPolicy['source']): EffectiveRetryPolicy {
  if ((retry.attempts ?? 0) <= 0) return { numRetries: 0, retryOn: new Set(), retriableStatusCodes: new Set(), source: 'disabled' };
  const { tokens, codes } = parseRetryOn(retry.retryOn ?? DEFAULT_RETRY_ON);
  return {
    numRetries: retry.attempts ?? 0,
    retryOn: tokens,
    retriableStatusCodes: codes,
    ...(retry.perTryTimeout === undefined ? {} : { perTryTimeoutMs: durationMs(retry.perTryTimeout) }),
    source,
  };
}

/** The retry policy in force for a route (undefined route: no VirtualService). */
export function effectiveRetryPolicy(route: HttpRoute | undefined, meshDefault?: HttpRetry): EffectiveRetryPolicy {
  if (route?.retries !== undefined) return convert(route.retries, 'route');
  if (meshDefault !== undefined) return convert(meshDefault, 'mesh-default');
  const { tokens, codes } = parseRetryOn(DEFAULT_RETRY_ON);
  return { numRetries: DEFAULT_RETRIES, retryOn: tokens, retriableStatusCodes: codes, source: 'istio-default' };
}

export interface RequestOutcomeInput {
  readonly route: HttpRoute | undefined;
  readonly meshDefaultRetryPolicy?: HttpRetry;
  /** Attempt i gets results[i]; the last result repeats. */
  readonly results: readonly AttemptResult[];
  /** 0 ≤ roll < 100: a fault with percentage p applies when roll < p. Default 0 (any p > 0 applies). */
  readonly faultRoll?: number;
}

export interface RequestOutcome {
  /** Upstream attempts made (0 when a fault aborted the request). */
  readonly attempts: number;
  readonly status: number;
  /** Envoy response flags at the client sidecar, e.g. ['UF','URX'], ['UT'], ['FI']. */
  readonly flags: readonly string[];
  /** The local-reply body when the sidecar answers itself. */
  readonly body?: string;
  /** Time until the response, excluding retry back-off. */
  readonly elapsedMs: number;
  readonly retryPolicy: EffectiveRetryPolicy;
  readonly reason: string;
}

function retriable(policy: EffectiveRetryPolicy, result: AttemptResult | 'per-try-timeout'): boolean {
  const on = policy.retryOn;
  if (result === 'per-try-timeout') return on.has('5xx') || on.has('gateway-error') || on.has('reset');
  switch (result.kind) {
    case 'connect-failure':
      return on.has('connect-failure') || on.has('5xx') || on.has('gateway-error') || on.has('reset');
    case 'reset':
      return on.has('5xx') || on.has('gateway-error') || on.has('reset');
    case 'refused-stream':
      return on.has('refused-stream') || on.has('5xx') || on.has('gateway-error') || on.has('reset');
    case 'response': {
      const s = result.status;
      if (on.has('5xx') && s >= 500) return true;
      if (on.has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
      if (on.has('retriable-4xx') && s === 409) return true;
      return on.has('retriable-status-codes') && policy.retriableStatusCodes.has(s);
    }
  }
}

const CONNECT_FAILURE_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
const TIMEOUT_BODY = 'upstream request timeout';

export function requestOutcome(input: RequestOutcomeInput): RequestOutcome {
  const route = input.route;
  const roll = input.faultRoll ?? 0;
  const policy = effectiveRetryPolicy(route, input.meshDefaultRetryPolicy);
  const flags: string[] = [];
  const applies = (p: { percentage?: { value?: number }; percent?: number } | undefined): boolean => {
    const pct = p?.percentage?.value ?? p?.percent ?? 0;
    return roll < pct;
  };
  let delayMs = 0;
  const fault = route?.fault;
  if (fault?.delay !== undefined && fault.delay.fixedDelay !== undefined && applies(fault.delay)) {
    delayMs = durationMs(fault.delay.fixedDelay);
    flags.push('DI');
  }
  if (fault?.abort !== undefined && applies(fault.abort)) {
    const status = fault.abort.httpStatus ?? (fault.abort.grpcStatus !== undefined ? 200 : 503);
    return { attempts: 0, status, flags: [...flags, 'FI'], body: 'fault filter abort', elapsedMs: delayMs, retryPolicy: policy, reason: `fault abort (${fault.abort.httpStatus ?? fault.abort.grpcStatus ?? 'http2 error'}): a local reply before the router, so no upstream attempt and no retry` };
  }
  const routeTimeout = route?.timeout === undefined ? 0 : durationMs(route.timeout);
  const perTry = policy.perTryTimeoutMs;
  let elapsed = 0;
  const last = input.results[input.results.length - 1];
  if (last === undefined) throw new TypeError('requestOutcome needs at least one attempt result');
  for (let attempt = 0; ; attempt++) {
    const result = input.results[attempt] ?? last;
    const duration = result.kind === 'response' ? (result.latencyMs ?? 0) : result.kind === 'reset' || result.kind === 'connect-failure' ? (result.afterMs ?? 0) : 0;
    const budget = routeTimeout > 0 ? routeTimeout - elapsed : Number.POSITIVE_INFINITY;
    const tryLimit = perTry !== undefined && perTry < duration && result.kind !== 'connect-failure' ? perTry : undefined;
    // The route timeout fires first if it comes before this attempt ends (or its per-try timeout).
    if (budget <= Math.min(duration, tryLimit ?? Number.POSITIVE_INFINITY)) {
      return { attempts: attempt + 1, status: 504, flags: [...flags, 'UT'], body: TIMEOUT_BODY, elapsedMs: delayMs + routeTimeout, retryPolicy: policy, reason: `route timeout ${route?.timeout} reached during attempt ${attempt + 1}` };
    }
    const outcome: AttemptResult | 'per-try-timeout' = tryLimit !== undefined ? 'per-try-timeout' : result;
    elapsed += tryLimit ?? duration;
    const success = outcome !== 'per-try-timeout' && outcome.kind === 'response' && !retriable(policy, outcome);
    const exhausted = attempt >= policy.numRetries;
    if (success || !retriable(policy, outcome) || exhausted) {
      const wanted = !success && retriable(policy, outcome);
      const retryFlag = wanted && exhausted && policy.numRetries > 0 ? ['URX'] : [];
      const n = attempt + 1;
      const tail = `after ${n} attempt${n === 1 ? '' : 's'} (${policy.source} retry policy: ${policy.numRetries} retries on ${[...policy.retryOn].join(',') || 'nothing'})`;
      if (outcome === 'per-try-timeout') return { attempts: n, status: 504, flags: [...flags, 'UT', ...retryFlag], body: TIMEOUT_BODY, elapsedMs: delayMs + elapsed, retryPolicy: policy, reason: `per-try timeout ${perTry}ms ${tail}` };
      switch (outcome.kind) {
        case 'response':
          return { attempts: n, status: outcome.status, flags: [...flags, ...retryFlag], elapsedMs: delayMs + elapsed, retryPolicy: policy, reason: `upstream answered ${outcome.status} ${tail}` };
        case 'connect-failure':
          return { attempts: n, status: 503, flags: [...flags, 'UF', ...retryFlag], body: CONNECT_FAILURE_BODY, elapsedMs: delayMs + elapsed, retryPolicy: policy, reason: `connection failure ${tail}` };
        case 'reset':
        case 'refused-stream':
          return { attempts: n, status: 503, flags: [...flags, 'UR', ...retryFlag], elapsedMs: delayMs + elapsed, retryPolicy: policy, reason: `upstream reset ${tail}` };
      }
    }
  }
}
