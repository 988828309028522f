/**
 * junit.xml: the report as JUnit XML, which CI systems show natively. One <testsuite> per area
 * (named after its promise), one <testcase> per case:
 *   passed         an empty testcase
 *   skipped        <skipped message="reason"/>
 *   not-supported  <skipped message="not supported by this data plane: features"/>
 *   failed         <failure message="…" type="ConformanceFailure">message and the evidence</failure>
 *   error          <error message="…" type="<error code>">message</error>
 * An incomplete run (a missing suite file, …) adds a "meshproof run" testsuite with one <error>
 * per reason, so CI never shows it green. Built with xmlbuilder2, which escapes every value and
 * replaces characters XML 1.0 cannot carry (traffic may contain any byte).
 * Validates against harness/report/junit/jenkins-junit.xsd (see the README there).
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type { CaseReport, ConformanceReport, EvidenceReport } from './schema.ts';

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function firstLine(text: string, limit = 300): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > limit ? `${line.slice(0, limit)}…` : line;
}

function describeEvidence(e: EvidenceReport): string {
  const client = `${e.client.outcome}${e.client.status === undefined ? '' : ` ${e.client.status}`}${e.client.tls?.alert === undefined ? '' : ` (alert: ${e.client.tls.alert})`}${e.client.error === undefined ? '' : ` (${e.client.error.code})`}`;
  const server = !e.server.observed ? 'not observed' : e.server.received.length === 0 ? 'nothing' : e.server.received.map((r) => `${r.method} ${r.path} at ${r.pod}${r.peerIdentity === undefined ? '' : ` from ${r.peerIdentity}`}`).join(', ');
  const flags = e.accessLog.map((l) => `${l.pod} ${l.direction} ${l.status} ${l.responseFlags}${l.responseCodeDetails === undefined ? '' : ` ${l.responseCodeDetails}`}`);
  return [`${e.label}`, `  client saw: ${client}`, `  app received: ${server}`, ...flags.map((f) => `  access log: ${f}`)].join('\n');
}

function addCase(suite: XMLBuilder, c: CaseReport, classname: string): void {
  const tc = suite.ele('testcase', { name: c.shortName, classname, time: seconds(c.durationMs) });
  const outcome = c.outcome;
  switch (outcome.status) {
    case 'passed':
      break;
    case 'skipped':
      tc.ele('skipped', { message: outcome.reason });
      break;
    case 'not-supported':
      tc.ele('skipped', { message: `not supported by this data plane: ${outcome.features.join(', ')}` });
      break;
    case 'error':
      tc.ele('error', { message: firstLine(outcome.message), type: outcome.code }).txt(outcome.hint === undefined ? outcome.message : `${outcome.message}\nhint: ${outcome.hint}`);
      break;
    case 'failed':
      tc.ele('failure', { message: firstLine(outcome.message), type: 'ConformanceFailure' }).txt([outcome.message, '', ...c.evidence.map(describeEvidence)].join('\n'));
      break;
  }
  const out = [c.description, ...c.findings.map((f) => `note: ${f}`), ...(outcome.status === 'failed' ? [] : c.evidence.map(describeEvidence))];
  tc.ele('system-out').txt(out.join('\n'));
}

interface Totals {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

/** One testsuite per area of `report` (names and class names prefixed with the data plane in a differential run). */
function appendReport(root: XMLBuilder, report: ConformanceReport, total: Totals, plane?: string): void {
  const prefix = plane === undefined ? '' : `${plane} · `;
  const pkg = (area: string): string => (plane === undefined ? `meshproof.${area}` : `meshproof.${plane}.${area}`);
  for (const summary of report.areas) {
    const verdict = report.verdicts.find((v) => v.area === summary.area);
    const cases = report.cases.filter((c) => c.area === summary.area);
    const counts = { tests: cases.length, failures: summary.failed, errors: summary.error, skipped: summary.skipped + summary.notSupported };
    total.tests += counts.tests;
    total.failures += counts.failures;
    total.errors += counts.errors;
    total.skipped += counts.skipped;
    const suite = root.ele('testsuite', {
      name: `${prefix}${summary.area}: ${verdict?.promise ?? summary.area}`,
      tests: String(counts.tests),
      failures: String(counts.failures),
      errors: String(counts.errors),
      skipped: String(counts.skipped),
      time: seconds(cases.reduce((sum, c) => sum + c.durationMs, 0)),
      timestamp: report.run.startedAt.replace(/\.\d+Z$/, 'Z'),
      package: pkg(summary.area),
    });
    const props = suite.ele('properties');
    const property = (name: string, value: string) => props.ele('property', { name, value });
    property('verdict', `${verdict?.result ?? 'not-run'}: ${verdict?.summary ?? ''}`);
    property('seed', String(report.run.seed));
    property('timeScale', String(report.run.timeScale));
    property('dataPlane', `${report.dataPlane.name} ${report.dataPlane.version}`);
    property('replay', report.run.replayCommand);
    for (const c of cases) addCase(suite, c, pkg(summary.area));
  }
  if (report.run.incomplete.length > 0) {
    const suite = root.ele('testsuite', { name: `${prefix}meshproof run`, tests: String(report.run.incomplete.length), failures: '0', errors: String(report.run.incomplete.length), skipped: '0', time: '0.000', package: pkg('run') });
    report.run.incomplete.forEach((reason, i) => {
      suite.ele('testcase', { name: `incomplete-${i + 1}`, classname: pkg('run'), time: '0.000' }).ele('error', { message: firstLine(reason), type: 'MESHPROOF_RUN_INCOMPLETE' }).txt(reason);
    });
    total.tests += report.run.incomplete.length;
    total.errors += report.run.incomplete.length;
  }
}

export function renderJunit(report: ConformanceReport): string {
  const total: Totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' });
  const root = doc.ele('testsuites', { name: `meshproof ${report.run.id}`, time: seconds(report.run.durationMs) });
  appendReport(root, report, total);
  root.att({ tests: String(total.tests), failures: String(total.failures), errors: String(total.errors) });
  return doc.end({ prettyPrint: true });
}

/** A differential run as one JUnit document: every data plane's suites, named after it. */
export function renderJunitMany(id: string, reports: readonly ConformanceReport[]): string {
  const total: Totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '\uFFFD' });
  const root = doc.ele('testsuites', { name: `meshproof ${id}`, time: seconds(reports.reduce((n, r) => n + r.run.durationMs, 0)) });
  for (const r of reports) appendReport(root, r, total, r.dataPlane.name);
  root.att({ tests: String(total.tests), failures: String(total.failures), errors: String(total.errors) });
  return doc.end({ prettyPrint: true });
}
