/**
 * The outlier-detection settings Envoy ends up with for a DestinationRule, with Istio's
 * translation and Envoy's defaults (istio-semantics.md §3 "outlierDetection").
 */
import { durationMs } from '../model/duration.ts';
import type { OutlierDetectionSettings } from '../model/resources.ts';

export interface EffectiveOutlierDetection {
  readonly consecutive5xx: number;
  readonly enforcing5xx: boolean;
  readonly consecutiveGatewayFailure: number;
  readonly enforcingGatewayFailure: boolean;
  readonly splitExternalLocalOriginErrors: boolean;
  readonly consecutiveLocalOriginFailure: number;
  readonly enforcingLocalOriginFailure: boolean;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  /** Envoy max_ejection_time: 300 s, or base_ejection_time if larger (Istio does not set it). */
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  /** healthy_panic_threshold: Istio sets minHealthPercent, default 0 (panic off). */
  readonly panicThresholdPercent: number;
}

const ENVOY_DEFAULT_CONSECUTIVE = 5;
const DEFAULT_INTERVAL_MS = 10_000;
const DEFAULT_BASE_EJECTION_MS = 30_000;
const DEFAULT_MAX_EJECTION_MS = 300_000;
const DEFAULT_MAX_EJECTION_PERCENT = 10;

/** undefined: the DestinationRule has no outlierDetection block, so the cluster has none. */
export function effectiveOutlierDetection(od: OutlierDetectionSettings | undefined): EffectiveOutlierDetection | undefined {
  if (od === undefined) return undefined;
  let consecutive5xx = ENVOY_DEFAULT_CONSECUTIVE;
  let enforcing5xx = true;
  let consecutiveGatewayFailure = ENVOY_DEFAULT_CONSECUTIVE;
  let enforcingGatewayFailure = false;
  // Deprecated consecutiveErrors: istiod listens to gateway errors only and stops 5xx enforcement.
  if (od.consecutiveErrors !== undefined && od.consecutiveErrors > 0) {
    enforcingGatewayFailure = true;
    enforcing5xx = false;
    consecutiveGatewayFailure = od.consecutiveErrors;
  }
  if (od.consecutive5xxErrors !== undefined) {
    consecutive5xx = od.consecutive5xxErrors;
    enforcing5xx = od.consecutive5xxErrors > 0;
  }
  if (od.consecutiveGatewayErrors !== undefined) {
    consecutiveGatewayFailure = od.consecutiveGatewayErrors;
    enforcingGatewayFailure = od.consecutiveGatewayErrors > 0;
  }
  const base = od.baseEjectionTime === undefined ? DEFAULT_BASE_EJECTION_MS : durationMs(od.baseEjectionTime);
  return {
    consecutive5xx,
    enforcing5xx,
    consecutiveGatewayFailure,
    enforcingGatewayFailure,
    splitExternalLocalOriginErrors: od.splitExternalLocalOriginErrors === true,
    consecutiveLocalOriginFailure: od.consecutiveLocalOriginFailures ?? ENVOY_DEFAULT_CONSECUTIVE,
    enforcingLocalOriginFailure: true,
    intervalMs: od.interval === undefined ? DEFAULT_INTERVAL_MS : durationMs(od.interval),
    baseEjectionTimeMs: base,
    maxEjectionTimeMs: Math.max(DEFAULT_MAX_EJECTION_MS, base),
    maxEjectionPercent: od.maxEjectionPercent !== undefined && od.maxEjectionPercent > 0 ? Math.min(100, od.maxEjectionPercent) : DEFAULT_MAX_EJECTION_PERCENT,
    panicThresholdPercent: od.minHealthPercent ?? 0,
  };
}

/** Largest number of hosts that can be ejected at once (Envoy ≥ 1.28: 100*(active+1)/total ≤ max%). */
export function maxEjectedHosts(total: number, maxEjectionPercent: number): number {
  let n = 0;
  while (n < total && (100 * (n + 1)) / total <= maxEjectionPercent) n++;
  return n;
}
