/**
 * buildReport: the compliance report from the cases' results (CaseResult, as `case:end` carries
 * them) and what is known about the run. Pure: the same inputs give the same report; the clock,
 * the host and the data plane's self-description all come in through `RunDescription`.
 *
 * - evidence goes through sanitizeEvidence (no PEM, no keys, credential headers removed);
 * - attachments named in ReportAttachments are validated against report.schema.json and
 *   gathered into the report's cross-case views; a malformed or unknown attachment becomes a
 *   finding instead (so a suite's typo is visible, and never breaks the report);
 * - verdicts and exit code follow verdict.ts.
 */
import type { CaseResult } from '../conformance/case-runner.ts';
import type { Area } from '../spec/features.ts';
import type { CaseOutcome } from '../spec/outcome.ts';
import { replayCommand, type RunOptions } from '../spec/run.ts';
import { validateDefinition } from './report-validator.ts';
import { sanitizeEvidence, scrubPem } from './sanitize-evidence.ts';
import { REPORT_API_VERSION, type AreaSummary, type AttachmentName, type AuthzMatrixCell, type CaseReport, type ConformanceReport, type EjectionTimeline, type ExperimentJournal, type Finding, type MetricSample, type RuleCoverage, type TlsCheckRow, type WireRow } from './schema.ts';
import type { DataPlaneInfo } from '../spec/data-plane.ts';
import { AREAS, countOutcomes, verdictFor } from './verdict.ts';

/** A suite file the run was asked for and could not load. */
export interface MissingSuite {
  readonly area: Area;
  readonly file: string;
  /** Why it could not be loaded; default: it does not exist. */
  readonly reason?: string;
}

export interface RunDescription {
  readonly id: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly options: RunOptions;
  readonly toolVersion: string;
  readonly host: { readonly platform: string; readonly node: string };
  /** What the data plane says about itself; default: the name from the options, version unknown. */
  readonly dataPlane?: DataPlaneInfo;
  readonly runtime?: { readonly kind: string; readonly engineVersion?: string };
  readonly missingSuites?: readonly MissingSuite[];
  /** Other reasons the run is incomplete (a suite's setup failing outside any case, …). */
  readonly incomplete?: readonly string[];
  /** Run-level findings (e.g. from the static --expect check). */
  readonly findings?: readonly Finding[];
}

/** Which attachment becomes which definition of report.schema.json, and whether it is a list. */
const ATTACHMENT_SHAPES: Readonly<Record<AttachmentName, { readonly definition: string; readonly list: boolean }>> = {
  tlsCheck: { definition: 'tlsCheckRow', list: true },
  wire: { definition: 'wireRow', list: true },
  authzMatrix: { definition: 'authzMatrixCell', list: true },
  ruleCoverage: { definition: 'ruleCoverage', list: true },
  ejectionTimeline: { definition: 'ejectionTimeline', list: false },
  experiment: { definition: 'experimentJournal', list: false },
  metrics: { definition: 'metricSample', list: true },
};

const isAttachmentName = (name: string): name is AttachmentName => Object.hasOwn(ATTACHMENT_SHAPES, name);

interface Gathered {
  tlsCheck: TlsCheckRow[];
  wire: WireRow[];
  authzMatrix: AuthzMatrixCell[];
  ruleCoverage: RuleCoverage[];
  ejectionTimelines: EjectionTimeline[];
  experiments: ExperimentJournal[];
  findings: Finding[];
}

/** Timelines and journals name their case; a case that left it out gets its own name filled in. */
function withCase(value: unknown, shortName: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !('case' in value) ? { case: shortName, ...value } : value;
}

/** The valid attachments of one case; each invalid one is reported as a finding. */
function gatherAttachments(result: CaseResult, into: Gathered): MetricSample[] {
  const metrics: MetricSample[] = [];
  for (const [name, raw] of Object.entries(result.attachments)) {
    const where = { case: result.shortName, area: result.area };
    if (!isAttachmentName(name)) {
      into.findings.push({ ...where, text: `attachment '${name}' is not shown in the report (known: ${Object.keys(ATTACHMENT_SHAPES).join(', ')})` });
      continue;
    }
    const shape = ATTACHMENT_SHAPES[name];
    const items = shape.list ? raw : [withCase(raw, result.shortName)];
    if (!Array.isArray(items)) {
      into.findings.push({ ...where, text: `attachment '${name}' must be a list of ${shape.definition}, got ${typeof raw}; it is left out of the report` });
      continue;
    }
    items.forEach((item: unknown, index) => {
      const problems = validateDefinition(shape.definition, item);
      if (problems.length > 0) {
        const at = shape.list ? `[${index}]` : '';
        into.findings.push({ ...where, text: `attachment '${name}'${at} does not match ${shape.definition} in report.schema.json (${problems.slice(0, 3).join('; ')}); it is left out of the report` });
        return;
      }
      switch (name) {
        case 'tlsCheck':
          into.tlsCheck.push(item as TlsCheckRow);
          break;
        case 'wire':
          into.wire.push(scrubWireRow(item as WireRow));
          break;
        case 'authzMatrix':
          into.authzMatrix.push(item as AuthzMatrixCell);
          break;
        case 'ruleCoverage':
          into.ruleCoverage.push(item as RuleCoverage);
          break;
        case 'ejectionTimeline':
          into.ejectionTimelines.push(item as EjectionTimeline);
          break;
        case 'experiment':
          into.experiments.push(item as ExperimentJournal);
          break;
        case 'metrics':
          metrics.push(item as MetricSample);
          break;
      }
    });
  }
  return metrics;
}

