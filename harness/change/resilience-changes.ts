/**
 * What a change does to resilience, as consequences a reviewer can read: "payment-service: an
 * endpoint returning 5xx is now ejected after 3 errors instead of 5; ejected for 60 s instead of
 * 30 s; at most 1 of 4 endpoints out at once instead of 2".
 *
 * Per service port, the settings a caller's sidecar ends up with on each side are compared, with
 * Istio's and Envoy's defaults filled in (istio-semantics.md §3, §4; the outbound oracle's
 * effectiveOutlierDetection, maxEjectedHosts and effectiveRetryPolicy): outlier detection and the
 * connection pool of the DestinationRule the caller's namespace sees (a DestinationRule is looked
 * up from the caller's namespace first), and per VirtualService route the retries, the timeout and
 * fault injection.
 */
import { durationMs } from '../model/duration.ts';
import { destinationFor, policyRef, type ResolvedDestination, type ResolvedMesh } from '../model/resolve.ts';
import type { ConnectionPoolSettings, HttpFaultInjection, HttpRoute } from '../model/resources.ts';
import { effectiveOutlierDetection, maxEjectedHosts, type EffectiveOutlierDetection } from '../oracle/outlier-settings.ts';
import { effectiveRetryPolicy, type EffectiveRetryPolicy } from '../oracle/retry-outcome.ts';
import type { ResilienceAspect, ResilienceChange } from './change-review.ts';

/** A clause and which way it moves: -1 looser (less protection or enforcement), +1 stricter, 0 neither. */
interface Clause {
  readonly text: string;
  readonly way: -1 | 0 | 1;
}

/** `250 ms`, `30 s`, `1.5 s`, `2 min`, `1 h`. */
export function plainDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

const way = (looserWhen: boolean): -1 | 1 => (looserWhen ? -1 : 1);

// ---------------------------------------------------------------- outlier detection

function outlierClauses(a: EffectiveOutlierDetection | undefined, b: EffectiveOutlierDetection | undefined, endpoints: number): Clause[] {
  const cap = (o: EffectiveOutlierDetection): number => maxEjectedHosts(endpoints, o.maxEjectionPercent);
  const detectors = (o: EffectiveOutlierDetection): string => {
    const parts = [...(o.enforcing5xx ? [`${o.consecutive5xx} consecutive 5xx`] : []), ...(o.enforcingGatewayFailure ? [`${o.consecutiveGatewayFailure} consecutive 502/503/504`] : [])];
    return parts.join(' or ') || 'nothing (every detector off)';
  };
  if (a === undefined && b === undefined) return [];
  if (a === undefined && b !== undefined) {
    return [{ text: `failing endpoints are now ejected: after ${detectors(b)}, for ${plainDuration(b.baseEjectionTimeMs)} at first, at most ${cap(b)} of ${endpoints} endpoint(s) out at once (there was no outlier detection)`, way: 1 }];
  }
  if (a !== undefined && b === undefined) {
    return [{ text: `outlier detection is removed: a failing endpoint is never ejected and keeps its share of requests (it was ejected after ${detectors(a)})`, way: -1 }];
  }
  const x = a as EffectiveOutlierDetection;
  const y = b as EffectiveOutlierDetection;
  const out: Clause[] = [];
  const counter = (what: string, onA: boolean, nA: number, onB: boolean, nB: number): void => {
    if (onA && onB && nA !== nB) out.push({ text: `an endpoint returning ${what} is now ejected after ${nB} consecutive errors instead of ${nA}`, way: way(nB > nA) });
    else if (onA && !onB) out.push({ text: `${what} no longer eject an endpoint (it took ${nA} in a row)`, way: -1 });
    else if (!onA && onB) out.push({ text: `an endpoint returning ${what} is now ejected after ${nB} consecutive errors (they did not eject before)`, way: 1 });
  };
  counter('5xx', x.enforcing5xx, x.consecutive5xx, y.enforcing5xx, y.consecutive5xx);
  counter('502/503/504', x.enforcingGatewayFailure, x.consecutiveGatewayFailure, y.enforcingGatewayFailure, y.consecutiveGatewayFailure);
  if (x.splitExternalLocalOriginErrors !== y.splitExternalLocalOriginErrors || (y.splitExternalLocalOriginErrors && x.consecutiveLocalOriginFailure !== y.consecutiveLocalOriginFailure)) {
    out.push({
      text: y.splitExternalLocalOriginErrors
        ? `local-origin failures (connect failures, timeouts, resets) now count apart: ${y.consecutiveLocalOriginFailure} in a row eject an endpoint`
        : 'local-origin failures (connect failures, timeouts, resets) now count as 5xx again',
      way: 0,
    });
  }
  if (x.baseEjectionTimeMs !== y.baseEjectionTimeMs) out.push({ text: `an ejected endpoint stays out for ${plainDuration(y.baseEjectionTimeMs)} instead of ${plainDuration(x.baseEjectionTimeMs)} (first ejection; each further one in a row lasts longer)`, way: way(y.baseEjectionTimeMs < x.baseEjectionTimeMs) });
  if (x.intervalMs !== y.intervalMs) out.push({ text: `ejections are swept every ${plainDuration(y.intervalMs)} instead of ${plainDuration(x.intervalMs)} (an endpoint returns only at a sweep)`, way: 0 });
  const ca = cap(x);
  const cb = cap(y);
  if (ca !== cb) {
    const text =
      cb === 0
        ? `no endpoint can be ejected any more: maxEjectionPercent ${y.maxEjectionPercent}% of ${endpoints} endpoint(s) is under one (it allowed ${ca})`
        : `at most ${cb} of ${endpoints} endpoint(s) out at once instead of ${ca} (maxEjectionPercent ${y.maxEjectionPercent}% instead of ${x.maxEjectionPercent}%)`;
    out.push({ text, way: way(cb < ca) });
  }
  if (x.panicThresholdPercent !== y.panicThresholdPercent) {
    const panic = (p: number): string => (p === 0 ? 'off' : `below ${p}% healthy`);
    out.push({ text: `panic mode (requests spread over ejected endpoints too) is ${panic(y.panicThresholdPercent)} instead of ${panic(x.panicThresholdPercent)}`, way: way(y.panicThresholdPercent > x.panicThresholdPercent) });
  }
  return out;
}

