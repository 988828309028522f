/**
 * The outbound oracle: what an in-mesh client's sidecar does with a request to a service
 * (istio-semantics.md §3, §4). Which VirtualService route it takes (route-match.ts), the timeout,
 * retry policy and fault that apply (retry-outcome.ts), the DestinationRule and traffic policy of
 * the port as seen from the client's namespace, what the client gets for a sequence of upstream
 * results, and when endpoints are ejected under a failure pattern (outlier-simulation.ts).
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import { durationMs } from '../model/duration.ts';
import { parseIdentity } from '../model/identity.ts';
import { destinationFor, findDestination, policyRef, type PolicyRef, type ResolvedDestination, type ResolvedMesh, type ResolvedServicePort } from '../model/resolve.ts';
import type { HttpFaultInjection, HttpRoute, TrafficPolicy, VirtualService } from '../model/resources.ts';
import type { RequestSource } from './inbound.ts';
import { simulateOutlierDetection, type OutlierSimulationResult, type UpstreamResult } from './outlier-simulation.ts';
import { effectiveOutlierDetection, maxEjectedHosts, type EffectiveOutlierDetection } from './outlier-settings.ts';
import { effectiveRetryPolicy, requestOutcome, type AttemptResult, type EffectiveRetryPolicy, type RequestOutcome } from './retry-outcome.ts';
import { selectRouteIndex } from './route-match.ts';

export interface OutboundRequest {
  /** The caller: its sidecar does the routing (a plaintext client has none). */
  readonly source: RequestSource;
  /** The service called: `namespace/name` or its FQDN. */
  readonly service: string;
  /** Service port. Default: the service's first port. */
  readonly port?: number;
  /** Default GET. */
  readonly method?: string;
  /** As sent, query allowed. Default `/`. */
  readonly path?: string;
  readonly headers?: readonly (readonly [string, string])[];
  /** `:authority`. Default: the service name (with `:port` unless 80). */
  readonly authority?: string;
}

export interface TakenRoute {
  readonly virtualService: VirtualService;
  readonly policy: PolicyRef;
  /** Index in the VirtualService's `http` list. */
  readonly index: number;
  /** The match entry that held; undefined for a route without matches. */
  readonly match: number | undefined;
  readonly http: HttpRoute;
}

export interface OutboundAnswer {
  /** false: a client without a sidecar; nothing below applies to it. */
  readonly sidecar: boolean;
  readonly destination: ResolvedDestination;
  readonly port: ResolvedServicePort;
  readonly clientNamespace?: string;
  /** The VirtualService route taken; undefined: Istio's default route. */
  readonly route?: TakenRoute;
  /** The route timeout; undefined: none (Istio's default). */
  readonly timeoutMs?: number;
  readonly retry: EffectiveRetryPolicy;
  readonly fault?: HttpFaultInjection;
  readonly destinationRule?: PolicyRef;
  /** The port's traffic policy (portLevelSettings merged). */
  readonly trafficPolicy?: TrafficPolicy;
  readonly outlier?: EffectiveOutlierDetection;
  /** Endpoints behind the service (sum of replicas). */
  readonly endpoints: number;
  /** How many can be ejected at once (max_ejection_percent); undefined without outlier detection. */
  readonly maxEjected?: number;
  readonly notes: readonly string[];
}

function parseQuery(path: string): { path: string; query: Record<string, string> } {
  const [beforeFragment = ''] = path.split('#');
  const q = beforeFragment.indexOf('?');
  if (q === -1) return { path: beforeFragment, query: {} };
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(beforeFragment.slice(q + 1))) query[k] ??= v;
  return { path: beforeFragment.slice(0, q), query };
}