/** Wire rows are redacted where they are made (harness/wire/excerpt.ts); their free text is scrubbed of PEM here too. */
function scrubWireRow(row: WireRow): WireRow {
  return { ...row, ...(row.excerpt === undefined ? {} : { excerpt: scrubPem(row.excerpt) }), ...(row.note === undefined ? {} : { note: scrubPem(row.note) }) };
}

function scrubOutcome(outcome: CaseOutcome): CaseOutcome {
  switch (outcome.status) {
    case 'failed':
    case 'error':
      return { ...outcome, message: scrubPem(outcome.message) };
    case 'skipped':
      return { ...outcome, reason: scrubPem(outcome.reason) };
    default:
      return outcome;
  }
}

function caseReport(result: CaseResult, metrics: readonly MetricSample[]): CaseReport {
  return {
    shortName: result.shortName,
    description: result.description,
    area: result.area,
    features: result.features,
    manifests: result.manifests,
    outcome: scrubOutcome(result.outcome),
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    checks: result.checks,
    evidence: result.evidence.map(sanitizeEvidence),
    metrics,
    findings: result.findings.map(scrubPem),
  };
}

/** Why an area has no case: not asked for, or its suite file is missing. */
function notRunReason(area: Area, options: RunOptions, missing: readonly MissingSuite[]): string | undefined {
  if (!options.suites.includes(area)) return `not selected (--suite ${options.suites.join(',')})`;
  const m = missing.find((x) => x.area === area);
  return m === undefined ? undefined : `the suite file ${m.file} ${m.reason ?? 'does not exist'}`;
}

export function buildReport(results: readonly CaseResult[], run: RunDescription): ConformanceReport {
  const { options } = run;
  const missing = run.missingSuites ?? [];
  const gathered: Gathered = { tlsCheck: [], wire: [], authzMatrix: [], ruleCoverage: [], ejectionTimelines: [], experiments: [], findings: [...(run.findings ?? [])] };
  const cases: CaseReport[] = [];
  for (const result of results) {
    const metrics = gatherAttachments(result, gathered);
    cases.push(caseReport(result, metrics));
  }
  const caseFindings = cases.flatMap((c) => c.findings.map((text) => ({ case: c.shortName, area: c.area, text })));

  const verdicts = AREAS.map((area) => verdictFor(area, cases.filter((c) => c.area === area), notRunReason(area, options, missing)));
  const shownAreas = AREAS.filter((area) => options.suites.includes(area) || cases.some((c) => c.area === area));
  const areas: AreaSummary[] = shownAreas.map((area) => {
    const inArea = cases.filter((c) => c.area === area);
    return { area, ...countOutcomes(inArea), failedCases: inArea.filter((c) => c.outcome.status === 'failed').map((c) => c.shortName) };
  });

  const incomplete = [...missing.map((m) => `suite file ${m.file} ${m.reason ?? 'does not exist'}: the ${m.area} promise was not tested`), ...(run.incomplete ?? [])];
  const dataPlane: DataPlaneInfo = run.dataPlane ?? { name: options.dataPlane, version: 'unknown (no suite reported it)', claimedFeatures: [], available: true };

  return {
    apiVersion: REPORT_API_VERSION,
    kind: 'ConformanceReport',
    tool: { name: 'meshproof', version: run.toolVersion },
    run: {
      id: run.id,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      durationMs: Math.max(0, Date.parse(run.finishedAt) - Date.parse(run.startedAt)),
      seed: options.seed,
      timeScale: options.timeScale,
      ...(options.timing === undefined ? {} : { timing: options.timing }),
      suites: options.suites,
      ...(options.grep === undefined ? {} : { grep: options.grep }),
      replayCommand: replayCommand(options),
      host: run.host,
      incomplete,
    },
    dataPlane,
    runtime: run.runtime ?? { kind: 'unknown (no suite reported it)' },
    verdicts,
    areas,
    cases,
    findings: [...gathered.findings, ...caseFindings],
    tlsCheck: gathered.tlsCheck,
    wire: gathered.wire,
    authzMatrix: gathered.authzMatrix,
    ruleCoverage: gathered.ruleCoverage,
    ejectionTimelines: gathered.ejectionTimelines,
    experiments: gathered.experiments,
  };
}
