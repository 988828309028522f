/**
 * Per area: a table of its cases (outcome, name, what it proves, why it ended so), and under
 * each case its evidence, both ends of every call plus access-log lines and metrics.
 */
import type { Area } from '../../spec/features.ts';
import type { AreaSummary, CaseReport, CertificateRef, EvidenceReport, MetricSample, PromiseVerdict } from '../schema.ts';
import { formatMs, html, OUTCOME_LABEL, outcomeReason } from './h.ts';

const AREA_TITLE: Readonly<Record<Area, string>> = { mtls: 'STRICT mTLS', authz: 'Authorization', resilience: 'Circuit breaking and resilience' };

function Cert({ cert }: { cert: CertificateRef }) {
  return html`<div class="small mono">${cert.uriSans.length > 0 ? cert.uriSans.join(', ') : cert.subject}<br /><span class="sub">SHA-256 ${cert.fingerprint256}${cert.validTo === undefined ? '' : ` · until ${cert.validTo}`}</span></div>`;
}

function Headers({ headers }: { headers: Readonly<Record<string, string>> | undefined }) {
  if (headers === undefined || Object.keys(headers).length === 0) return null;
  return html`<pre>${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')}</pre>`;
}

function RequestEnd({ e }: { e: EvidenceReport }) {
  const r = e.request;
  return html`<div>
    <h5>Request</h5>
    <div class="mono">${r.method ?? (r.protocol === 'tcp' || r.protocol === 'tls-handshake' ? '' : 'GET')} ${r.path ?? (r.protocol === 'tcp' || r.protocol === 'tls-handshake' ? '' : '/')}</div>
    <div class="small">${r.protocol} to ${r.host}:${r.port}${r.tlsVersions === undefined ? '' : ` · TLS ${r.tlsVersions}`}</div>
    ${r.clientCertificate === undefined ? html`<div class="small sub">no client certificate</div>` : html`<div class="small">client certificate:</div><${Cert} cert=${r.clientCertificate} />`}
    <${Headers} headers=${r.headers} />
  </div>`;
}

function ClientEnd({ e }: { e: EvidenceReport }) {
  const c = e.client;
  return html`<div>
    <h5>Client saw</h5>
    <div><b>${c.outcome}${c.status === undefined ? '' : ` ${c.status}`}</b> <span class="sub small">in ${formatMs(c.durationMs)}</span></div>
    ${c.error === undefined ? null : html`<div class="small mono">${c.error.code}: ${c.error.message}</div>`}
    ${c.tls === undefined
      ? null
      : html`<div class="small">TLS ${c.tls.protocol ?? '-'} ${c.tls.cipher ?? ''}${c.tls.alert === undefined ? '' : ` · alert: ${c.tls.alert}`}</div>
          ${c.tls.serverChain.slice(0, 2).map((cert) => html`<${Cert} cert=${cert} />`)}`}
    <${Headers} headers=${c.headers} />
    ${c.body === undefined || c.body === '' ? null : html`<pre>${c.body}</pre>`}
  </div>`;
}

function ServerEnd({ e }: { e: EvidenceReport }) {
  const s = e.server;
  let body;
  if (!s.observed) body = html`<div class="sub small">not observed</div>`;
  else if (s.received.length === 0) body = html`<div><b>nothing</b> <span class="small sub">(the app never saw the request)</span></div>`;
  else
    body = s.received.map(
      (r) => html`<div class="small"><span class="mono">${r.method} ${r.path}</span> at ${r.pod}${r.peerIdentity === undefined ? html` <span class="sub">(no peer identity)</span>` : html`<br /><span class="mono sub">from ${r.peerIdentity}</span>`}</div>`,
    );
  return html`<div><h5>App received</h5>${body}</div>`;
}

