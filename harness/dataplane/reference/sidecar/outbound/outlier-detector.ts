/**
 * Outlier detection for one cluster, as Envoy ≥ 1.28 does it (outlier_detection_impl.cc,
 * istio-semantics.md §3 "Exact ejection math"). This is the sidecar's own implementation; the
 * oracle simulates the same rules separately.
 *
 * - Every upstream result is reported per host: an HTTP status, or a local-origin failure. Without
 *   `splitExternalLocalOriginErrors`, a connect failure counts as 503, a timeout as 504 and a
 *   reset as 503 (Envoy putResultNoLocalExternalSplit). With the split, local-origin failures
 *   count only toward consecutive_local_origin_failure.
 * - A 5xx adds to consecutive_5xx; a 502/503/504 also to consecutive_gateway_failure (another
 *   5xx resets that one); anything else resets both. Reaching the threshold exactly is a
 *   detection: the counter resets and, if the host is not ejected already, it is ejected unless
 *   100 × (ejected + 1) / hosts > max_ejection_percent (then `ejections_overflow`), or the type
 *   is not enforced (then detected only).
 * - An ejection increments the host's back-off multiplier while multiplier × base < max + base;
 *   the host returns at the first sweep (every `interval`) at which
 *   now − ejected_at ≥ min(base × multiplier, max). Returning resets its counters. At a sweep,
 *   a host that has been back for at least one interval loses 1 from its multiplier.
 */
import type { OutlierDetectionConfig } from '../../../istiod/outbound-config.ts';

export type EjectionType = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure';
export type LocalOriginFailure = 'connect-failure' | 'timeout' | 'reset';

/** What the detector keeps per host (the host object carries it). */
export interface OutlierState {
  ejected: boolean;
  ejectedAt: number;
  unejectedAt: number | undefined;
  backoff: number;
  ejections: number;
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocal: number;
}

export function freshOutlierState(): OutlierState {
  return { ejected: false, ejectedAt: 0, unejectedAt: undefined, backoff: 0, ejections: 0, consecutive5xx: 0, consecutiveGateway: 0, consecutiveLocal: 0 };
}

export interface OutlierListener<H> {
  detected(host: H, type: EjectionType): void;
  /** `ejectionMs`: how long at least (before sweep rounding). */
  ejected(host: H, type: EjectionType, ejectionMs: number): void;
  overflow(host: H, type: EjectionType): void;
  unejected(host: H): void;
}

const isGateway = (status: number): boolean => status === 502 || status === 503 || status === 504;

export class OutlierDetector<H extends { readonly outlier: OutlierState }> {
  readonly config: OutlierDetectionConfig;
  readonly #hosts: readonly H[];
  readonly #listener: OutlierListener<H>;
  readonly #now: () => number;
  #active = 0;

  constructor(config: OutlierDetectionConfig, hosts: readonly H[], listener: OutlierListener<H>, now: () => number) {
    this.config = config;
    this.#hosts = hosts;
    this.#listener = listener;
    this.#now = now;
  }

  /** Hosts ejected now (Envoy's ejections_active). */
  get ejectionsActive(): number {
    return this.#active;
  }

  putHttpStatus(host: H, status: number): void {
    const s = host.outlier;
    if (this.config.splitExternalLocalOriginErrors) s.consecutiveLocal = 0;
    this.#httpStatus(host, status);
  }

  putLocalOrigin(host: H, failure: LocalOriginFailure): void {
    if (this.config.splitExternalLocalOriginErrors) {
      if (++host.outlier.consecutiveLocal === this.config.consecutiveLocalOriginFailure) this.#detect(host, 'consecutive_local_origin_failure');
      return;
    }
    this.#httpStatus(host, failure === 'timeout' ? 504 : 503);
  }

  #httpStatus(host: H, status: number): void {
    const s = host.outlier;
    const c = this.config;
    if (status >= 500 && status <= 599) {
      if (isGateway(status)) {
        if (++s.consecutiveGateway === c.consecutiveGatewayFailure) this.#detect(host, 'consecutive_gateway_failure');
      } else {
        s.consecutiveGateway = 0;
      }
      if (++s.consecutive5xx === c.consecutive5xx) this.#detect(host, 'consecutive_5xx');
    } else {
      s.consecutive5xx = 0;
      s.consecutiveGateway = 0;
    }
  }

  #detect(host: H, type: EjectionType): void {
    const s = host.outlier;
    if (type === 'consecutive_5xx') s.consecutive5xx = 0;
    else if (type === 'consecutive_gateway_failure') s.consecutiveGateway = 0;
    else s.consecutiveLocal = 0;
    if (s.ejected) return;
    this.#listener.detected(host, type);
    const c = this.config;
    const enforced = type === 'consecutive_5xx' ? c.enforcingConsecutive5xx : type === 'consecutive_gateway_failure' ? c.enforcingConsecutiveGatewayFailure : c.enforcingConsecutiveLocalOriginFailure;
    if ((100 * (this.#active + 1)) / this.#hosts.length > c.maxEjectionPercent) {
      this.#listener.overflow(host, type);
      return;
    }
    if (!enforced) return;
    this.#active += 1;
    s.ejected = true;
    s.ejectedAt = this.#now();
    s.ejections += 1;
    if (s.backoff * c.baseEjectionTimeMs < c.maxEjectionTimeMs + c.baseEjectionTimeMs) s.backoff += 1;
    this.#listener.ejected(host, type, Math.min(c.baseEjectionTimeMs * s.backoff, c.maxEjectionTimeMs));
  }

  /** The interval sweep: returns hosts whose ejection is over, and decays back-off of healthy ones. */
  sweep(): void {
    const now = this.#now();
    const c = this.config;
    for (const host of this.#hosts) {
      const s = host.outlier;
      if (!s.ejected) {
        if (s.unejectedAt !== undefined && now - s.unejectedAt >= c.intervalMs && s.backoff > 0) s.backoff -= 1;
        continue;
      }
      if (Math.min(c.baseEjectionTimeMs * s.backoff, c.maxEjectionTimeMs) <= now - s.ejectedAt) {
        this.#active -= 1;
        s.ejected = false;
        s.unejectedAt = now;
        s.consecutive5xx = 0;
        s.consecutiveGateway = 0;
        s.consecutiveLocal = 0;
        this.#listener.unejected(host);
      }
    }
  }
}

/**
 * Runs `sweep` every `intervalMs` by `now` (the clock the detector compares against), re-armed
 * after each sweep as Envoy arms its interval timer at the end of onIntervalTimer, and never
 * early by that clock: consecutive sweeps are always at least one interval apart on it, so a host
 * unejected at one sweep has been back "for at least one interval" at the next, as in Envoy.
 * (setInterval runs on the event loop's cached whole-millisecond time and may fire a fraction of
 * a millisecond early by performance.now(); the multiplier then stayed up one sweep too long.)
 */
export function startSweeps(sweep: () => void, intervalMs: number, now: () => number): { stop(): void } {
  let due = now() + intervalMs;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    timer = setTimeout(tick, Math.max(1, Math.ceil(due - now())));
    timer.unref();
  };
  const tick = (): void => {
    if (now() < due) return arm();
    sweep();
    due = now() + intervalMs;
    arm();
  };
  arm();
  return { stop: () => clearTimeout(timer) };
}
