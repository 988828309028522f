/**
 * A differential run: the same suites, seed and time scale on several data planes, one
 * ConformanceReport each, and this view across them. For every case, its outcome on each data
 * plane; for every probe the cases made (matched by case, label and order), what each data plane
 * observed. Two readings of an observation are compared:
 *
 * - the decision: answered (and the status) or rejected before HTTP, and whether the app received
 *   the call. Different decisions are disagreements: a finding even where each data plane passed
 *   its own checks, since at most one of them can be right.
 * - the details: how a rejection looked (a reset or a TLS alert, and which), the identity the app
 *   was told, the response flags and code details in the destination's access log. They differ
 *   between implementations without changing the decision and are listed apart.
 *
 * The tls-check rows and the authorization matrix cells are compared the same way (by key).
 * Pure: reports in, report out.
 */
import { KNOWN_DIFFERENCES, type KnownDifference } from '../dataplane/known-differences.ts';
import type { DataPlaneInfo } from '../spec/data-plane.ts';
import type { Area } from '../spec/features.ts';
import type { CaseOutcome } from '../spec/outcome.ts';
import { REPORT_API_VERSION, type ConformanceReport, type EvidenceReport, type PromiseVerdict } from './schema.ts';

export interface DifferentialReport {
  readonly apiVersion: typeof REPORT_API_VERSION;
  readonly kind: 'DifferentialReport';
  readonly run: { readonly id: string; readonly seed: number; readonly timeScale: number; readonly suites: readonly string[]; readonly startedAt: string; readonly durationMs: number; readonly replayCommand: string };
  /** The data planes compared, in the order they ran, with where each one's full report is (relative). */
  readonly dataPlanes: readonly { readonly info: DataPlaneInfo; readonly report: string; readonly verdicts: readonly PromiseVerdict[] }[];
  readonly cases: readonly { readonly shortName: string; readonly area: Area; readonly outcomes: Readonly<Record<string, CaseOutcome['status']>> }[];
  /** Probes whose decision differs between data planes. */
  readonly disagreements: readonly ProbeDifference[];
  /** Probes with the same decision whose details (alert, flags, code details) differ. */
  readonly detailDifferences: readonly ProbeDifference[];
  /** Probes compared in all (present on every data plane). */
  readonly probesCompared: number;
  /** The differences between the reference sidecar and Envoy known and kept (when both were compared). */
  readonly knownDifferences: readonly KnownDifference[];
}

export interface ProbeDifference {
  readonly case: string;
  /** `order-client POST /pay/1 → payment-service:80`, or a tls-check / matrix key. */
  readonly probe: string;
  /** Data plane name → what it observed. */
  readonly observed: Readonly<Record<string, string>>;
}

/** How a call ended for the client, as a decision: an answer and its status, or refused before HTTP. */
function clientDecision(e: EvidenceReport): string {
  switch (e.client.outcome) {
    case 'response':
      return `response ${e.client.status ?? '?'}`;
    case 'reset':
    case 'tls-error':
    case 'refused':
      return 'rejected before HTTP';
    default:
      return e.client.outcome;
  }
}

/**
 * The decision a call got: answered (with which status) or rejected before HTTP, and whether the
 * app received it. How it was rejected (a reset or a TLS alert), who the app was told called and
 * what the sidecar logged are details: with other calls in flight (steady traffic) the app's
 * records can hold more than this call.
 */
export function decisionOf(e: EvidenceReport): string {
  const client = clientDecision(e);
  if (!e.server.observed) return client;
  return `${client}; ${e.server.received.length === 0 ? 'app saw nothing' : 'app received it'}`;
}

/** How the client saw it end, TLS alert, the identity the app was told, and what the destination's sidecar logged. */
export function detailsOf(e: EvidenceReport): string {
  const raw = e.client.outcome === 'response' ? undefined : e.client.outcome;
  const alert = e.client.tls?.alert === undefined ? undefined : `alert: ${e.client.tls.alert}`;
  const identities = [...new Set(e.server.received.map((r) => r.peerIdentity ?? 'no identity'))];
  const told = identities.length === 0 ? undefined : `app told: ${identities.join(', ')}`;
  const log = e.accessLog.filter((l) => l.direction === 'inbound').map((l) => `${l.responseFlags}${l.responseCodeDetails === undefined ? '' : ` ${l.responseCodeDetails}`}`);
  return [raw, alert, told, ...log.map((l) => `log: ${l}`)].filter((x): x is string => x !== undefined).join('; ') || '-';
}

