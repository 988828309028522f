/**
 * One VirtualService HTTP route, validated as Istio's validateHTTPRoute does (virtualservice.go
 * and validation.go, Istio 1.30.3): what the route does (route, redirect, direct response,
 * delegate), its matches, header manipulation, CORS, fault injection, mirrors, retries, rewrite,
 * destinations and timeout (istio-semantics.md §4).
 */
import type { HttpFaultInjection, HttpRetry, HttpRoute } from '../resources.ts';
import type { FieldPath } from '../source-map.ts';
import type { IssueCollector } from './checks.ts';
import { isDns1123Label } from './hostnames.ts';
import {
  headerMatchNameProblem,
  isAuthorityHeader,
  regexProblem,
  validateDestination,
  validateGatewayNames,
  validateHeaderOperations,
  validatePort,
  validateRouteDestinations,
  validateStringMatch,
} from './route-parts.ts';
import { validateLabels } from './selectors.ts';

/** Envoy x-envoy-retry-on and x-envoy-retry-grpc-on tokens that Istio accepts in retryOn. */
export const RETRY_ON_TOKENS: ReadonlySet<string> = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes',
  'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);
/** Status codes Go's net/http has a text for (http.StatusText): the codes Istio accepts in retryOn. */
const KNOWN_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451,
  500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);
const GRPC_STATUS = new Set([
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
]);
const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*']);
const TCHAR_NAME = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const given = (v: unknown): boolean => v !== undefined && v !== null;

export type RouteKind = 'independent' | 'root' | 'delegate';

function validateConflicts(c: IssueCollector, at: FieldPath, http: HttpRoute, kind: RouteKind): void {
  const name = http.name ?? '';
  if (kind === 'root') {
    if (given(http.redirect)) c.error([...at, 'redirect'], `root HTTP route ${name} must not specify redirect`);
    if (given(http.route)) c.error([...at, 'route'], `root HTTP route ${name} must not specify route`);
    return;
  }
  if (kind === 'delegate' && given(http.delegate)) c.error([...at, 'delegate'], 'delegate HTTP route cannot contain delegate');
  const routes = (http.route?.length ?? 0) > 0;
  if (given(http.redirect)) {
    if (routes) c.error([...at, 'redirect'], 'HTTP route cannot contain both route and redirect');
    if (given(http.fault)) c.error([...at, 'redirect'], 'HTTP route cannot contain both fault and redirect');
    if (given(http.rewrite)) c.error([...at, 'redirect'], 'HTTP route rule cannot contain both rewrite and redirect');
    if (given(http.directResponse)) c.error([...at, 'redirect'], 'HTTP route rule cannot contain both direct_response and redirect');
  } else if (given(http.directResponse)) {
    if (routes) c.error([...at, 'directResponse'], 'HTTP route cannot contain both route and direct_response');
    if (given(http.fault)) c.error([...at, 'directResponse'], 'HTTP route cannot contain both fault and direct_response');
    if (given(http.rewrite)) c.error([...at, 'directResponse'], 'HTTP route rule cannot contain both rewrite and direct_response');
  } else if (!routes) {
    c.error(at, 'HTTP route, redirect or direct_response is required');
  }
  if (given(http.mirror) && (http.mirrors?.length ?? 0) > 0) c.error([...at, 'mirrors'], 'HTTP route cannot contain both mirror and mirrors');
}