export function routeOutbound(mesh: ResolvedMesh, request: OutboundRequest): OutboundAnswer {
  const notes: string[] = [];
  const found = findDestination(mesh, request.service);
  const identity = request.source.kind === 'plaintext' ? undefined : parseIdentity(request.source.identity ?? '');
  const clientNamespace = identity?.namespace;
  const destination = clientNamespace === undefined ? found : destinationFor(mesh, found.service, clientNamespace);
  const port = request.port === undefined ? destination.ports[0] : destination.ports.find((p) => p.port === request.port);
  if (port === undefined) {
    throw new MeshproofError(ErrorCode.BadArgument, `service ${destination.key} has no port ${request.port}`, { hint: `its ports: ${destination.ports.map((p) => p.port).join(', ')}` });
  }
  const base = { destination, port, endpoints: destination.endpointCount, ...(clientNamespace === undefined ? {} : { clientNamespace }) };
  if (request.source.kind !== 'mesh') {
    notes.push('the caller has no sidecar: no VirtualService or DestinationRule applies; the request goes to a service endpoint as sent, with no retries, timeout or outlier detection');
    return { ...base, sidecar: false, retry: { numRetries: 0, retryOn: new Set(), retriableStatusCodes: new Set(), source: 'disabled' }, notes };
  }
  const dr = destination.destinationRule;
  const trafficPolicy = port.trafficPolicy;
  const outlier = effectiveOutlierDetection(trafficPolicy?.outlierDetection);
  const policyPart = {
    ...(dr === undefined ? {} : { destinationRule: policyRef(dr) }),
    ...(trafficPolicy === undefined ? {} : { trafficPolicy }),
    ...(outlier === undefined ? {} : { outlier, maxEjected: maxEjectedHosts(destination.endpointCount, outlier.maxEjectionPercent) }),
  };
  if (port.protocol === 'tcp') {
    notes.push(`port ${port.port} is TCP: HTTP routes, retries, timeouts and faults do not apply; outlier detection counts connection failures`);
    return { ...base, ...policyPart, sidecar: true, retry: { numRetries: 0, retryOn: new Set(), retriableStatusCodes: new Set(), source: 'disabled' }, notes };
  }
  const { path, query } = parseQuery(request.path ?? '/');
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers ?? []) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`;
  }
  const callers = mesh.workloads.filter((w) => w.namespace === clientNamespace && w.serviceAccount === identity?.serviceAccount);
  const sourceLabels = callers.length === 1 ? callers[0]?.labels : undefined;
  const routes = destination.httpRoutes;
  const at = selectRouteIndex(routes, {
    method: request.method ?? 'GET',
    path,
    query,
    headers,
    port: port.port,
    authority: request.authority ?? (port.port === 80 ? destination.name : `${destination.name}:${port.port}`),
    ...(clientNamespace === undefined ? {} : { sourceNamespace: clientNamespace }),
    ...(sourceLabels === undefined ? {} : { sourceLabels }),
  });
  if (sourceLabels === undefined && routes.some((r) => r.match?.some((m) => m.sourceLabels !== undefined))) {
    notes.push(`a route matches on sourceLabels and the caller's labels are not known (no single topology workload runs as ${request.source.identity}): such matches were taken not to hold`);
  }
  const vs = destination.virtualService;
  const http = at === undefined ? undefined : routes[at.route];
  if (vs !== undefined && http === undefined) notes.push(`no route of VirtualService ${vs.namespace}/${vs.name} matches: Istio's default route (no timeout, default retries)`);
  if (http?.delegate !== undefined) notes.push(`the route delegates to ${http.delegate.namespace ?? vs?.namespace}/${http.delegate.name}; meshproof does not follow delegation, so its timeout and retries are not shown`);
  const route = vs !== undefined && http !== undefined && at !== undefined ? { virtualService: vs, policy: policyRef(vs), index: at.route, match: at.match, http } : undefined;
  return {
    ...base,
    ...policyPart,
    sidecar: true,
    ...(route === undefined ? {} : { route }),
    ...(http?.timeout === undefined || durationMs(http.timeout) === 0 ? {} : { timeoutMs: durationMs(http.timeout) }),
    retry: effectiveRetryPolicy(http, mesh.mesh.defaultHttpRetryPolicy),
    ...(http?.fault === undefined ? {} : { fault: http.fault }),
    notes,
  };
}

/** What the client gets when upstream attempt i gets results[i] (the last repeats). */
export function outboundOutcome(mesh: ResolvedMesh, answer: OutboundAnswer, results: readonly AttemptResult[], faultRoll?: number): RequestOutcome {
  return requestOutcome({ route: answer.route?.http, results, ...(mesh.mesh.defaultHttpRetryPolicy === undefined ? {} : { meshDefaultRetryPolicy: mesh.mesh.defaultHttpRetryPolicy }), ...(faultRoll === undefined ? {} : { faultRoll }) });
}

export interface FailurePattern {
  /** Endpoints 0 … failing-1 answer `failWith`; the others answer 200. */
  readonly failing: number;
  readonly failWith: UpstreamResult;
  /** One request every `everyMs`, round-robin over the endpoints not ejected. */
  readonly everyMs: number;
  readonly forMs: number;
}

/** Ejections under a failure pattern (undefined: the port has no outlier detection). */
export function ejections(answer: OutboundAnswer, pattern: FailurePattern): OutlierSimulationResult | undefined {
  if (answer.outlier === undefined) return undefined;
  return simulateOutlierDetection({
    endpoints: answer.endpoints,
    outlierDetection: answer.trafficPolicy?.outlierDetection,
    untilMs: pattern.forMs,
    traffic: { everyMs: pattern.everyMs, respond: (endpoint) => (endpoint < pattern.failing ? pattern.failWith : 200) },
  });
}
