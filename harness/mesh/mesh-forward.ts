/**
 * Load from inside a pod, as the resilience suite drives it: N requests with a concurrency and
 * a rate, sent by the source pod's echo agent (its forwarder) to its own sidecar, as its app
 * would, and each request's result with the response flags its sidecar reported
 * (`x-meshproof-response-flags`, Envoy's `%RESPONSE_FLAGS%` as a response header), plus the
 * sidecar's access-log lines and what each destination app received meanwhile.
 */
import { REQUEST_INDEX_HEADER } from '../traffic/echo-report.ts';
import type { AccessLogEntry, EchoReport, ForwardResult } from '../traffic/types.ts';
import type { MeshCall } from './mesh-call.ts';

/** The request to repeat is a MeshCall's (HTTP only); `timeoutMs` limits each request (default timeouts.probe). */
export interface MeshForward extends Pick<MeshCall, 'to' | 'port' | 'method' | 'path' | 'headers' | 'body' | 'timeoutMs'> {
  readonly count: number;
  /** Requests in flight at once (default 1). */
  readonly concurrency?: number;
  /** Starts at most this many requests per second (default: as fast as concurrency allows). */
  readonly ratePerSecond?: number;
  /** Reuse connections to the sidecar (default true), as an app's HTTP client would. */
  readonly keepAlive?: boolean;
  /** Limit for the whole forward (default: the rate's duration plus a probe timeout per request per connection). */
  readonly deadlineMs?: number;
}

export interface MeshForwardResult extends ForwardResult {
  /** The client sidecar's response flags (`-`, `UO`, `UH`, `UF,URX`, …); absent when it sent none (no sidecar in the path). */
  readonly responseFlags?: string;
  /**
   * How long the client sidecar took over the request (its access log's %DURATION%), where its
   * timers run: free of the client app's own scheduling. Absent when its log lines could not be
   * paired with the results one to one.
   */
  readonly sidecarDurationMs?: number;
}

/**
 * The client sidecar's duration for each result, from its outbound access-log lines: paired in
 * order, only when requests went one at a time (the log is in the order they ended) and there is
 * one line per result with the same status (0 in the log for a request that got no response).
 * Otherwise the results come back as they were.
 */
export function withSidecarDurations(results: readonly MeshForwardResult[], outboundLog: readonly AccessLogEntry[], concurrency: number): readonly MeshForwardResult[] {
  if (concurrency !== 1 || outboundLog.length !== results.length) return results;
  const statusOf = (r: MeshForwardResult): number => (r.outcome === 'response' ? (r.status ?? 0) : 0);
  if (results.some((r, i) => statusOf(r) !== outboundLog[i]!.status)) return results;
  return results.map((r, i) => ({ ...r, sidecarDurationMs: outboundLog[i]!.durationMs }));
}

/** One request a destination app received: an attempt of the forward's request `index` (undefined: not one of the forward's). */
export interface ForwardReceipt {
  readonly pod: string;
  readonly index: number | undefined;
}

/** Which of a forward's requests an app's record is (its index header), or undefined. */
export function requestIndexOf(report: Pick<EchoReport, 'headers'>): number | undefined {
  const raw = report.headers[REQUEST_INDEX_HEADER];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** The pods whose apps received request `index`, one entry per attempt (the apps' records, in each pod's order). */
export function receiptsOf(forward: Pick<MeshForwardEvidence, 'receipts'>, index: number): string[] {
  return forward.receipts.filter((r) => r.index === index).map((r) => r.pod);
}

export interface MeshForwardEvidence {
  /** `order-client GET /pay/1 ×200 → payment-service:80`. */
  readonly label: string;
  readonly from: string;
  readonly to: string;
  /** Epoch ms when the forwarder began; results' startedAtMs count from here. */
  readonly startedAt: number;
  readonly results: readonly MeshForwardResult[];
  /** How many requests each destination pod's app received during the forward (retries included). */
  readonly received: Readonly<Record<string, number>>;
  /** Every request the destination apps received during the forward, each as its app recorded it: which pod, and which of the forward's requests it was (its index header). */
  readonly receipts: readonly ForwardReceipt[];
  /** The source sidecar's access-log lines written during the forward (outbound). */
  readonly accessLog: readonly AccessLogEntry[];
}

/** The flags each result's header carries, counted (`{ '-': 180, UO: 20 }`). */
export function countFlags(results: readonly MeshForwardResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.responseFlags ?? (r.outcome === 'response' ? '?' : r.outcome);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/**
 * A default deadline for a forward: its rate's duration, plus one request timeout per request a
 * connection carries. A count below 1, a rate or request timeout not above 0 is refused here: it
 * used to make a negative deadline that the agent client only rejected as an out-of-range
 * `delay` of AbortSignal.timeout, far from the arithmetic that made it.
 */
export function forwardDeadline(spec: Pick<MeshForward, 'count' | 'concurrency' | 'ratePerSecond'>, requestTimeoutMs: number): number {
  if (!Number.isInteger(spec.count) || spec.count < 1) throw new RangeError(`a forward sends at least 1 request (a whole number), got count ${spec.count}`);
  if (spec.ratePerSecond !== undefined && !(spec.ratePerSecond > 0)) throw new RangeError(`a forward's rate must be above 0 per second, got ${spec.ratePerSecond}`);
  if (!(requestTimeoutMs > 0)) throw new RangeError(`a forward's request timeout must be above 0 ms, got ${requestTimeoutMs}`);
  const perConnection = Math.ceil(spec.count / Math.max(1, spec.concurrency ?? 1));
  const paced = spec.ratePerSecond === undefined ? 0 : (spec.count * 1000) / spec.ratePerSecond;
  return Math.ceil(paced + Math.min(perConnection, 20) * requestTimeoutMs + 5_000);
}