function validateMatches(c: IssueCollector, at: FieldPath, http: HttpRoute): void {
  http.match?.forEach((match, j) => {
    if (match === null || typeof match !== 'object') return;
    const m = [...at, 'match', j];
    for (const field of ['headers', 'withoutHeaders'] as const) {
      for (const [name, sm] of Object.entries(match[field] ?? {})) {
        const p = [...m, field, name];
        if (field === 'headers' && (sm === null || sm === undefined)) c.error(p, `header match ${name} cannot be null`);
        const problem = headerMatchNameProblem(name);
        if (problem !== undefined) c.error(p, problem);
        // In withoutHeaders, regex `*` is not a regex: it means "present".
        if (field === 'headers' || sm?.regex !== '*') validateStringMatch(c, p, sm, field);
      }
    }
    validateStringMatch(c, [...m, 'uri'], match.uri, 'uri', { allowEmptyPrefix: true });
    for (const field of ['scheme', 'method', 'authority'] as const) validateStringMatch(c, [...m, field], match[field], field);
    for (const [name, sm] of Object.entries(match.queryParams ?? {})) validateStringMatch(c, [...m, 'queryParams', name], sm, 'queryParams');
    if (match.port !== undefined && match.port !== 0) validatePort(c, [...m, 'port'], match.port);
    validateLabels(c, [...m, 'sourceLabels'], match.sourceLabels);
    validateGatewayNames(c, [...m, 'gateways'], match.gateways);
    if (match.sourceNamespace !== undefined && match.sourceNamespace !== '' && !isDns1123Label(match.sourceNamespace)) c.error([...m, 'sourceNamespace'], `sourceNamespace match ${match.sourceNamespace} is invalid`);
  });
}

function validateCors(c: IssueCollector, at: FieldPath, cors: HttpRoute['corsPolicy']): void {
  if (!given(cors) || cors === undefined) return;
  cors.allowOrigins?.forEach((origin, i) => {
    const value = origin?.exact ?? origin?.prefix ?? origin?.regex ?? '';
    if (value === '') c.error([...at, 'allowOrigins', i], "'' is not a valid match type for CORS allow origins");
    else validateStringMatch(c, [...at, 'allowOrigins', i], { ...(origin?.regex === undefined ? {} : { regex: origin.regex }) }, 'corsPolicy.allowOrigins');
  });
  cors.allowMethods?.forEach((method, i) => {
    if (!CORS_METHODS.has(method)) c.error([...at, 'allowMethods', i], `${JSON.stringify(method)} is not a supported HTTP method`);
  });
  for (const field of ['allowHeaders', 'exposeHeaders'] as const) {
    cors[field]?.forEach((name, i) => {
      if (name === '') c.error([...at, field, i], 'header name cannot be empty');
      else if (name !== '*' && !TCHAR_NAME.test(name)) c.error([...at, field, i], `header name ${name} is not a valid header name`);
    });
  }
  const ms = c.duration([...at, 'maxAge'], cors.maxAge);
  if (ms !== undefined && ms >= 1 && ms % 1000 !== 0) c.error([...at, 'maxAge'], 'max_age duration is accurate only to seconds precision');
}

function validatePercentage(c: IssueCollector, at: FieldPath, pct: { readonly value?: number } | undefined | null): void {
  if (pct === undefined || pct === null) return;
  const v = pct.value ?? 0;
  if (v < 0 || v > 100 || (v > 0 && v < 0.0001)) c.error([...at, 'value'], `percentage ${v} is neither 0.0, nor in range [0.0001, 100.0]`);
}

function validateFault(c: IssueCollector, at: FieldPath, fault: HttpFaultInjection | undefined | null): void {
  if (fault === undefined || fault === null) return;
  if (!given(fault.abort) && !given(fault.delay)) c.error(at, 'HTTP fault injection must have an abort and/or a delay');
  const abort = fault.abort;
  if (given(abort) && abort !== undefined) {
    const p = [...at, 'abort'];
    validatePercentage(c, [...p, 'percentage'], abort.percentage);
    if (given(abort.grpcStatus)) {
      if (!GRPC_STATUS.has(String(abort.grpcStatus))) c.error([...p, 'grpcStatus'], `gRPC status ${JSON.stringify(abort.grpcStatus)} is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'`);
    } else if (given(abort.http2Error)) {
      c.error([...p, 'http2Error'], 'HTTP/2 abort fault injection not supported yet');
    } else if (given(abort.httpStatus)) {
      const s = abort.httpStatus ?? 0;
      if (s < 200 || s > 600) c.error([...p, 'httpStatus'], `HTTP status ${s} is not in range 200-599`);
    } else {
      c.warning(p, 'abort configured, but error type not set', 'set httpStatus or grpcStatus; without one nothing is aborted');
    }
  }
  const delay = fault.delay;
  if (given(delay) && delay !== undefined) {
    const p = [...at, 'delay'];
    validatePercentage(c, [...p, 'percentage'], delay.percentage);
    if (given(delay.fixedDelay)) c.duration([...p, 'fixedDelay'], delay.fixedDelay);
    else if (given(delay.exponentialDelay)) {
      c.duration([...p, 'exponentialDelay'], delay.exponentialDelay);
      c.error([...p, 'exponentialDelay'], 'exponentialDelay not supported yet');
    }
    if (delay.percent !== undefined && (delay.percent < 0 || delay.percent > 100)) c.warning([...p, 'percent'], `percent ${delay.percent} is outside 0..100 (meshproof note: Istio does not check the deprecated percent; use percentage.value)`);
  }
}