/** A tls-check cell as a decision: the status, OK, or rejected (how, is a detail). */
function tlsCheckDecision(observed: string): string {
  return /^(handshake rejected|TLS closed|reset|refused|connection)/i.test(observed) ? 'rejected' : observed;
}

interface Observed {
  readonly decision: string;
  readonly details: string;
}

/** Every comparable observation of one report: `case \0 probe key` → what was seen. */
function observations(report: ConformanceReport): Map<string, Observed> {
  const out = new Map<string, Observed>();
  for (const c of report.cases) {
    const seen = new Map<string, number>();
    for (const e of c.evidence) {
      const n = (seen.get(e.label) ?? 0) + 1;
      seen.set(e.label, n);
      out.set(`${c.shortName}\u0000${e.label}${n > 1 ? ` (#${n})` : ''}`, { decision: decisionOf(e), details: detailsOf(e) });
    }
  }
  for (const row of report.tlsCheck) out.set(`tls-check\u0000${row.client} (${row.clientKind}) → ${row.service} [${row.clientMode}]`, { decision: tlsCheckDecision(row.observed), details: row.observed });
  for (const row of report.wire ?? []) out.set(`wire\u0000${row.client} (${row.clientKind}) → ${row.service}`, { decision: row.seen, details: row.tls === undefined ? '-' : `${row.tls.version} ${row.tls.cipherSuite}` });
  for (const cell of report.authzMatrix) out.set(`authz matrix\u0000${cell.source} ${cell.request} → ${cell.destination}`, { decision: cell.observed, details: '-' });
  return out;
}

export function buildDifferentialReport(id: string, reports: readonly { readonly report: ConformanceReport; readonly path: string }[]): DifferentialReport {
  const [first] = reports;
  if (first === undefined) throw new Error('a differential report needs at least one report');
  const names = reports.map((r) => r.report.dataPlane.name);
  const caseNames = [...new Set(reports.flatMap((r) => r.report.cases.map((c) => `${c.area}\u0000${c.shortName}`)))];
  const cases = caseNames.map((key) => {
    const [area, shortName] = key.split('\u0000') as [Area, string];
    const outcomes: Record<string, CaseOutcome['status']> = {};
    for (const r of reports) {
      const found = r.report.cases.find((c) => c.shortName === shortName);
      if (found !== undefined) outcomes[r.report.dataPlane.name] = found.outcome.status;
    }
    return { shortName, area, outcomes };
  });
  const seen = reports.map((r) => observations(r.report));
  const keys = [...seen[0]!.keys()].filter((k) => seen.every((s) => s.has(k)));
  const disagreements: ProbeDifference[] = [];
  const detailDifferences: ProbeDifference[] = [];
  for (const key of keys) {
    const [caseName, probe] = key.split('\u0000') as [string, string];
    const obs = seen.map((s) => s.get(key)!);
    const decide = new Set(obs.map((o) => o.decision));
    const detail = new Set(obs.map((o) => o.details));
    if (decide.size > 1) disagreements.push({ case: caseName, probe, observed: Object.fromEntries(names.map((n, i) => [n, `${obs[i]!.decision}${obs[i]!.details === '-' ? '' : ` [${obs[i]!.details}]`}`])) });
    else if (detail.size > 1) detailDifferences.push({ case: caseName, probe, observed: Object.fromEntries(names.map((n, i) => [n, obs[i]!.details])) });
  }
  const started = reports.map((r) => Date.parse(r.report.run.startedAt));
  const finished = reports.map((r) => Date.parse(r.report.run.finishedAt));
  return {
    apiVersion: REPORT_API_VERSION,
    kind: 'DifferentialReport',
    run: {
      id,
      seed: first.report.run.seed,
      timeScale: first.report.run.timeScale,
      suites: first.report.run.suites,
      startedAt: new Date(Math.min(...started)).toISOString(),
      durationMs: Math.max(...finished) - Math.min(...started),
      replayCommand: first.report.run.replayCommand.replace(/--dataplane \S+/, `--dataplane ${names.join(',')}`),
    },
    dataPlanes: reports.map((r) => ({ info: r.report.dataPlane, report: r.path, verdicts: r.report.verdicts })),
    cases,
    disagreements,
    detailDifferences,
    probesCompared: keys.length,
    knownDifferences: names.includes('reference') && names.includes('envoy') ? KNOWN_DIFFERENCES.filter((k) => k.status === 'kept') : [],
  };
}
