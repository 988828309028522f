/**
 * One request as the client saw it, against what Istio's route makes of it (the oracle's
 * requestOutcome: fault injection, retries, per-try and route timeouts). The oracle is told what
 * each upstream attempt got; the observation says how many attempts there were
 * (`x-envoy-attempt-count`, when the data plane sends it), the status, the client sidecar's
 * response flags, the local-reply body and how long it took.
 */
import { scaleMs, durationMs, formatDuration, requestOutcome, selectRoute, type AttemptResult, type HttpRoute, type MeshForwardResult, type RequestOutcome } from '../../harness/index.ts';

/**
 * The route with its policy durations (timeout, perTryTimeout, retry backoff, fault delay)
 * multiplied by the run's time scale, as the data plane renders them (DESIGN.md "Durations can be
 * scaled"). requestOutcome reads durations from the route and takes no time scale of its own.
 */
export function scaledRoute(route: HttpRoute | undefined, timeScale: number): HttpRoute | undefined {
  if (route === undefined || timeScale === 1) return route;
  const scale = (d: string | undefined): string | undefined => (d === undefined ? undefined : formatDuration(scaleMs(durationMs(d), timeScale)));
  const timeout = scale(route.timeout);
  const retries = route.retries === undefined ? undefined : { ...route.retries, ...(route.retries.perTryTimeout === undefined ? {} : { perTryTimeout: scale(route.retries.perTryTimeout)! }), ...(route.retries.backoff === undefined ? {} : { backoff: scale(route.retries.backoff)! }) };
  const delay = route.fault?.delay;
  const fault = route.fault === undefined ? undefined : { ...route.fault, ...(delay?.fixedDelay === undefined ? {} : { delay: { ...delay, fixedDelay: scale(delay.fixedDelay)! } }) };
  return { ...route, ...(timeout === undefined ? {} : { timeout }), ...(retries === undefined ? {} : { retries }), ...(fault === undefined ? {} : { fault }) };
}

/** The route a POST to `path` on port 80 takes among `routes`, scaled (undefined: Istio's default route). */
export function routeFor(routes: readonly HttpRoute[], path: string, timeScale: number): HttpRoute | undefined {
  return scaledRoute(selectRoute(routes, { method: 'POST', path, port: 80 }), timeScale);
}

export interface RouteExpectation {
  /** The route with durations already scaled (scaledRoute). */
  readonly route: HttpRoute | undefined;
  /** What attempt i got (the last repeats). */
  readonly attempts: readonly AttemptResult[];
  /** 0 ≤ roll < 100: whether a fault with a percentage applies (default: it does). */
  readonly faultRoll?: number;
  /** Scheduling slack for the elapsed-time comparison (ms). */
  readonly slackMs: number;
  /** Compare the attempt count too (default true; the oracle does not predict retry back-off, so a route timeout reached in back-off can cut attempts short). */
  readonly compareAttempts?: boolean;
}

/** Attempts the client sidecar reported; undefined when it sent no count (or sent nothing upstream). */
export function attemptsOf(r: MeshForwardResult): number | undefined {
  const raw = r.headers?.['x-envoy-attempt-count'];
  return raw === undefined ? undefined : Number(raw);
}

const flagSet = (flags: string | undefined): string[] => (flags === undefined || flags === '-' ? [] : flags.split(',')).sort();

/** undefined when the observation is what the oracle says; else what differs, every part of it. */
export function compareWithRoute(observed: MeshForwardResult, expected: RouteExpectation): { readonly outcome: RequestOutcome; readonly error: Error | undefined } {
  const outcome = requestOutcome({ route: expected.route, results: expected.attempts, ...(expected.faultRoll === undefined ? {} : { faultRoll: expected.faultRoll }) });
  const problems: string[] = [];
  if (observed.status !== outcome.status) problems.push(`status ${observed.status ?? observed.outcome}, the oracle says ${outcome.status}`);
  const flags = flagSet(observed.responseFlags);
  if (observed.responseFlags !== undefined && flags.join(',') !== [...outcome.flags].sort().join(',')) problems.push(`flags ${observed.responseFlags}, the oracle says ${outcome.flags.join(',') || '-'}`);
  const attempts = attemptsOf(observed);
  if (attempts !== undefined && expected.compareAttempts !== false && attempts !== outcome.attempts) problems.push(`${attempts} attempts, the oracle says ${outcome.attempts}`);
  if (attempts === undefined && outcome.attempts === 0 && observed.servedBy !== undefined) problems.push(`answered by ${observed.servedBy}, the oracle says no upstream attempt`);
  if (outcome.body !== undefined && !(observed.body ?? '').startsWith(outcome.body)) problems.push(`body '${(observed.body ?? '').slice(0, 60)}', the oracle says '${outcome.body}'`);
  // Where the client sidecar's log gave its own duration, that is where the route's timers ran: judge by it.
  const took = observed.sidecarDurationMs ?? observed.durationMs;
  if (took + expected.slackMs < outcome.elapsedMs) problems.push(`answered after ${took} ms${observed.sidecarDurationMs === undefined ? '' : ' (client sidecar)'}, before the ${outcome.elapsedMs} ms the oracle says it takes at least`);
  return { outcome, error: problems.length === 0 ? undefined : new Error(`${problems.join('; ')} (${outcome.reason})`) };
}