// ---------------------------------------------------------------- connection pool

const UNLIMITED = 2 ** 32 - 1;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_MS = 3_600_000;

interface Pool {
  readonly maxConnections: number;
  readonly pending: number;
  readonly inFlight: number;
  readonly perConnection: number;
  readonly maxRetries: number;
  readonly connectTimeoutMs: number;
  readonly tcpIdleMs: number;
  readonly httpIdleMs: number;
  readonly maxConnectionDurationMs: number;
}

/** Istio sets every threshold to 2^32-1 and reads 0 as "default" (istio-semantics.md §3). */
function pool(cp: ConnectionPoolSettings | undefined): Pool {
  const limit = (v: number | undefined): number => (v === undefined || v === 0 ? UNLIMITED : v);
  const duration = (v: string | undefined, fallback: number): number => (v === undefined ? fallback : durationMs(v));
  return {
    maxConnections: limit(cp?.tcp?.maxConnections),
    pending: limit(cp?.http?.http1MaxPendingRequests),
    inFlight: limit(cp?.http?.http2MaxRequests),
    perConnection: cp?.http?.maxRequestsPerConnection ?? 0,
    maxRetries: limit(cp?.http?.maxRetries),
    connectTimeoutMs: duration(cp?.tcp?.connectTimeout, DEFAULT_CONNECT_TIMEOUT_MS),
    tcpIdleMs: duration(cp?.tcp?.idleTimeout, DEFAULT_IDLE_MS),
    httpIdleMs: duration(cp?.http?.idleTimeout, DEFAULT_IDLE_MS),
    maxConnectionDurationMs: duration(cp?.tcp?.maxConnectionDuration, 0),
  };
}

const count = (n: number): string => (n >= UNLIMITED ? 'no limit' : String(n));

