/**
 * Screenshot of a compliance report for the README: the top of the page (verdicts, run facts,
 * findings and the first table), as Chromium renders it.
 * Usage: sh scripts/node.sh scripts/screenshot-report.ts [report.html] [out.png]
 * (defaults: reports/latest/index.html, docs/report.png). Needs Debian's chromium (setup.sh).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { projectRoot } from '../harness/project-root.ts';

const html = resolve(process.argv[2] ?? join(projectRoot, 'reports/latest/index.html'));
const out = resolve(process.argv[3] ?? join(projectRoot, 'docs/report.png'));
if (!existsSync(html)) {
  process.stderr.write(`screenshot-report: ${html} does not exist; run ./bin/meshproof run first\n`);
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env['MESHPROOF_CHROMIUM'] ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1700 } });
  await page.goto(pathToFileURL(html).href);
  await page.screenshot({ path: out });
  process.stdout.write(`wrote ${out} from ${html}\n`);
} finally {
  await browser.close();
}
