/**
 * The outbound half of `meshproof explain` (`--service`): parsing its flags and printing what the
 * outbound oracle says (harness/oracle/outbound.ts) about route, timeout, retries, fault, the
 * client's view of a failure pattern and endpoint ejection.
 */
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { formatDuration, parseDuration } from '../../model/duration.ts';
import type { TrafficPolicy } from '../../model/resources.ts';
import type { OutboundAnswer } from '../../oracle/outbound.ts';
import type { OutlierSimulationResult, UpstreamResult } from '../../oracle/outlier-simulation.ts';
import type { AttemptResult, RequestOutcome } from '../../oracle/retry-outcome.ts';

const bad = (message: string, hint: string): MeshproofError => new MeshproofError(ErrorCode.BadArgument, message, { hint });

export function durationArg(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0) throw bad(`${flag} '${text}' is not a duration`, 'write it like 500ms, 2s or 1m');
  return ms;
}

/** `--upstream 503,503,200@2s,connect-failure,reset@100ms,refused-stream`: what each attempt gets. */
export function parseUpstream(text: string): AttemptResult[] {
  const hint = 'a comma list of HTTP statuses (200, 503@2s for a latency), connect-failure, reset (reset@1s), refused-stream';
  return text.split(',').map((raw) => {
    const item = raw.trim();
    const [what = '', after] = item.split('@');
    const ms = after === undefined ? undefined : durationArg('--upstream', after);
    if (/^\d{3}$/.test(what)) return { kind: 'response', status: Number(what), ...(ms === undefined ? {} : { latencyMs: ms }) };
    if (what === 'reset') return { kind: 'reset', ...(ms === undefined ? {} : { afterMs: ms }) };
    if ((what === 'connect-failure' || what === 'refused-stream') && ms === undefined) return { kind: what };
    throw bad(`--upstream '${item}' is not an attempt result`, hint);
  });
}

/** `--fail-with 503|connect-failure|timeout|reset`. */
export function parseFailWith(text: string): UpstreamResult {
  if (/^\d{3}$/.test(text)) return Number(text);
  if (text === 'connect-failure' || text === 'timeout' || text === 'reset') return text;
  throw bad(`--fail-with '${text}' is not a result`, 'an HTTP status (503), connect-failure, timeout or reset');
}

