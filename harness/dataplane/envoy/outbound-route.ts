/**
 * VirtualService → outbound routes, as istiod's route.go and route/retry/retry.go build them
 * (envoy-mapping.md §3.4):
 *
 * - one Envoy route per `http[]` entry and `match` (no match: prefix `/`), in order; a request
 *   no route matches gets 404 (NR), as in Istio. No VirtualService: Istio's default route.
 * - `timeout` (default `0s`: none); retries: Istio's default policy (2 retries on
 *   connect-failure, refused-stream, unavailable, cancelled; previous-hosts predicate; 5 host
 *   selection attempts), `attempts: 0` removes it, integer `retryOn` tokens become
 *   `retriable_status_codes`; the mesh's `defaultHttpRetryPolicy` replaces the default.
 * - `fault` as per-route `typed_per_filter_config` of the (empty) HCM fault filter; percentages
 *   `value × 10000` over MILLION, truncated as Go's uint32() does; no percentage: 0 %.
 *
 * Not rendered (noted): subsets, header/query rewrites, redirects, mirrors, exponential delays,
 * HTTP/2 error aborts. Istio also writes the deprecated `max_grpc_timeout`; it is left out.
 */
import { STATUS_CODES } from 'node:http';
import { durationMs } from '../../model/duration.ts';
import type { HttpFaultInjection, HttpMatchRequest, HttpRetry, HttpRoute, StringMatch } from '../../model/resources.ts';
import { FAULT_FILTER, FAULT_TYPE } from './filters.ts';
import { typeUrl, type JsonObject } from './json.ts';
import type { RenderNote } from './outbound-cluster.ts';
import { envoyDuration } from './render-options.ts';

