/**
 * A deterministic simulation of Envoy's outlier detection for one cluster (istio-semantics.md
 * §3 "Exact ejection math"; Envoy outlier_detection_impl.cc, ≥ 1.28):
 * - consecutive-error detection is immediate, on the Nth consecutive error; detection resets
 *   that counter; an already-ejected host is ignored;
 * - cap: eject only if 100*(active+1)/total ≤ max_ejection_percent, else `ejections_overflow`;
 * - on ejection `backoff++` while backoff*base < max+base; the host returns at the first interval
 *   tick with now - lastEjection ≥ min(base*backoff, max) (no jitter); returning resets counters;
 * - at a tick, a healthy host unejected ≥ one interval ago gets backoff-- (down to 0);
 * - routing: healthy% below a non-zero panic threshold → all hosts; no healthy host and
 *   threshold 0 → 503 `no healthy upstream`, flag UH.
 *
 * Durations from the policy are multiplied by `timeScale` (DESIGN.md "Durations can be
 * scaled"); event times and every time in the result are in that scaled (run) time.
 *
 * Local-origin failures (connect failure, timeout, reset) without the split count as HTTP 503,
 * 504 and 503 respectively [derived: Envoy maps them to 503/504 codes; reset → 503 is our reading].
 */
import { scaleMs } from '../model/duration.ts';
import type { OutlierDetectionSettings } from '../model/resources.ts';
import { effectiveOutlierDetection, type EffectiveOutlierDetection } from './outlier-settings.ts';

export type UpstreamResult = number | 'connect-failure' | 'timeout' | 'reset';

export interface OutlierEvent {
  /** Run time in ms. */
  readonly at: number;
  readonly endpoint: number;
  readonly result: UpstreamResult;
}

export type EjectionType = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure';

export interface TimelineEntry {
  readonly at: number;
  readonly endpoint: number;
  readonly kind: 'ejected' | 'unejected' | 'overflow' | 'detected-not-enforced';
  readonly type?: EjectionType;
  /** For `ejected`: how long the host stays out at least, before tick rounding (scaled). */
  readonly ejectionMs?: number;
  /** For `ejected`: the backoff multiplier after this ejection. */
  readonly backoff?: number;
}

export interface RoutedRequest {
  readonly at: number;
  /** The endpoint that served it, or undefined for a 503 UH (no healthy upstream). */
  readonly endpoint?: number;
  readonly result: UpstreamResult | 'no-healthy-upstream';
  readonly panic: boolean;
}

export interface OutlierStats {
  readonly ejectionsActive: number;
  readonly ejectionsEnforcedTotal: number;
  readonly ejectionsOverflow: number;
  readonly ejectionsDetected: Readonly<Record<EjectionType, number>>;
  readonly ejectionsEnforced: Readonly<Record<EjectionType, number>>;
}

export interface OutlierSimulationResult {
  readonly settings: EffectiveOutlierDetection | undefined;
  readonly timeScale: number;
  readonly timeline: readonly TimelineEntry[];
  readonly stats: OutlierStats;
  /** Requests routed by `traffic` (empty when events were given directly). */
  readonly requests: readonly RoutedRequest[];
  /** Which endpoints are ejected at run time `t`. */
  ejectedAt(t: number): number[];
}

export interface OutlierSimulationInput {
  readonly endpoints: number;
  readonly outlierDetection: OutlierDetectionSettings | undefined;
  /** Simulate until this run time (ms). */
  readonly untilMs: number;
  /** Multiplies policy durations; default 1. */
  readonly timeScale?: number;
  /** Results that arrive at given times (the caller decides routing). */
  readonly events?: readonly OutlierEvent[];
  /**
   * Or: requests every `everyMs`, routed round-robin over routable endpoints; `respond` says
   * what the chosen endpoint returns.
   */
  readonly traffic?: { readonly everyMs: number; readonly startMs?: number; readonly respond: (endpoint: number, at: number) => UpstreamResult };
  /**
   * How long after the Nth consecutive error its counter is reset (ms, run time; default 0).
   * Envoy counts on the worker thread that saw the answer and fires only when the count equals N;
   * it posts the detection to its main thread, which resets the counter when it runs it
   * (outlier_detection_impl.cc, onConsecutiveErrorWorker). What the host answers in between counts
   * towards no detection. Simulating the longest such lag gives the fewest detections a busy
   * sidecar can make from the same answers.
   */
  readonly resetLagMs?: number;
}

