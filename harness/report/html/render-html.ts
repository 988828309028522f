/**
 * index.html: the whole report in one self-contained file (CSS inline, no fonts, images,
 * scripts or styles fetched). A Content-Security-Policy in the page forbids every network
 * load and every script except the one below (by hash), so even a rendering mistake could not
 * turn traffic data into running code; the renderer escapes all of it in the first place.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConformanceReport, PromiseVerdict } from '../schema.ts';
import { AreaSection } from './case-sections.ts';
import { ChangeView } from './change-view.ts';
import { AuthzMatrix, Experiments, RuleCoverageTable, TlsCheckTable } from './cross-views.ts';
import { EjectionTimelines } from './ejection-timeline-svg.ts';
import { WireTable } from './wire-table.ts';
import { formatMs, html, renderToString } from './h.ts';

const CSS = readFileSync(new URL('./report.css', import.meta.url), 'utf8');

/** Opens every evidence block before printing, so the printout holds all of it. */
const PRINT_SCRIPT = "addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true})});";
const PRINT_SCRIPT_HASH = createHash('sha256').update(PRINT_SCRIPT).digest('base64');

export const CONTENT_SECURITY_POLICY = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${PRINT_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'`;

const RESULT_LABEL: Readonly<Record<PromiseVerdict['result'], string>> = {
  success: 'holds',
  partial: 'holds for what ran',
  failure: 'broken',
  error: 'unknown (infrastructure)',
  'not-run': 'not run',
};

function Verdicts({ verdicts }: { verdicts: readonly PromiseVerdict[] }) {
  return html`<section class="verdicts" id="verdicts">
    ${verdicts.map(
      (v) => html`<div class=${`verdict v-${v.result}`} data-area=${v.area} data-result=${v.result}>
        <div class="result">${RESULT_LABEL[v.result]}</div>
        <div class="promise">${v.promise}</div>
        <div>${v.summary}</div>
        <div class="counts">${v.passed} passed · ${v.failed} failed · ${v.skipped} skipped · ${v.notSupported} not supported · ${v.error} error</div>
      </div>`,
    )}
  </section>`;
}

function Header({ report }: { report: ConformanceReport }) {
  const { run, dataPlane } = report;
  return html`<header>
    <h1>meshproof compliance report</h1>
    <div class="sub">run <span class="mono">${run.id}</span> · ${run.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} · ${formatMs(run.durationMs)}</div>
    <div class="meta">
      <div><b>data plane</b>${dataPlane.name} ${dataPlane.version}${dataPlane.available ? '' : ` (unavailable: ${dataPlane.unavailableReason ?? 'no reason given'})`}</div>
      <div><b>runtime</b>${report.runtime.kind}${report.runtime.engineVersion === undefined ? '' : ` ${report.runtime.engineVersion}`}</div>
      <div><b>seed</b><span class="mono">${run.seed}</span></div>
      <div><b>time scale</b>${run.timeScale} <span class="sub small">(a 30 s policy duration lasted ${formatMs(30_000 * run.timeScale)}${run.timing === undefined ? '' : run.timing.timeScaleFrom === 'jitter' ? '; chosen from the measured jitter' : '; given'})</span></div>
      ${run.timing === undefined ? '' : html`<div><b>timing</b>timer lateness at the start p99 ${run.timing.startJitter.p99Ms} ms, max ${run.timing.startJitter.maxMs} ms <span class="sub small">(${run.timing.reason})</span></div>`}
      <div><b>suites</b>${run.suites.join(', ')}${run.grep === undefined ? '' : ` (grep ${run.grep})`}</div>
      <div><b>meshproof</b>${report.tool.version} · ${run.host.platform} · node ${run.host.node}</div>
    </div>
    <details class="small">
      <summary>features the data plane claims (${dataPlane.claimedFeatures.length})</summary>
      <div class="mono small">${dataPlane.claimedFeatures.join(', ') || 'none reported'}</div>
    </details>
  </header>`;
}

function Findings({ report }: { report: ConformanceReport }) {
  if (report.findings.length === 0) return null;
  return html`<section id="findings">
    <h2>Findings</h2>
    <ul>${report.findings.map((f) => html`<li>${f.case === undefined ? null : html`<span class="mono">${f.case}</span>: `}${f.text}</li>`)}</ul>
  </section>`;
}

function Page({ report }: { report: ConformanceReport }) {
  const areas = report.areas.map((summary) => ({ summary, verdict: report.verdicts.find((v) => v.area === summary.area), cases: report.cases.filter((c) => c.area === summary.area) }));
  return html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta http-equiv="Content-Security-Policy" content=${CONTENT_SECURITY_POLICY} />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="generator" content=${`meshproof ${report.tool.version} (${report.apiVersion})`} />
      <title>${`meshproof report ${report.run.id}`}</title>
      <style dangerouslySetInnerHTML=${{ __html: CSS }}></style>
      <script dangerouslySetInnerHTML=${{ __html: PRINT_SCRIPT }}></script>
    </head>
    <body>
      <${Header} report=${report} />
      ${report.run.incomplete.length === 0
        ? null
        : html`<div class="banner" id="incomplete"><b>This run is incomplete.</b><ul>${report.run.incomplete.map((i) => html`<li>${i}</li>`)}</ul></div>`}
      <${ChangeView} change=${report.change} />
      <${Verdicts} verdicts=${report.verdicts} />
      <section class="replay" id="replay">
        <div class="small sub">Replay this run (same seed, time scale, data plane and cases):</div>
        <pre>${report.run.replayCommand}</pre>
      </section>
      <${Findings} report=${report} />
      ${areas.map((a) => html`<${AreaSection} summary=${a.summary} verdict=${a.verdict} cases=${a.cases} />`)}
      <${TlsCheckTable} rows=${report.tlsCheck} />
      <${WireTable} rows=${report.wire ?? []} />
      <${AuthzMatrix} cells=${report.authzMatrix} />
      <${RuleCoverageTable} rows=${report.ruleCoverage} />
      <${EjectionTimelines} timelines=${report.ejectionTimelines} />
      <${Experiments} journals=${report.experiments} />
      <footer>
        ${report.apiVersion} ConformanceReport · the same data as report.json and junit.xml beside this file · certificates are shown by SHA-256 fingerprint only; keys and PEM never enter a report.
      </footer>
    </body>
  </html>`;
}

export function renderHtml(report: ConformanceReport): string {
  return `<!doctype html>\n${renderToString(html`<${Page} report=${report} />`)}\n`;
}