const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
const PREVIOUS_HOSTS: JsonObject = { name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': typeUrl('envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate') } };
const PREVIOUS_PRIORITIES: JsonObject = {
  name: 'envoy.retry_priorities.previous_priorities',
  typed_config: { '@type': typeUrl('envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig'), update_frequency: 2 },
};
/** gRPC status names, for `abort.grpcStatus`. */
const GRPC_CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

export interface RouteContext {
  readonly scale: number;
  readonly meshDefaultRetry?: HttpRetry;
  readonly notes: RenderNote[];
  /** The cluster for a VS destination host (as written, in the VS's namespace) and port. */
  readonly clusterFor: (host: string, port: number) => string | undefined;
  /** The service port whose routes these are. */
  readonly port: number;
  readonly where: string;
}

/** istiod parseRetryOn: integers Go knows as HTTP statuses become codes, the rest stays. */
function parseRetryOn(retryOn: string): { retryOn: string; codes: number[] } {
  const tokens: string[] = [];
  const codes: number[] = [];
  for (const part of retryOn.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const n = Number(part);
    if (/^\d+$/.test(part) && STATUS_CODES[n] !== undefined) codes.push(n);
    else tokens.push(part);
  }
  return { retryOn: tokens.join(','), codes };
}

function defaultRetry(): Record<string, unknown> {
  return { retry_on: DEFAULT_RETRY_ON, num_retries: 2, retry_host_predicate: [PREVIOUS_HOSTS], host_selection_retry_max_attempts: 5 };
}

/** istiod ConvertPolicy. Undefined: no retry policy at all. */
export function retryPolicy(retries: HttpRetry | undefined, scale: number): JsonObject | undefined {
  const out = defaultRetry();
  if (retries === undefined) return out as JsonObject;
  if ((retries.attempts ?? 0) <= 0) return undefined;
  out['num_retries'] = retries.attempts;
  if (retries.retryOn !== undefined && retries.retryOn !== '') {
    const parsed = parseRetryOn(retries.retryOn);
    out['retry_on'] = parsed.codes.length > 0 && !parsed.retryOn.includes('retriable-status-codes') ? `${parsed.retryOn},retriable-status-codes` : parsed.retryOn;
    if (parsed.codes.length > 0) out['retriable_status_codes'] = parsed.codes;
  }
  if (retries.perTryTimeout !== undefined) out['per_try_timeout'] = envoyDuration(durationMs(retries.perTryTimeout), scale);
  if (retries.retryIgnorePreviousHosts !== undefined) {
    if (retries.retryIgnorePreviousHosts) out['retry_host_predicate'] = [PREVIOUS_HOSTS];
    else delete out['retry_host_predicate'];
  }
  if (retries.retryRemoteLocalities === true) out['retry_priority'] = PREVIOUS_PRIORITIES;
  if (retries.backoff !== undefined) out['retry_back_off'] = { base_interval: envoyDuration(durationMs(retries.backoff), scale) };
  return out as JsonObject;
}

function fraction(percentage: { value?: number } | undefined, percent: number | undefined): JsonObject | undefined {
  if (percentage !== undefined) return { numerator: Math.trunc((percentage.value ?? 0) * 10_000), denominator: 'MILLION' };
  if (percent !== undefined && percent !== 0) return { numerator: percent, denominator: 'HUNDRED' };
  return undefined;
}

/** istiod TranslateFault; undefined when nothing is injected. */
export function faultConfig(fault: HttpFaultInjection | undefined, scale: number, notes: RenderNote[], where: string): JsonObject | undefined {
  if (fault === undefined) return undefined;
  const out: Record<string, unknown> = { '@type': FAULT_TYPE };
  const d = fault.delay;
  if (d !== undefined) {
    if (d.fixedDelay !== undefined) {
      const pct = fraction(d.percentage, d.percent);
      out['delay'] = { fixed_delay: envoyDuration(durationMs(d.fixedDelay), scale), ...(pct === undefined ? {} : { percentage: pct }) };
    } else if (d.exponentialDelay !== undefined) {
      notes.push({ message: `${where}: fault.delay.exponentialDelay is not supported by Istio; the delay is dropped` });
    }
  }
  const a = fault.abort;
  if (a !== undefined) {
    const pct = fraction(a.percentage, undefined);
    if (a.httpStatus !== undefined) out['abort'] = { http_status: a.httpStatus, ...(pct === undefined ? {} : { percentage: pct }) };
    else if (a.grpcStatus !== undefined) {
      const code = GRPC_CODES.indexOf(a.grpcStatus);
      if (code >= 0) out['abort'] = { grpc_status: code, ...(pct === undefined ? {} : { percentage: pct }) };
      else notes.push({ message: `${where}: fault.abort.grpcStatus '${a.grpcStatus}' is not a gRPC status name; the abort is dropped` });
    } else if (a.http2Error !== undefined) notes.push({ message: `${where}: fault.abort.http2Error is not rendered; the abort is dropped` });
  }
  return out['delay'] === undefined && out['abort'] === undefined ? undefined : (out as JsonObject);
}

function stringMatch(m: StringMatch, ignoreCase = false): JsonObject {
  const base = m.exact !== undefined ? { exact: m.exact } : m.prefix !== undefined ? { prefix: m.prefix } : { safe_regex: { regex: m.regex ?? '' } };
  return ignoreCase ? { ...base, ignore_case: true } : base;
}

function routeMatch(m: HttpMatchRequest | undefined): JsonObject {
  const uri = m?.uri;
  const path = uri === undefined ? { prefix: '/' } : uri.exact !== undefined ? { path: uri.exact } : uri.prefix !== undefined ? { prefix: uri.prefix } : { safe_regex: { regex: uri.regex ?? '' } };
  const headers: JsonObject[] = [];
  if (m?.method !== undefined) headers.push({ name: ':method', string_match: stringMatch(m.method) });
  if (m?.authority !== undefined) headers.push({ name: ':authority', string_match: stringMatch(m.authority) });
  for (const [name, value] of Object.entries(m?.headers ?? {})) headers.push({ name, string_match: stringMatch(value) });
  return { ...path, ...(m?.ignoreUriCase === true ? { case_sensitive: false } : {}), ...(headers.length === 0 ? {} : { headers }) };
}

function routeAction(r: HttpRoute, ctx: RouteContext): JsonObject | undefined {
  const targets: { name: string; weight: number }[] = [];
  for (const d of r.route ?? []) {
    if (d.destination.subset !== undefined) ctx.notes.push({ message: `${ctx.where}: subset '${d.destination.subset}' is not rendered; all endpoints of the host are used` });
    const cluster = ctx.clusterFor(d.destination.host, d.destination.port?.number ?? ctx.port);
    if (cluster === undefined) {
      ctx.notes.push({ message: `${ctx.where}: destination ${d.destination.host} is not a service of the topology; the route is left out` });
      continue;
    }
    targets.push({ name: cluster, weight: d.weight ?? (r.route?.length === 1 ? 100 : 0) });
  }
  if (targets.length === 0) return undefined;
  const single = targets.length === 1 ? targets[0] : undefined;
  const retry = retryPolicy(r.retries ?? ctx.meshDefaultRetry, ctx.scale);
  return {
    ...(single !== undefined ? { cluster: single.name } : { weighted_clusters: { clusters: targets.filter((t) => t.weight > 0) } }),
    timeout: r.timeout === undefined ? '0s' : envoyDuration(durationMs(r.timeout), ctx.scale),
    ...(retry === undefined ? {} : { retry_policy: retry }),
  };
}

/** The routes of one destination service port: its VirtualService's, or Istio's default route. */
export function outboundRoutes(httpRoutes: readonly HttpRoute[], defaultCluster: string, ctx: RouteContext): JsonObject[] {
  if (httpRoutes.length === 0) {
    const retry = retryPolicy(ctx.meshDefaultRetry, ctx.scale);
    return [{ name: 'default', match: { prefix: '/' }, route: { cluster: defaultCluster, timeout: '0s', ...(retry === undefined ? {} : { retry_policy: retry }) } }];
  }
  const routes: JsonObject[] = [];
  httpRoutes.forEach((r, i) => {
    const where = `${ctx.where} http[${i}]`;
    const action = routeAction(r, { ...ctx, where });
    if (action === undefined) return;
    const fault = faultConfig(r.fault, ctx.scale, ctx.notes, where);
    const matches = (r.match ?? [undefined]).filter((m) => m?.port === undefined || m.port === ctx.port);
    for (const m of matches) {
      routes.push({
        ...(r.name === undefined ? {} : { name: r.name }),
        match: routeMatch(m),
        route: action,
        ...(fault === undefined ? {} : { typed_per_filter_config: { [FAULT_FILTER]: fault } }),
      });
    }
  });
  return routes;
}