function AccessLog({ e }: { e: EvidenceReport }) {
  if (e.accessLog.length === 0) return null;
  return html`<table class="small">
    <thead><tr><th>sidecar</th><th>dir</th><th>request</th><th class="num">status</th><th>flags</th><th>details</th><th>peer</th><th>upstream</th></tr></thead>
    <tbody>
      ${e.accessLog.map(
        (l) => html`<tr>
          <td>${l.pod}</td><td>${l.direction}</td><td class="mono">${l.method ?? ''} ${l.path ?? ''}</td><td class="num">${l.status}</td>
          <td class="mono"><b>${l.responseFlags}</b></td><td class="mono">${l.responseCodeDetails ?? ''}</td><td class="mono">${l.downstreamPrincipal ?? l.connectionSecurity ?? ''}</td><td class="mono">${l.upstreamHost ?? ''}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function Evidence({ e }: { e: EvidenceReport }) {
  return html`<div class="call">
    <h4>${e.label} <span class="sub small">(${e.from} → ${e.to})</span></h4>
    <div class="ends"><${RequestEnd} e=${e} /><${ClientEnd} e=${e} /><${ServerEnd} e=${e} /></div>
    <${AccessLog} e=${e} />
  </div>`;
}

function Metrics({ metrics }: { metrics: readonly MetricSample[] }) {
  if (metrics.length === 0) return null;
  return html`<table class="small">
    <thead><tr><th>metric</th><th>labels</th><th>source</th><th class="num">value</th><th class="num">expected</th></tr></thead>
    <tbody>
      ${metrics.map(
        (m) => html`<tr>
          <td class="mono">${m.name}</td><td class="mono">${Object.entries(m.labels)
            .map(([k, v]) => `${k}="${v}"`)
            .join(', ')}</td><td>${m.source}</td><td class="num mono">${m.value}</td>
          <td class=${`num ${m.agrees === false ? 'agree-no' : ''}`}>${m.expected === undefined ? '' : `${m.expected}${m.agrees === false ? ' ✗' : ' ✓'}`}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function CaseRows({ c }: { c: CaseReport }) {
  const reason = outcomeReason(c.outcome);
  const hasDetail = c.evidence.length > 0 || c.metrics.length > 0 || c.findings.length > 0;
  return html`<tr class=${`case case-${c.outcome.status}`} id=${`case-${c.shortName}`}>
      <td><span class=${`badge o-${c.outcome.status}`}>${OUTCOME_LABEL[c.outcome.status]}</span></td>
      <td>
        <div class="mono"><b>${c.shortName}</b></div>
        <div>${c.description}</div>
        ${reason === '' ? null : html`<div class="why">${reason}</div>`}
        ${c.findings.map((f) => html`<div class="small">Note: ${f}</div>`)}
        ${hasDetail
          ? html`<details>
              <summary>evidence: ${c.evidence.length} call${c.evidence.length === 1 ? '' : 's'}${c.metrics.length > 0 ? `, ${c.metrics.length} metric values` : ''}</summary>
              ${c.evidence.map((e) => html`<${Evidence} e=${e} />`)}
              <${Metrics} metrics=${c.metrics} />
            </details>`
          : null}
      </td>
      <td class="small">${c.features.join(', ')}</td>
      <td class="num">${c.checks}</td>
      <td class="num">${formatMs(c.durationMs)}</td>
    </tr>`;
}

export function AreaSection({ summary, verdict, cases }: { summary: AreaSummary; verdict: PromiseVerdict | undefined; cases: readonly CaseReport[] }) {
  return html`<section class="area" id=${`area-${summary.area}`}>
    <h2>${AREA_TITLE[summary.area]} <span class="sub small">${summary.passed} passed · ${summary.failed} failed · ${summary.skipped} skipped · ${summary.notSupported} not supported · ${summary.error} error</span></h2>
    ${verdict === undefined ? null : html`<p class="sub">${verdict.promise}: ${verdict.summary}</p>`}
    ${cases.length === 0
      ? html`<p class="sub">No case of this area ran.</p>`
      : html`<table class="cases">
          <thead><tr><th>outcome</th><th>case</th><th>features</th><th class="num">checks</th><th class="num">time</th></tr></thead>
          <tbody>${cases.map((c) => html`<${CaseRows} c=${c} />`)}</tbody>
        </table>`}
  </section>`;
}