/** `--rate 10/s` or `--rate 10`: requests per second → ms between requests. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text);
  const perSecond = m === null ? Number.NaN : Number(m[1]);
  if (!(perSecond > 0 && perSecond <= 10_000)) throw bad(`--rate '${text}' is not a rate`, 'requests per second, e.g. 10/s');
  return 1000 / perSecond;
}


const ms = (v: number): string => formatDuration(Math.round(v * 1000) / 1000);

function describePool(tp: TrafficPolicy | undefined): string | undefined {
  const cp = tp?.connectionPool;
  if (cp === undefined) return undefined;
  const parts = [
    ...Object.entries(cp.tcp ?? {}).map(([k, v]) => `tcp.${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`),
    ...Object.entries(cp.http ?? {}).map(([k, v]) => `http.${k} ${String(v)}`),
  ];
  return parts.join(', ');
}

export function formatOutboundAnswer(a: OutboundAnswer, request: { readonly method: string; readonly path: string; readonly from: string }): string {
  const lines = [`ROUTE ${a.destination.key}:${a.port.port} (${a.port.protocol}) from ${request.from}: ${request.method} ${request.path}`];
  if (!a.sidecar) {
    for (const n of a.notes) lines.push(`  note:     ${n}`);
    return lines.join('\n');
  }
  if (a.port.protocol === 'http') {
    if (a.route === undefined) lines.push(`  route:    Istio's default route${a.destination.virtualService === undefined ? ' (no VirtualService for this host)' : ''}`);
    else {
      const r = a.route;
      const match = r.match === undefined ? 'no match conditions' : `match[${r.match}]`;
      lines.push(`  route:    VirtualService ${r.policy.namespace}/${r.policy.name} http[${r.index}]${r.http.name === undefined ? '' : ` "${r.http.name}"`} (${r.policy.at}), ${match}`);
      const dests = (r.http.route ?? []).map((d) => `${d.destination.host}${d.destination.subset === undefined ? '' : ` subset ${d.destination.subset}`}${d.destination.port?.number === undefined ? '' : `:${d.destination.port.number}`}${d.weight === undefined ? '' : ` ${d.weight}%`}`);
      if (dests.length > 0) lines.push(`  to:       ${dests.join(', ')}`);
    }
    lines.push(`  timeout:  ${a.timeoutMs === undefined ? 'none (Istio default: disabled)' : ms(a.timeoutMs)}`);
    const retry = a.retry;
    const on = [...retry.retryOn].filter((t) => t !== 'retriable-status-codes' || retry.retriableStatusCodes.size === 0);
    const codes = [...retry.retriableStatusCodes];
    lines.push(`  retries:  ${retry.numRetries === 0 ? 'none' : `${retry.numRetries} on ${[...on, ...codes].join(',') || 'nothing'}${retry.perTryTimeoutMs === undefined ? '' : `, per try ${ms(retry.perTryTimeoutMs)}`}`} (${retry.source} retry policy)`);
    const f = a.fault;
    const pct = (p: { percentage?: { value?: number }; percent?: number } | undefined): number => p?.percentage?.value ?? p?.percent ?? 0;
    const faults = [
      ...(f?.delay?.fixedDelay === undefined ? [] : [`delay ${f.delay.fixedDelay} for ${pct(f.delay)}%`]),
      ...(f?.abort === undefined ? [] : [`abort ${f.abort.httpStatus ?? f.abort.grpcStatus ?? '?'} for ${pct(f.abort)}%`]),
    ];
    lines.push(`  fault:    ${faults.length === 0 ? 'none' : faults.join(', ')}`);
  }
  lines.push(`  policy:   ${a.destinationRule === undefined ? `no DestinationRule for ${a.destination.host} from namespace ${a.clientNamespace ?? '?'}` : `DestinationRule ${a.destinationRule.namespace}/${a.destinationRule.name} (${a.destinationRule.at})`}`);
  const pool = describePool(a.trafficPolicy);
  if (pool !== undefined) lines.push(`  pool:     ${pool}`);
  const o = a.outlier;
  if (o === undefined) lines.push('  outlier:  none (no outlierDetection: endpoints are never ejected)');
  else {
    const what = [
      ...(o.enforcing5xx ? [`${o.consecutive5xx} consecutive 5xx`] : []),
      ...(o.enforcingGatewayFailure ? [`${o.consecutiveGatewayFailure} consecutive 502/503/504`] : []),
      ...(o.splitExternalLocalOriginErrors ? [`${o.consecutiveLocalOriginFailure} consecutive local-origin failures`] : []),
    ];
    lines.push(`  outlier:  eject after ${what.join(' or ') || 'nothing (all detectors off)'}; sweep every ${ms(o.intervalMs)}; first ejection ${ms(o.baseEjectionTimeMs)} (max ${ms(o.maxEjectionTimeMs)}); at most ${a.maxEjected} of ${a.endpoints} endpoint(s) out at once (maxEjectionPercent ${o.maxEjectionPercent}); panic threshold ${o.panicThresholdPercent}%`);
  }
  for (const n of a.notes) lines.push(`  note:     ${n}`);
  return lines.join('\n');
}

function describeAttempt(r: AttemptResult): string {
  switch (r.kind) {
    case 'response':
      return `${r.status}${r.latencyMs === undefined ? '' : `@${ms(r.latencyMs)}`}`;
    case 'reset':
      return `reset${r.afterMs === undefined ? '' : `@${ms(r.afterMs)}`}`;
    default:
      return r.kind;
  }
}

export function formatOutcome(o: RequestOutcome, results: readonly AttemptResult[]): string {
  const lines = [`CLIENT GETS ${o.status} after ${o.attempts} upstream attempt${o.attempts === 1 ? '' : 's'} (upstream ${results.map(describeAttempt).join(',')})`];
  lines.push(`  why:      ${o.reason}`);
  lines.push(`  flags:    ${o.flags.join(',') || '-'}${o.body === undefined ? '' : `; body "${o.body}"`}`);
  lines.push(`  time:     ${ms(o.elapsedMs)} (retry back-off not counted)`);
  return lines.join('\n');
}

export function formatEjections(sim: OutlierSimulationResult | undefined, pattern: { readonly failing: number; readonly failWith: UpstreamResult; readonly everyMs: number; readonly forMs: number; readonly endpoints: number }): string {
  const head = `EJECTION ${pattern.failing} of ${pattern.endpoints} endpoint(s) answering ${pattern.failWith}, a request every ${ms(pattern.everyMs)} for ${ms(pattern.forMs)}`;
  if (sim === undefined) return `${head}\n  none: the port has no outlierDetection, so failing endpoints keep receiving their share`;
  const lines = [head];
  // Ejections and returns in time order; detections that eject nothing are summed per endpoint below.
  const unenforced = new Map<string, { count: number; first: number; last: number }>();
  for (const e of sim.timeline) {
    const at = ms(e.at).padEnd(8);
    if (e.kind === 'ejected') lines.push(`  ${at}endpoint ${e.endpoint} ejected (${e.type}) for ${ms(e.ejectionMs ?? 0)}, rounded up to the next sweep`);
    else if (e.kind === 'unejected') lines.push(`  ${at}endpoint ${e.endpoint} back`);
    else {
      const key = `endpoint ${e.endpoint}: ${e.type} detected|${e.kind}`;
      const seen = unenforced.get(key);
      unenforced.set(key, seen === undefined ? { count: 1, first: e.at, last: e.at } : { ...seen, count: seen.count + 1, last: e.at });
    }
  }
  if (!sim.timeline.some((e) => e.kind === 'ejected')) lines.push('  no endpoint is ejected');
  for (const [key, { count, first, last }] of unenforced) {
    const [what, kind] = key.split('|');
    const why = kind === 'overflow' ? 'not ejected: maxEjectionPercent reached (ejections_overflow)' : 'not enforced (this detector does not eject)';
    lines.push(`  ${what} ${count}× from ${ms(first)} to ${ms(last)}, ${why}`);
  }
  const count = (test: (r: OutlierSimulationResult['requests'][number]) => boolean): number => sim.requests.filter(test).length;
  const failed = count((r) => r.endpoint !== undefined && r.endpoint < pattern.failing);
  const uh = count((r) => r.result === 'no-healthy-upstream');
  lines.push(`  requests: ${sim.requests.length}: ${failed} reached a failing endpoint, ${uh} got 503 no healthy upstream (UH); ejections_enforced_total ${sim.stats.ejectionsEnforcedTotal}, ejections_overflow ${sim.stats.ejectionsOverflow}`);
  lines.push('  note:     each request is one upstream attempt here (retries are not simulated); unejection happens only at a sweep');
  return lines.join('\n');
}
