/**
 * Writes a report's three views into `<reportDir>/<run id>/` and refreshes `<reportDir>/latest/`.
 *
 * latest/ is a copy, not a symlink: CI artifact uploads, zip files and Windows checkouts all
 * keep a copy as it is, and three files cost nothing to copy. It is built beside the old one
 * and swapped in with a rename, so a reader never sees a half-written latest/.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDifferentialReport, type DifferentialReport } from './differential.ts';
import { renderDifferentialHtml } from './html/render-differential.ts';
import { renderHtml } from './html/render-html.ts';
import { renderJunit, renderJunitMany } from './junit-xml.ts';
import type { ConformanceReport } from './schema.ts';

export const REPORT_FILES = { json: 'report.json', junit: 'junit.xml', html: 'index.html' } as const;

export interface WrittenReport {
  readonly dir: string;
  readonly latest: string;
  readonly files: { readonly json: string; readonly junit: string; readonly html: string };
}

export function renderJson(report: ConformanceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Writes report.json, junit.xml and index.html for one run; returns where. */
export function writeReport(report: ConformanceReport, reportDir: string): WrittenReport {
  const dir = join(reportDir, report.run.id);
  mkdirSync(dir, { recursive: true });
  const files = { json: join(dir, REPORT_FILES.json), junit: join(dir, REPORT_FILES.junit), html: join(dir, REPORT_FILES.html) };
  writeFileSync(files.json, renderJson(report));
  writeFileSync(files.junit, renderJunit(report));
  writeFileSync(files.html, renderHtml(report));

  return { dir, latest: refreshLatest(reportDir, dir, report.run.id), files };
}

/** Replaces `<reportDir>/latest` with a copy of `dir`, built beside it and renamed in. */
function refreshLatest(reportDir: string, dir: string, id: string): string {
  const latest = join(reportDir, 'latest');
  const staging = join(reportDir, `.latest-${id}`);
  rmSync(staging, { recursive: true, force: true });
  cpSync(dir, staging, { recursive: true });
  rmSync(latest, { recursive: true, force: true });
  renameSync(staging, latest);
  return latest;
}

export const DIFFERENTIAL_FILES = { json: 'differential.json', junit: 'junit.xml', html: 'index.html' } as const;

export interface WrittenDifferential {
  readonly dir: string;
  readonly latest: string;
  readonly report: DifferentialReport;
}

/**
 * A differential run's report: each data plane's run folder (`<reportDir>/<run id>-<plane>`)
 * moved into `<reportDir>/<run id>/<plane>/`, and beside them the differential view (index.html,
 * differential.json) and one junit.xml with every data plane's cases. latest/ is refreshed.
 */
export function writeDifferentialReport(reportDir: string, id: string, runs: readonly { readonly plane: string; readonly runDir: string }[]): WrittenDifferential {
  const dir = join(reportDir, id);
  mkdirSync(dir, { recursive: true });
  const reports: { report: ConformanceReport; path: string }[] = [];
  for (const run of runs) {
    const target = join(dir, run.plane);
    if (existsSync(run.runDir)) {
      rmSync(target, { recursive: true, force: true });
      renameSync(run.runDir, target);
    }
    const file = join(target, REPORT_FILES.json);
    if (existsSync(file)) reports.push({ report: JSON.parse(readFileSync(file, 'utf8')) as ConformanceReport, path: run.plane });
  }
  const report = buildDifferentialReport(id, reports);
  writeFileSync(join(dir, DIFFERENTIAL_FILES.json), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, DIFFERENTIAL_FILES.junit), renderJunitMany(id, reports.map((r) => r.report)));
  writeFileSync(join(dir, DIFFERENTIAL_FILES.html), renderDifferentialHtml(report));
  return { dir, latest: refreshLatest(reportDir, dir, id), report };
}