function validateRetries(c: IssueCollector, at: FieldPath, retries: HttpRetry | undefined | null): void {
  if (retries === undefined || retries === null) return;
  const attempts = retries.attempts ?? 0;
  if (attempts < 0) c.error([...at, 'attempts'], 'attempts cannot be negative');
  if (attempts === 0 && (given(retries.perTryTimeout) || (retries.retryOn ?? '') !== '' || given(retries.retryRemoteLocalities))) {
    c.error([...at, 'attempts'], 'http retry policy configured when attempts are set to 0 (disabled)', 'attempts: 0 turns retries off: set attempts, or remove perTryTimeout, retryOn and retryRemoteLocalities');
  }
  c.duration([...at, 'perTryTimeout'], retries.perTryTimeout);
  if ((retries.retryOn ?? '') !== '') {
    // Split on ',' only, as Istio does: ' 5xx' (with a space) is not a policy.
    for (const policy of String(retries.retryOn).split(',')) {
      const code = /^[+-]?\d+$/.test(policy) ? Number(policy) : 0;
      if (!KNOWN_STATUS.has(code) && !RETRY_ON_TOKENS.has(policy)) {
        c.error([...at, 'retryOn'], `${JSON.stringify(policy)} is not a valid retryOn policy`, `use ${[...RETRY_ON_TOKENS].join(', ')} or an HTTP status code, separated by ',' without spaces`);
      }
    }
  }
  c.duration([...at, 'backoff'], retries.backoff);
}

function validateRedirectAndResponse(c: IssueCollector, at: FieldPath, http: HttpRoute): void {
  const r = http.redirect;
  if (given(r) && r !== undefined) {
    const p = [...at, 'redirect'];
    if ((r.uri ?? '') === '' && (r.authority ?? '') === '' && !given(r.port) && !given(r.derivePort) && (r.scheme ?? '') === '') c.error(p, 'redirect must specify URI, authority, scheme, or port');
    else if (r.redirectCode !== undefined && r.redirectCode !== 0 && (r.redirectCode < 300 || r.redirectCode > 399)) c.error([...p, 'redirectCode'], `${r.redirectCode} is not a valid redirect code, must be 3xx`);
    else if ((r.scheme ?? '') !== '' && r.scheme !== 'http' && r.scheme !== 'https') c.error([...p, 'scheme'], 'invalid redirect scheme, must be "http" or "https"');
    else if ((r.port ?? 0) > 0) validatePort(c, [...p, 'port'], r.port);
  }
  const d = http.directResponse;
  if (given(d) && d !== undefined) {
    const p = [...at, 'directResponse'];
    const body = d.body?.string ?? (d.body?.bytes === undefined ? '' : Buffer.from(d.body.bytes, 'base64').toString('latin1'));
    const size = d.body?.string === undefined ? body.length : Buffer.byteLength(body);
    if (size > 1024 * 1024) c.error([...p, 'body'], 'large direct_responses may impact control plane performance, must be less than 1MB');
    else if (size > 100 * 1024) c.warning([...p, 'body'], 'large direct_responses may impact control plane performance');
    const status = d.status ?? 0;
    if (status < 200 || status > 600) c.error([...p, 'status'], `HTTP status ${status} is not in range 200-599`);
  }
}