function poolClauses(cpa: ConnectionPoolSettings | undefined, cpb: ConnectionPoolSettings | undefined): Clause[] {
  const a = pool(cpa);
  const b = pool(cpb);
  const out: Clause[] = [];
  const limitClause = (what: string, x: number, y: number): void => {
    if (x !== y) out.push({ text: `${what}: ${count(y)} instead of ${count(x)}`, way: way(y > x) });
  };
  limitClause('connections to the service at once', a.maxConnections, b.maxConnections);
  limitClause('requests waiting for a connection', a.pending, b.pending);
  limitClause('requests in flight', a.inFlight, b.inFlight);
  limitClause('retries outstanding at once', a.maxRetries, b.maxRetries);
  if (a.perConnection !== b.perConnection) {
    const per = (n: number): string => (n === 0 ? 'no limit' : n === 1 ? '1 (keep-alive off)' : String(n));
    out.push({ text: `requests per connection: ${per(b.perConnection)} instead of ${per(a.perConnection)}`, way: b.perConnection === 0 ? -1 : a.perConnection === 0 ? 1 : way(b.perConnection > a.perConnection) });
  }
  if (a.connectTimeoutMs !== b.connectTimeoutMs) out.push({ text: `connecting gives up after ${plainDuration(b.connectTimeoutMs)} instead of ${plainDuration(a.connectTimeoutMs)}`, way: way(b.connectTimeoutMs > a.connectTimeoutMs) });
  const idle = (what: string, x: number, y: number): void => {
    const text = (v: number): string => (v === 0 ? 'never' : `after ${plainDuration(v)}`);
    if (x !== y) out.push({ text: `idle ${what} close ${text(y)} instead of ${text(x)}`, way: 0 });
  };
  idle('TCP connections', a.tcpIdleMs, b.tcpIdleMs);
  idle('HTTP connections', a.httpIdleMs, b.httpIdleMs);
  if (a.maxConnectionDurationMs !== b.maxConnectionDurationMs) {
    const text = (v: number): string => (v === 0 ? 'no limit' : plainDuration(v));
    out.push({ text: `a connection lives at most ${text(b.maxConnectionDurationMs)} instead of ${text(a.maxConnectionDurationMs)}`, way: 0 });
  }
  if (out.some((c) => /at once|waiting|in flight/.test(c.text))) out.push({ text: 'past a limit the caller gets 503 with x-envoy-overloaded (UO)', way: 0 });
  return out;
}

// ---------------------------------------------------------------- routes: retries, timeout, fault

function retryText(r: EffectiveRetryPolicy): string {
  if (r.numRetries === 0) return 'no retries';
  const on = [...r.retryOn].filter((t) => t !== 'retriable-status-codes' || r.retriableStatusCodes.size === 0);
  return `up to ${r.numRetries} retr${r.numRetries === 1 ? 'y' : 'ies'} on ${[...on, ...r.retriableStatusCodes].join(',') || 'nothing'}`;
}

function retryClauses(a: EffectiveRetryPolicy, b: EffectiveRetryPolicy): Clause[] {
  const out: Clause[] = [];
  if (a.numRetries !== b.numRetries) {
    out.push({
      text: b.numRetries === 0 ? `retries are now off (${retryText(a)} before): a failed try reaches the caller` : `a failed request is now retried up to ${b.numRetries} time(s) instead of ${a.numRetries}`,
      way: way(b.numRetries < a.numRetries),
    });
  }
  const tokens = (r: EffectiveRetryPolicy): string => [...[...r.retryOn].sort(), ...[...r.retriableStatusCodes].sort()].join(',');
  if (a.numRetries > 0 && b.numRetries > 0 && tokens(a) !== tokens(b)) out.push({ text: `retried on ${retryText(b).replace(/^up to \d+ retr(y|ies) on /, '')} instead of ${retryText(a).replace(/^up to \d+ retr(y|ies) on /, '')}`, way: 0 });
  if (b.numRetries > 0 && a.perTryTimeoutMs !== b.perTryTimeoutMs) {
    const t = (v: number | undefined): string => (v === undefined ? 'the route timeout' : plainDuration(v));
    out.push({ text: `each try times out after ${t(b.perTryTimeoutMs)} instead of ${t(a.perTryTimeoutMs)}`, way: way((b.perTryTimeoutMs ?? Infinity) > (a.perTryTimeoutMs ?? Infinity)) });
  }
  return out;
}

function timeoutOf(route: HttpRoute | undefined): number | undefined {
  const ms = route?.timeout === undefined ? 0 : durationMs(route.timeout);
  return ms === 0 ? undefined : ms;
}

