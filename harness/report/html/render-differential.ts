/**
 * index.html of a differential run: the data planes side by side. One column per data plane for
 * every case's outcome and every promise's verdict, then each probe on which the data planes
 * observed something different (the disagreements: findings even where every data plane passed
 * its own checks), then those whose decision agreed but whose details (alerts, flags) did not.
 * Each data plane's full report is linked. Self-contained, under the same Content-Security-Policy
 * as the single-data-plane report.
 */
import { readFileSync } from 'node:fs';
import type { DifferentialReport, ProbeDifference } from '../differential.ts';
import { formatMs, html, renderToString } from './h.ts';
import { CONTENT_SECURITY_POLICY } from './render-html.ts';

const CSS = readFileSync(new URL('./report.css', import.meta.url), 'utf8');

function DifferenceTable({ rows, planes, empty }: { rows: readonly ProbeDifference[]; planes: readonly string[]; empty: string }) {
  if (rows.length === 0) return html`<p class="sub">${empty}</p>`;
  return html`<table class="differences">
    <thead><tr><th>case</th><th>probe</th>${planes.map((p) => html`<th>${p}</th>`)}</tr></thead>
    <tbody>
      ${rows.map((r) => html`<tr><td class="mono small">${r.case}</td><td class="mono small">${r.probe}</td>${planes.map((p) => html`<td class="small">${r.observed[p] ?? '—'}</td>`)}</tr>`)}
    </tbody>
  </table>`;
}

function Page({ d }: { d: DifferentialReport }) {
  const planes = d.dataPlanes.map((p) => p.info.name);
  const areas = [...new Set(d.cases.map((c) => c.area))];
  return html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta http-equiv="Content-Security-Policy" content=${CONTENT_SECURITY_POLICY} />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>${`meshproof differential report ${d.run.id}`}</title>
      <style dangerouslySetInnerHTML=${{ __html: CSS }}></style>
    </head>
    <body>
      <header>
        <h1>meshproof differential report</h1>
        <div class="sub">run <span class="mono">${d.run.id}</span> · ${d.run.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} · ${formatMs(d.run.durationMs)}</div>
        <div class="meta">
          <div><b>data planes</b>${d.dataPlanes.map((p) => `${p.info.name} ${p.info.version}`).join(' · ')}</div>
          <div><b>seed</b><span class="mono">${d.run.seed}</span></div>
          <div><b>time scale</b>${d.run.timeScale}</div>
          <div><b>suites</b>${d.run.suites.join(', ')}</div>
        </div>
        <p>The same cases, seed and time scale on each data plane. <b id="disagreement-count">${d.disagreements.length}</b> of ${d.probesCompared} probes were observed differently (the decision); ${d.detailDifferences.length} more differ only in details.</p>
      </header>
      <section id="verdicts-by-plane">
        <h2>Verdicts</h2>
        <table>
          <thead><tr><th>promise</th>${planes.map((p) => html`<th>${p}</th>`)}</tr></thead>
          <tbody>
            ${(d.dataPlanes[0]?.verdicts ?? []).map(
              (v) => html`<tr><td>${v.promise}</td>${d.dataPlanes.map((p) => {
                const mine = p.verdicts.find((x) => x.area === v.area);
                return html`<td><span class=${`badge v-${mine?.result ?? 'not-run'}`}>${mine?.result ?? 'not-run'}</span> <span class="small sub">${mine?.summary ?? ''}</span></td>`;
              })}</tr>`,
            )}
          </tbody>
        </table>
        <p class="small">Full reports: ${d.dataPlanes.map((p, i) => html`${i > 0 ? ' · ' : ''}<a href=${`${p.report}/index.html`}>${p.info.name}</a>`)}</p>
      </section>
      <section id="cases-by-plane">
        <h2>Cases</h2>
        ${areas.map(
          (area) => html`<h3>${area}</h3>
            <table>
              <thead><tr><th>case</th>${planes.map((p) => html`<th>${p}</th>`)}</tr></thead>
              <tbody>
                ${d.cases
                  .filter((c) => c.area === area)
                  .map((c) => {
                    const differ = new Set(Object.values(c.outcomes)).size > 1;
                    return html`<tr class=${differ ? 'differs' : ''}><td class="mono small">${c.shortName}</td>${planes.map((p) => html`<td><span class=${`badge o-${c.outcomes[p] ?? 'skipped'}`}>${c.outcomes[p] ?? 'not run'}</span></td>`)}</tr>`;
                  })}
              </tbody>
            </table>`,
        )}
      </section>
      <section id="disagreements">
        <h2>Disagreements (${d.disagreements.length})</h2>
        <p class="small sub">Probes on which the data planes decided differently: what the client got, whether the app received it, the identity it was told. At most one reading can be Istio's.</p>
        <${DifferenceTable} rows=${d.disagreements} planes=${planes} empty="None: every probe was decided alike on every data plane." />
      </section>
      <section id="detail-differences">
        <h2>Same decision, different details (${d.detailDifferences.length})</h2>
        <${DifferenceTable} rows=${d.detailDifferences} planes=${planes} empty="None." />
      </section>
      ${d.knownDifferences.length === 0
        ? ''
        : html`<section id="known-differences">
            <h2>Known differences, kept (${d.knownDifferences.length})</h2>
            <p class="small sub">Tried live on both data planes and kept, with the reason. A run shows them where its probes meet them.</p>
            <table>
              <thead><tr><th>situation</th><th>envoy</th><th>reference</th><th>why kept</th></tr></thead>
              <tbody>
                ${d.knownDifferences.map((k) => html`<tr><td class="small">${k.situation}</td><td class="small">${k.envoy}</td><td class="small">${k.reference}</td><td class="small">${k.note}</td></tr>`)}
              </tbody>
            </table>
          </section>`}
    </body>
  </html>`;
}

export function renderDifferentialHtml(d: DifferentialReport): string {
  return `<!DOCTYPE html>\n${renderToString(html`<${Page} d=${d} />`)}\n`;
}