function validateMirrors(c: IssueCollector, at: FieldPath, http: HttpRoute): void {
  const legacy = http.mirrorPercent ?? http.mirror_percent;
  if (legacy !== undefined && legacy !== null) {
    const field = http.mirrorPercent === undefined ? 'mirror_percent' : 'mirrorPercent';
    if (legacy > 100) c.error([...at, field], `mirror_percent must have a max value of 100 (it has ${legacy})`);
    c.warning([...at, field], 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead');
  }
  const pct = http.mirrorPercentage?.value;
  if (pct !== undefined && pct > 100) c.error([...at, 'mirrorPercentage', 'value'], `mirror_percentage must have a max value of 100 (it has ${pct})`);
  if (pct !== undefined && pct < 0) c.error([...at, 'mirrorPercentage', 'value'], `mirror_percentage must have a min value of 0 (it has ${pct})`);
  validateDestination(c, [...at, 'mirror'], http.mirror);
  http.mirrors?.forEach((mirror, i) => {
    const p = [...at, 'mirrors', i];
    if (mirror === null || typeof mirror !== 'object') return c.error(p, 'mirror cannot be null');
    if (!given(mirror.destination)) return c.error([...p, 'destination'], 'destination is required for mirrors');
    validateDestination(c, [...p, 'destination'], mirror.destination);
    const v = mirror.percentage?.value;
    if (v !== undefined && v > 100) c.error([...p, 'percentage', 'value'], `mirror percentage must have a max value of 100 (it has ${v})`);
    if (v !== undefined && v < 0) c.error([...p, 'percentage', 'value'], `mirror percentage must have a min value of 0 (it has ${v})`);
  });
}

function validateRewrite(c: IssueCollector, at: FieldPath, http: HttpRoute): void {
  const rw = http.rewrite;
  if (given(rw) && rw !== undefined) {
    const p = [...at, 'rewrite'];
    const regex = rw.uriRegexRewrite;
    if ((rw.uri ?? '') !== '' && given(regex)) c.error(p, 'rewrite may only contain one of URI or UriRegexRewrite');
    else if ((rw.uri ?? '') === '' && !given(regex) && (rw.authority ?? '') === '') c.error(p, 'rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified');
    else if (given(regex) && regex !== undefined) {
      if ((regex.match ?? '') === '' || (regex.rewrite ?? '') === '') c.error([...p, 'uriRegexRewrite'], 'UriRegexRewrite has errors: UriRegexRewrite requires both Rewrite and Match fields to be specified');
      else {
        const problem = regexProblem(String(regex.match), 'HTTPRewrite.UriRegexRewrite.Match');
        if (problem !== undefined) c.error([...p, 'uriRegexRewrite', 'match'], `UriRegexRewrite has errors: ${problem}`);
      }
    }
  }
  // validateAuthorityRewrite: `:authority` is set in one place only (rewrite.authority, or one request header).
  let current = rw?.authority ?? '';
  for (const op of ['set', 'add'] as const) {
    for (const [name, value] of Object.entries(http.headers?.request?.[op] ?? {})) {
      if (!isAuthorityHeader(name)) continue;
      if (current !== '') {
        c.error([...at, 'headers', 'request', op, name], `authority header cannot be set multiple times: have ${JSON.stringify(current)}, attempting to set ${JSON.stringify(value)}`);
        return;
      }
      current = String(value);
    }
  }
}

export function validateHttpRoute(c: IssueCollector, at: FieldPath, http: HttpRoute, kind: RouteKind): void {
  validateConflicts(c, at, http, kind);
  validateMatches(c, at, http);
  validateHeaderOperations(c, [...at, 'headers'], http.headers);
  validateCors(c, [...at, 'corsPolicy'], http.corsPolicy);
  validateFault(c, [...at, 'fault'], http.fault);
  validateMirrors(c, at, http);
  validateRedirectAndResponse(c, at, http);
  validateRetries(c, [...at, 'retries'], http.retries);
  validateRewrite(c, at, http);
  validateRouteDestinations(c, [...at, 'route'], http.route);
  c.duration([...at, 'timeout'], http.timeout);
}