function timeoutClauses(a: number | undefined, b: number | undefined): Clause[] {
  if (a === b) return [];
  if (b === undefined) return [{ text: `the request no longer times out (it did after ${plainDuration(a ?? 0)})`, way: -1 }];
  if (a === undefined) return [{ text: `the whole request now times out after ${plainDuration(b)} (504 UT; there was no timeout)`, way: 1 }];
  return [{ text: `the whole request now times out after ${plainDuration(b)} instead of ${plainDuration(a)} (then 504 UT)`, way: way(b > a) }];
}

function faultText(f: HttpFaultInjection | undefined): string | undefined {
  if (f === undefined) return undefined;
  const pct = (p: { percentage?: { value?: number }; percent?: number } | undefined): number => p?.percentage?.value ?? p?.percent ?? 0;
  const parts = [
    ...(f.delay?.fixedDelay === undefined ? [] : [`delays ${pct(f.delay)}% of requests by ${plainDuration(durationMs(f.delay.fixedDelay))}`]),
    ...(f.abort === undefined ? [] : [`aborts ${pct(f.abort)}% of requests with ${f.abort.httpStatus ?? f.abort.grpcStatus ?? f.abort.http2Error ?? '?'}`]),
  ];
  return parts.length === 0 ? undefined : parts.join(' and ');
}

function faultClauses(a: HttpFaultInjection | undefined, b: HttpFaultInjection | undefined): Clause[] {
  const x = faultText(a);
  const y = faultText(b);
  if (x === y) return [];
  if (y === undefined) return [{ text: `fault injection is removed (it ${x ?? ''})`, way: 0 }];
  if (x === undefined) return [{ text: `the caller's sidecar now ${y} (fault injection; retries and the timeout do not apply to an abort)`, way: 0 }];
  return [{ text: `fault injection now ${y} instead of ${x}`, way: 0 }];
}

// ---------------------------------------------------------------- per service

interface RouteView {
  readonly label: string;
  readonly http?: HttpRoute;
  readonly at?: string;
}

function routesOf(d: ResolvedDestination): RouteView[] {
  const vs = d.virtualService;
  if (vs === undefined || d.httpRoutes.length === 0) return [];
  const at = policyRef(vs).at;
  return d.httpRoutes.map((http, i) => ({ label: http.name === undefined ? `http[${i}]` : `route "${http.name}"`, http, at }));
}

function directionOf(clauses: readonly Clause[]): ResilienceChange['direction'] {
  const ways = new Set(clauses.map((c) => c.way).filter((w) => w !== 0));
  if (ways.size === 0) return 'other';
  if (ways.size === 2) return 'mixed';
  return ways.has(-1) ? 'looser' : 'stricter';
}

function shortService(d: ResolvedDestination): string {
  return `${d.namespace}/${d.name}`;
}

interface Found {
  readonly d: ResolvedDestination;
  readonly port: number;
  readonly aspect: ResilienceAspect;
  readonly clauses: readonly Clause[];
  readonly extra: Pick<ResilienceChange, 'route' | 'callers' | 'baseAt' | 'headAt'>;
}

/** Ports of one service that see the same change are one entry. */
function merge(found: readonly Found[]): ResilienceChange[] {
  const groups = new Map<string, { first: Found; ports: number[] }>();
  for (const f of found) {
    const key = JSON.stringify([f.d.key, f.aspect, f.clauses, f.extra]);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { first: f, ports: [f.port] });
    else g.ports.push(f.port);
  }
  return [...groups.values()].map(({ first, ports }) => {
    const texts = first.clauses.map((c) => c.text);
    const where = `${first.d.name}:${ports.join(',')}${first.extra.route === undefined ? '' : ` ${first.extra.route}`}`;
    return { service: shortService(first.d), ports, aspect: first.aspect, text: `${where}: ${texts.join('; ')}`, clauses: texts, direction: directionOf(first.clauses), ...first.extra };
  });
}

/** Namespaces whose sidecars call services: those of the topology's workloads and in-mesh clients. */
function callerNamespaces(mesh: ResolvedMesh): string[] {
  const out = new Set<string>();
  for (const w of mesh.workloads) out.add(w.namespace);
  for (const c of mesh.clients) if (c.client.sidecar) out.add(c.client.namespace);
  return [...out].sort();
}

