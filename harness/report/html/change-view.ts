/**
 * The report's "change" view (`meshproof diff --report`): what a policy change does to traffic,
 * readable without code. Widening of access first; then the decision matrix of every destination
 * where something changed (each cell coloured by HEAD's decision, a changed cell outlined with
 * "BASE → HEAD"); the changed probes grouped by what decides them on each side, with file:line;
 * ports that change mTLS mode; resilience consequences; intents; what --live observed.
 */
import type { ChangeCause, ChangeDecision, ChangeMatrixCell, ChangeReview, LiveConfirmation } from '../schema.ts';
import { formatMs, html } from './h.ts';

const LABEL: Readonly<Record<ChangeDecision, string>> = { allow: 'allowed', deny: 'denied', unauthenticated: '401 (JWT)', reject: 'rejected', 'bad-request': '400', unknown: 'unknown' };
/** The matrix colours of the authorization view; `unknown` has none of its own. */
const CLASS: Readonly<Record<ChangeDecision, string>> = { allow: 'd-allow', deny: 'd-deny', unauthenticated: 'd-deny', reject: 'd-reject', 'bad-request': 'd-bad-request', unknown: 'd-other' };

function Cause({ cause }: { cause: ChangeCause }) {
  return html`<div>${cause.text}${cause.edit === undefined || cause.edit === 'unchanged' ? null : html` <span class=${`badge edit-${cause.edit}`}>${cause.edit} in HEAD</span>`}</div>
    ${cause.at === undefined ? null : html`<div class="mono small sub">${cause.at}</div>`}
    ${cause.mtls === undefined ? null : html`<div class="small sub">${cause.mtls}</div>`}`;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function MatrixFor({ destination, cells }: { destination: string; cells: readonly ChangeMatrixCell[] }) {
  const sources = unique(cells.map((c) => c.source));
  const requests = unique(cells.map((c) => c.request));
  const at = new Map(cells.map((c) => [`${c.source}\u0000${c.request}`, c]));
  const changed = cells.filter((c) => c.changed).length;
  return html`<h3>${destination} <span class="sub small">${cells.length} probes, <span class="agree-no">${changed} changed</span></span></h3>
    <div class="scroll"><table class="matrix change-matrix">
      <thead><tr><th>caller ↓ / request →</th>${requests.map((r) => html`<th class="col">${r}</th>`)}</tr></thead>
      <tbody>
        ${sources.map(
          (source) => html`<tr>
            <th class="mono small">${source}</th>
            ${requests.map((request) => {
              const cell = at.get(`${source}\u0000${request}`);
              if (cell === undefined) return html`<td class="cell d-none">·</td>`;
              const title = `${source} ${request} → ${destination}: BASE ${LABEL[cell.base]}, HEAD ${LABEL[cell.head]}`;
              return html`<td class=${`cell ${CLASS[cell.head]}${cell.changed ? ' changed' : ''}`} title=${title} data-changed=${cell.changed ? 'true' : 'false'}>
                ${cell.changed ? html`<span class="was">${LABEL[cell.base]} → </span>` : null}${LABEL[cell.head]}
              </td>`;
            })}
          </tr>`,
        )}
      </tbody>
    </table></div>`;
}

function Matrix({ change }: { change: ChangeReview }) {
  const { cells, omitted, unchangedDestinations } = change.matrix;
  if (cells.length === 0) return null;
  const destinations = unique(cells.map((c) => c.destination));
  return html`<h3>Decision matrix</h3>
    <p class="sub small">Every probe to each destination where something changed: the caller (rows), the request (columns), coloured by what HEAD decides. A cell outlined in red changed: it reads "BASE → HEAD".${omitted > 0 ? ` ${omitted} unchanged cell(s) are left out to keep the page readable (report.json has the changed ones all).` : ''}${unchangedDestinations > 0 ? ` ${unchangedDestinations} other destination(s) change nothing and are not drawn.` : ''}</p>
    <div class="legend">
      <span><span class="swatch d-allow"></span>allowed (reaches the app)</span>
      <span><span class="swatch d-deny"></span>denied (403 RBAC)</span>
      <span><span class="swatch d-reject"></span>rejected (no mTLS: reset or handshake failure)</span>
      <span><span class="swatch d-bad-request"></span>400 bad request</span>
      <span><span class="swatch d-none" style="outline: 2px solid var(--fail)"></span>changed by this change</span>
    </div>
    ${destinations.map((d) => html`<${MatrixFor} destination=${d} cells=${cells.filter((c) => c.destination === d)} />`)}`;
}

function Groups({ change }: { change: ChangeReview }) {
  if (change.groups.length === 0) return null;
  return html`<h3>Decisions that change <span class="sub small">${change.summary.probesChanged} probe(s), grouped by what decides them on each side</span></h3>
    <table class="change-groups">
      <thead><tr><th>change</th><th>BASE: decided by</th><th>HEAD: decided by</th><th>probes</th></tr></thead>
      <tbody>
        ${change.groups.map(
          (g) => html`<tr class=${`dir-${g.direction}`}>
            <td><span class=${`badge dir dir-${g.direction}`}>${g.direction}</span></td>
            <td><${Cause} cause=${g.base} /></td>
            <td><${Cause} cause=${g.head} /></td>
            <td>
              <ul class="probes small">
                ${g.probes.slice(0, 25).map((p) => html`<li><span class="mono">${p.source}</span> <span class="mono">${p.request}</span> → <span class="mono">${p.destination}</span>: <b>${LABEL[p.base]} → ${LABEL[p.head]}</b></li>`)}
              </ul>
              ${g.probes.length > 25 ? html`<div class="small sub">and ${g.probes.length - 25} more (report.json lists them all)</div>` : null}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>`;
}

function Live({ live }: { live: readonly LiveConfirmation[] | undefined }) {
  if (live === undefined) return null;
  return html`<h3>On running pods (--live)</h3>
    ${live.map((l) =>
      l.skipped !== undefined
        ? html`<p><b>${l.dataPlane}</b>: not run: ${l.skipped}</p>`
        : html`<p><b>${l.dataPlane} ${l.version}</b>: ${l.confirmed} of ${l.probes.length} changed probe(s) observed as predicted under BASE and, once HEAD was applied to the same pods, under HEAD${l.disagreed > 0 ? html`; <span class="agree-no">${l.disagreed} disagree with the oracle</span>` : null} (${formatMs(l.durationMs)}).</p>
            <table class="small">
              <thead><tr><th>caller</th><th>request</th><th>destination</th><th>BASE observed</th><th>HEAD observed</th><th>confirmed</th></tr></thead>
              <tbody>
                ${l.probes.map(
                  (p) => html`<tr>
                    <td class="mono">${p.source}</td><td class="mono">${p.request}</td><td class="mono">${p.destination}</td>
                    <td class=${p.base.agrees ? '' : 'agree-no'}>${p.base.observed}${p.base.agrees ? '' : ` (expected ${p.base.expected})`}</td>
                    <td class=${p.head.agrees ? '' : 'agree-no'}>${p.head.observed}${p.head.agrees ? '' : ` (expected ${p.head.expected})`}</td>
                    <td class=${p.confirmed ? 'agree-yes' : 'agree-no'}>${p.confirmed ? '✓' : '✗ no'}</td>
                  </tr>`,
                )}
                ${l.notSent.map((n) => html`<tr><td colspan="5" class="mono">${n.probe}</td><td class="sub">not sent: ${n.reason}</td></tr>`)}
              </tbody>
            </table>`,
    )}`;
}

export function ChangeView({ change }: { change: ChangeReview | undefined }) {
  if (change === undefined) return null;
  const side = (label: string, s: ChangeReview['base']) => html`<div><b>${label}</b><span class="mono">${s.dir}</span> <span class="sub small">${s.files} file(s), ${s.rules} rule(s), ${s.probes} probes</span></div>`;
  return html`<section id="change">
    <h2>Change review</h2>
    <div class="meta">
      ${side('BASE', change.base)}
      ${side('HEAD', change.head)}
      <div><b>topology</b><span class="mono">${change.topology}</span></div>
      <div><b>compared</b>${change.summary.probesCompared} probes, each under BASE and HEAD</div>
    </div>
    <p class=${`change-summary${change.summary.noChange ? ' no-change' : ''}`}><b>${change.summary.text}</b></p>
    ${change.widenings.length === 0
      ? null
      : html`<div class="banner widens" id="widens"><b>This change widens access.</b><ul>${change.widenings.map((w) => html`<li>${w}</li>`)}</ul></div>`}
    ${change.intents.some((i) => i.verdict === 'regressed')
      ? html`<div class="banner" id="intents-broken"><b>HEAD breaks intents BASE kept.</b><ul>${change.intents.filter((i) => i.verdict === 'regressed').map((i) => html`<li><span class="mono">${i.at}</span>: ${i.text}</li>`)}</ul></div>`
      : null}
    ${change.resources.length === 0
      ? null
      : html`<h3>Resources the change edits</h3>
          <table class="small">
            <thead><tr><th>edit</th><th>kind</th><th>name</th><th>BASE</th><th>HEAD</th><th>what changed</th></tr></thead>
            <tbody>${change.resources.map((r) => html`<tr><td><span class=${`badge edit-${r.edit}`}>${r.edit}</span></td><td>${r.kind}</td><td class="mono">${r.name}</td><td class="mono">${r.baseAt ?? ''}</td><td class="mono">${r.headAt ?? ''}</td><td class="mono">${(r.parts ?? []).join(', ')}</td></tr>`)}</tbody>
          </table>`}
    <${Matrix} change=${change} />
    <${Groups} change=${change} />
    ${change.ports.length === 0
      ? null
      : html`<h3>Ports that change mTLS mode</h3>
          <table class="small">
            <thead><tr><th>workload:port</th><th>BASE</th><th>HEAD</th><th>what callers see now</th></tr></thead>
            <tbody>
              ${change.ports.map(
                (p) => html`<tr class=${p.widens ? 'dir-widens' : ''}>
                  <td class="mono">${p.workload}:${p.port}</td>
                  <td><b>${p.base}</b><div class="sub">${p.baseVia}</div><div class="mono sub">${p.baseAt ?? ''}</div></td>
                  <td><b>${p.head}</b><div class="sub">${p.headVia}</div><div class="mono sub">${p.headAt ?? ''}</div></td>
                  <td>${p.widens ? html`<span class="badge dir dir-widens">widens</span> ` : null}${p.effect}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    ${change.resilience.length === 0
      ? null
      : html`<h3>Resilience: what callers see</h3>
          <table class="small">
            <thead><tr><th></th><th>service</th><th>consequence</th><th>from</th></tr></thead>
            <tbody>
              ${change.resilience.map(
                (c) => html`<tr>
                  <td><span class=${`badge res-${c.direction}`}>${c.direction}</span></td>
                  <td class="mono">${c.service}:${c.ports.join(',')}${c.route === undefined ? '' : ` ${c.route}`}${c.callers === undefined ? '' : html`<div class="sub">callers in ${c.callers.join(', ')}</div>`}</td>
                  <td><ul class="clauses">${c.clauses.map((t) => html`<li>${t}</li>`)}</ul></td>
                  <td class="mono small"><div>BASE ${c.baseAt ?? 'none'}</div><div>HEAD ${c.headAt ?? 'none'}</div></td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    ${change.intents.length === 0
      ? null
      : html`<h3>Intents (--expect)</h3>
          <table class="small">
            <thead><tr><th>entry</th><th>request</th><th>must be</th><th>BASE</th><th>HEAD</th><th>verdict</th></tr></thead>
            <tbody>${change.intents.map((i) => html`<tr><td class="mono">${i.at}</td><td class="mono">${i.request}</td><td>${i.expect}</td><td>${i.base}</td><td>${i.head}</td><td class=${i.verdict === 'regressed' ? 'agree-no' : i.verdict === 'kept' || i.verdict === 'fixed' ? 'agree-yes' : ''}>${i.verdict}</td></tr>`)}</tbody>
          </table>`}
    <${Live} live=${change.live} />
    ${change.notes.length === 0 ? null : html`<ul class="small sub">${change.notes.map((n) => html`<li>${n}</li>`)}</ul>`}
  </section>`;
}