interface Host {
  ejected: boolean;
  lastEjection: number;
  lastUnejection: number | undefined;
  backoff: number;
  c5xx: number;
  cGateway: number;
  cLocal: number;
  /** Until when (run time) each counter's reset is pending: answers up to then count for nothing. */
  resetAt: Record<EjectionType, number>;
}

const isGateway = (status: number): boolean => status === 502 || status === 503 || status === 504;

export function simulateOutlierDetection(input: OutlierSimulationInput): OutlierSimulationResult {
  const scale = input.timeScale ?? 1;
  const settings = effectiveOutlierDetection(input.outlierDetection);
  const s = settings === undefined ? undefined : { ...settings, intervalMs: scaleMs(settings.intervalMs, scale), baseEjectionTimeMs: scaleMs(settings.baseEjectionTimeMs, scale), maxEjectionTimeMs: scaleMs(settings.maxEjectionTimeMs, scale) };
  const hosts: Host[] = Array.from({ length: input.endpoints }, () => ({ ejected: false, lastEjection: 0, lastUnejection: undefined, backoff: 0, c5xx: 0, cGateway: 0, cLocal: 0, resetAt: { consecutive_5xx: -Infinity, consecutive_gateway_failure: -Infinity, consecutive_local_origin_failure: -Infinity } }));
  const timeline: TimelineEntry[] = [];
  const requests: RoutedRequest[] = [];
  const zero = (): Record<EjectionType, number> => ({ consecutive_5xx: 0, consecutive_gateway_failure: 0, consecutive_local_origin_failure: 0 });
  const detected = zero();
  const enforced = zero();
  let active = 0;
  let overflow = 0;
  let rr = 0;

  const detect = (i: number, type: EjectionType, at: number, enforce: boolean): void => {
    const h = hosts[i];
    if (s === undefined || h === undefined || h.ejected) return;
    if (type === 'consecutive_5xx') h.c5xx = 0;
    else if (type === 'consecutive_gateway_failure') h.cGateway = 0;
    else h.cLocal = 0;
    h.resetAt[type] = at + (input.resetLagMs ?? 0);
    detected[type]++;
    if ((100 * (active + 1)) / input.endpoints > s.maxEjectionPercent) {
      overflow++;
      timeline.push({ at, endpoint: i, kind: 'overflow', type });
      return;
    }
    if (!enforce) {
      timeline.push({ at, endpoint: i, kind: 'detected-not-enforced', type });
      return;
    }
    active++;
    enforced[type]++;
    h.ejected = true;
    h.lastEjection = at;
    if (h.backoff * s.baseEjectionTimeMs < s.maxEjectionTimeMs + s.baseEjectionTimeMs) h.backoff++;
    timeline.push({ at, endpoint: i, kind: 'ejected', type, ejectionMs: Math.min(s.baseEjectionTimeMs * h.backoff, s.maxEjectionTimeMs), backoff: h.backoff });
  };

  const httpCode = (i: number, status: number, at: number): void => {
    const h = hosts[i];
    if (s === undefined || h === undefined) return;
    // Until a pending reset runs, whatever the host answers is wiped by it.
    const counting = (type: EjectionType): boolean => at > h.resetAt[type];
    if (status >= 500 && status <= 599) {
      if (counting('consecutive_gateway_failure')) {
        if (isGateway(status)) {
          if (++h.cGateway === s.consecutiveGatewayFailure) detect(i, 'consecutive_gateway_failure', at, s.enforcingGatewayFailure);
        } else h.cGateway = 0;
      }
      if (counting('consecutive_5xx') && ++h.c5xx === s.consecutive5xx) detect(i, 'consecutive_5xx', at, s.enforcing5xx);
    } else {
      if (counting('consecutive_5xx')) h.c5xx = 0;
      if (counting('consecutive_gateway_failure')) h.cGateway = 0;
    }
  };

  const record = (i: number, result: UpstreamResult, at: number): void => {
    const h = hosts[i];
    if (s === undefined || h === undefined) return;
    if (typeof result === 'number') {
      if (s.splitExternalLocalOriginErrors) h.cLocal = 0;
      httpCode(i, result, at);
      return;
    }
    if (s.splitExternalLocalOriginErrors) {
      if (at > h.resetAt.consecutive_local_origin_failure && ++h.cLocal === s.consecutiveLocalOriginFailure) detect(i, 'consecutive_local_origin_failure', at, s.enforcingLocalOriginFailure);
      return;
    }
    httpCode(i, result === 'timeout' ? 504 : 503, at);
  };

  const tick = (now: number): void => {
    if (s === undefined) return;
    hosts.forEach((h, i) => {
      if (!h.ejected) {
        if (h.lastUnejection !== undefined && now - h.lastUnejection >= s.intervalMs && h.backoff > 0) h.backoff--;
        return;
      }
      if (Math.min(s.baseEjectionTimeMs * h.backoff, s.maxEjectionTimeMs) <= now - h.lastEjection) {
        active--;
        h.ejected = false;
        h.c5xx = 0;
        h.cGateway = 0;
        h.cLocal = 0;
        h.lastUnejection = now;
        timeline.push({ at: now, endpoint: i, kind: 'unejected' });
      }
    });
  };

  const route = (at: number): void => {
    const t = input.traffic;
    if (t === undefined) return;
    const healthy = hosts.map((h, i) => (h.ejected ? -1 : i)).filter((i) => i >= 0);
    const threshold = s?.panicThresholdPercent ?? 0;
    const panic = threshold > 0 && (100 * healthy.length) / input.endpoints < threshold;
    const pool = panic ? hosts.map((_, i) => i) : healthy;
    if (pool.length === 0) {
      requests.push({ at, result: 'no-healthy-upstream', panic });
      return;
    }
    const endpoint = pool[rr++ % pool.length] ?? 0;
    const result = t.respond(endpoint, at);
    requests.push({ at, endpoint, result, panic });
    record(endpoint, result, at);
  };

  // Merge ticks, given events and generated requests in time order (ticks first at equal times).
  const items: { at: number; order: number; run: () => void }[] = [];
  if (s !== undefined) for (let t = s.intervalMs; t <= input.untilMs; t += s.intervalMs) items.push({ at: t, order: 0, run: () => tick(t) });
  for (const e of input.events ?? []) items.push({ at: e.at, order: 1, run: () => record(e.endpoint, e.result, e.at) });
  if (input.traffic !== undefined) {
    for (let t = input.traffic.startMs ?? 0; t <= input.untilMs; t += input.traffic.everyMs) {
      const at = t;
      items.push({ at, order: 2, run: () => route(at) });
    }
  }
  items.sort((a, b) => a.at - b.at || a.order - b.order);
  for (const item of items) item.run();

  const frozen = [...timeline];
  return {
    settings,
    timeScale: scale,
    timeline: frozen,
    stats: { ejectionsActive: active, ejectionsEnforcedTotal: Object.values(enforced).reduce((a, b) => a + b, 0), ejectionsOverflow: overflow, ejectionsDetected: detected, ejectionsEnforced: enforced },
    requests,
    ejectedAt(t: number): number[] {
      const state = new Set<number>();
      for (const e of frozen) {
        if (e.at > t) break;
        if (e.kind === 'ejected') state.add(e.endpoint);
        if (e.kind === 'unejected') state.delete(e.endpoint);
      }
      return [...state].sort((a, b) => a - b);
    },
  };
}