export function resilienceChanges(base: ResolvedMesh, head: ResolvedMesh): ResilienceChange[] {
  const out: Found[] = [];
  const callers = callerNamespaces(head);
  for (const db of base.destinations) {
    const dh = head.destinations.find((d) => d.key === db.key);
    if (dh === undefined) continue;
    for (const pb of db.ports) {
      // DestinationRule settings, per caller namespace; callers that see the same are one entry.
      const byText = new Map<string, { clauses: { outlier: Clause[]; pool: Clause[] }; callers: string[]; baseAt?: string; headAt?: string }>();
      for (const ns of callers) {
        const vb = destinationFor(base, db.service, ns);
        const vh = destinationFor(head, dh.service, ns);
        const tb = vb.ports.find((p) => p.port === pb.port)?.trafficPolicy;
        const th = vh.ports.find((p) => p.port === pb.port)?.trafficPolicy;
        const outlier = outlierClauses(effectiveOutlierDetection(tb?.outlierDetection), effectiveOutlierDetection(th?.outlierDetection), db.endpointCount);
        const poolChanges = poolClauses(tb?.connectionPool, th?.connectionPool);
        if (outlier.length === 0 && poolChanges.length === 0) continue;
        const key = JSON.stringify([outlier, poolChanges]);
        const entry = byText.get(key) ?? {
          clauses: { outlier, pool: poolChanges },
          callers: [],
          ...(vb.destinationRule === undefined ? {} : { baseAt: `DestinationRule ${vb.destinationRule.namespace}/${vb.destinationRule.name} (${policyRef(vb.destinationRule).at})` }),
          ...(vh.destinationRule === undefined ? {} : { headAt: `DestinationRule ${vh.destinationRule.namespace}/${vh.destinationRule.name} (${policyRef(vh.destinationRule).at})` }),
        };
        entry.callers.push(ns);
        byText.set(key, entry);
      }
      for (const entry of byText.values()) {
        const who = entry.callers.length === callers.length ? {} : { callers: entry.callers };
        const at = { ...(entry.baseAt === undefined ? {} : { baseAt: entry.baseAt }), ...(entry.headAt === undefined ? {} : { headAt: entry.headAt }) };
        if (entry.clauses.outlier.length > 0) out.push({ d: db, port: pb.port, aspect: 'outlier', clauses: entry.clauses.outlier, extra: { ...who, ...at } });
        if (entry.clauses.pool.length > 0) out.push({ d: db, port: pb.port, aspect: 'pool', clauses: entry.clauses.pool, extra: { ...who, ...at } });
      }
      if (pb.protocol !== 'http') continue;
      // VirtualService routes: retries, timeout, fault. A route one side lacks is Istio's default route there.
      const rb = routesOf(db);
      const rh = routesOf(dh);
      const labels = [...new Set([...rb.map((r) => r.label), ...rh.map((r) => r.label)])];
      if (labels.length === 0) labels.push('default route');
      for (const label of labels) {
        const a = rb.find((r) => r.label === label);
        const b = rh.find((r) => r.label === label);
        const retry = retryClauses(effectiveRetryPolicy(a?.http, base.mesh.defaultHttpRetryPolicy), effectiveRetryPolicy(b?.http, head.mesh.defaultHttpRetryPolicy));
        const timeout = timeoutClauses(timeoutOf(a?.http), timeoutOf(b?.http));
        const fault = faultClauses(a?.http?.fault, b?.http?.fault);
        const at = {
          route: a === undefined && b === undefined ? label : a === undefined ? `${label} (new; was Istio's default route)` : b === undefined ? `${label} (removed; now Istio's default route)` : label,
          ...(a?.at === undefined ? {} : { baseAt: `VirtualService ${db.virtualService?.namespace}/${db.virtualService?.name} (${a.at})` }),
          ...(b?.at === undefined ? {} : { headAt: `VirtualService ${dh.virtualService?.namespace}/${dh.virtualService?.name} (${b.at})` }),
        };
        if (retry.length > 0) out.push({ d: db, port: pb.port, aspect: 'retries', clauses: retry, extra: at });
        if (timeout.length > 0) out.push({ d: db, port: pb.port, aspect: 'timeout', clauses: timeout, extra: at });
        if (fault.length > 0) out.push({ d: db, port: pb.port, aspect: 'fault', clauses: fault, extra: at });
      }
    }
  }
  return merge(out);
}
