/**
 * Writes a report's three views into `<reportDir>/<run id>/` and refreshes `<reportDir>/latest/`.
 *
 * latest/ is a copy, not a symlink: CI artifact uploads, zip files and Windows checkouts all
 * keep a copy as it is, and three files cost nothing to copy. It is built beside the old one
 * and swapped in with a rename, so a reader never sees a half-written latest/.
 */
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHtml } from './html/render-html.ts';
import { renderJunit } from './junit-xml.ts';
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

  const latest = join(reportDir, 'latest');
  const staging = join(reportDir, `.latest-${report.run.id}`);
  rmSync(staging, { recursive: true, force: true });
  cpSync(dir, staging, { recursive: true });
  rmSync(latest, { recursive: true, force: true });
  renameSync(staging, latest);
  return { dir, latest, files };
}
