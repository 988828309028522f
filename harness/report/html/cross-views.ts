/**
 * The report's cross-case views: the authorization matrix (source × request, per destination),
 * rule coverage, the tls-check table and the chaos experiments' journals.
 */
import type { AuthzMatrixCell, ExperimentJournal, RuleCoverage, TlsCheckRow } from '../schema.ts';
import { formatMs, html } from './h.ts';

const DECISION_LABEL: Readonly<Record<AuthzMatrixCell['observed'], string>> = {
  allow: 'allowed',
  deny: 'denied',
  reject: 'rejected',
  unauthenticated: '401',
  'bad-request': '400',
  other: 'other',
};

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function Legend() {
  return html`<div class="legend">
    <span><span class="swatch d-allow"></span>allowed (reached the app)</span>
    <span><span class="swatch d-deny"></span>denied (403 RBAC)</span>
    <span><span class="swatch d-reject"></span>rejected (no mTLS: reset or handshake failure)</span>
    <span><span class="swatch d-unauthenticated"></span>401 invalid JWT</span>
    <span><span class="swatch d-bad-request"></span>400 bad request</span>
    <span><span class="swatch d-other"></span>other</span>
    <span><span class="swatch d-none" style="outline: 2px solid var(--fail)"></span>observed ≠ expected (the cell says what was expected)</span>
  </div>`;
}

function MatrixFor({ destination, cells }: { destination: string; cells: readonly AuthzMatrixCell[] }) {
  const sources = unique(cells.map((c) => c.source));
  const requests = unique(cells.map((c) => c.request));
  // A mismatch wins over an agreeing duplicate of the same cell.
  const at = new Map<string, AuthzMatrixCell>();
  for (const cell of cells) {
    const key = `${cell.source}\u0000${cell.request}`;
    const seen = at.get(key);
    if (seen === undefined || (seen.agrees && !cell.agrees)) at.set(key, cell);
  }
  const mismatches = cells.filter((c) => !c.agrees).length;
  return html`<h3>${destination} <span class="sub small">${cells.length} probes${mismatches > 0 ? html`, <span class="agree-no">${mismatches} disagree with the policy</span>` : ', all as the policy says'}</span></h3>
    <table class="matrix">
      <thead><tr><th>source ↓ / request →</th>${requests.map((r) => html`<th class="col">${r}</th>`)}</tr></thead>
      <tbody>
        ${sources.map(
          (source) => html`<tr>
            <th class="mono small">${source}</th>
            ${requests.map((request) => {
              const cell = at.get(`${source}\u0000${request}`);
              if (cell === undefined) return html`<td class="cell d-none">·</td>`;
              const title = `${source} ${request} → ${destination}: expected ${cell.expected}, observed ${cell.observed}${cell.rule === undefined ? '' : ` (rule ${cell.rule})`}`;
              return html`<td class=${`cell d-${cell.observed}${cell.agrees ? '' : ' mismatch'}`} title=${title}>
                ${cell.agrees ? '' : '✗ '}${DECISION_LABEL[cell.observed]}
                ${cell.agrees ? null : html`<span class="mismatch-note">expected ${cell.expected}</span>`}
              </td>`;
            })}
          </tr>`,
        )}
      </tbody>
    </table>`;
}

export function AuthzMatrix({ cells }: { cells: readonly AuthzMatrixCell[] }) {
  if (cells.length === 0) return null;
  const destinations = unique(cells.map((c) => c.destination));
  const mismatched = cells.filter((c) => !c.agrees);
  return html`<section id="authz-matrix">
    <h2>Authorization matrix</h2>
    <p class="sub">Every authorization probe: who called (rows), with which method and path (columns), and what happened. Colour is what was observed; a red outline marks a cell where the data plane did not do what the policy says.</p>
    <${Legend} />
    ${destinations.map((d) => html`<${MatrixFor} destination=${d} cells=${cells.filter((c) => c.destination === d)} />`)}
    ${mismatched.length === 0
      ? null
      : html`<h3>Disagreements</h3>
          <table class="small">
            <thead><tr><th>source</th><th>request</th><th>destination</th><th>expected</th><th>observed</th><th>deciding rule</th></tr></thead>
            <tbody>
              ${mismatched.map((c) => html`<tr><td class="mono">${c.source}</td><td class="mono">${c.request}</td><td>${c.destination}</td><td>${c.expected}</td><td class="agree-no">${c.observed}</td><td class="mono">${c.rule ?? ''}</td></tr>`)}
            </tbody>
          </table>`}
  </section>`;
}

export function RuleCoverageTable({ rows }: { rows: readonly RuleCoverage[] }) {
  if (rows.length === 0) return null;
  const exercised = rows.filter((r) => r.exercised).length;
  return html`<section id="rule-coverage">
    <h2>Rule coverage <span class="sub small">${exercised} of ${rows.length} rules exercised by live traffic</span></h2>
    <table>
      <thead><tr><th>rule</th><th>policy</th><th class="num">probes matching</th><th class="num">probes just missing</th><th>exercised</th></tr></thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr>
            <td class="mono">${r.rule}</td><td class="mono">${r.policy}</td><td class="num">${r.probesMatching}</td><td class="num">${r.probesJustMissing}</td>
            <td class=${r.exercised ? 'agree-yes' : 'agree-no'}>${r.exercised ? 'yes' : 'no: no live probe reached it'}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

export function TlsCheckTable({ rows }: { rows: readonly TlsCheckRow[] }) {
  if (rows.length === 0) return null;
  return html`<section id="tls-check">
    <h2>tls-check <span class="sub small">like <code>istioctl authn tls-check</code>, but measured with real traffic</span></h2>
    <table>
      <thead><tr><th>client</th><th>kind</th><th>service:port</th><th>server mode</th><th>client spoke</th><th>observed</th><th>Istio says</th><th>agrees</th></tr></thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr>
            <td class="mono">${r.client}</td><td>${r.clientKind}</td><td class="mono">${r.service}</td><td><b>${r.serverMode}</b></td><td>${r.clientMode}</td>
            <td>${r.observed}</td><td>${r.expected}</td><td class=${r.agrees ? 'agree-yes' : 'agree-no'}>${r.agrees ? '✓' : '✗ no'}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Journal({ journal }: { journal: ExperimentJournal }) {
  const ok = (b: boolean) => html`<span class=${b ? 'agree-yes' : 'agree-no'}>${b ? 'held' : 'did not hold'}</span>`;
  return html`<div class="call">
    <h4>${journal.case}: ${journal.hypothesis}</h4>
    <div class="small">steady state before: ${ok(journal.steadyState.before)} · during: ${ok(journal.steadyState.during)} · after: ${ok(journal.steadyState.after)}</div>
    <table class="small">
      <thead><tr><th class="num">at</th><th>phase</th><th>what</th></tr></thead>
      <tbody>${journal.entries.map((e) => html`<tr><td class="num">${formatMs(e.atMs)}</td><td>${e.phase}</td><td>${e.text}</td></tr>`)}</tbody>
    </table>
  </div>`;
}

export function Experiments({ journals }: { journals: readonly ExperimentJournal[] }) {
  if (journals.length === 0) return null;
  return html`<section id="experiments"><h2>Chaos experiments</h2>${journals.map((j) => html`<${Journal} journal=${j} />`)}</section>`;
}
