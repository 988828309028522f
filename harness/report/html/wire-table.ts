/**
 * "On the wire": what a passive eavesdropper on the pod network saw of each wire probe, beside
 * the tls-check table. Encrypted rows tell what the handshake shows in the clear (version, cipher
 * suite, ALPN offered and, up to TLS 1.2, chosen); readable rows show the redacted line the
 * request's canary stood in, marked as what an attacker reads.
 */
import type { WireRow } from '../schema.ts';
import { html } from './h.ts';

const SEEN_CLASS: Readonly<Record<WireRow['seen'], string>> = {
  encrypted: 'wire-encrypted',
  cleartext: 'wire-cleartext',
  'cleartext request, no reply': 'wire-cleartext',
  nothing: 'wire-encrypted',
  'not observed': 'wire-unobserved',
};

function Tls({ tls }: { tls: WireRow['tls'] }) {
  if (tls === undefined) return null;
  const alpn = `ALPN ${tls.alpnOffered.join(', ') || '(none)'}${tls.alpnChosen === undefined ? (tls.version === 'TLSv1.3' ? ' (choice encrypted)' : '') : ` → ${tls.alpnChosen}`}`;
  return html`<div><b>${tls.version}</b> ${tls.cipherSuite}</div><div class="small sub">${alpn}</div>`;
}

export function WireTable({ rows }: { rows: readonly WireRow[] }) {
  if (rows.length === 0) return null;
  const readable = rows.filter((r) => r.seen === 'cleartext').length;
  return html`<section id="wire">
    <h2>On the wire <span class="sub small">what an eavesdropper on the pod network sees (a capture of the run's bridge); ${readable} of ${rows.length} requests readable</span></h2>
    <p class="sub small">Each request carried a random canary in its path, a header and its body. Excerpts are the line the canary stood in, with the canary named and any credential or certificate removed.</p>
    <table>
      <thead><tr><th>client</th><th>kind</th><th>service:port</th><th>server mode</th><th>an eavesdropper sees</th><th>handshake (in the clear)</th><th>readable excerpt</th><th>Istio says</th><th>agrees</th></tr></thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr>
            <td class="mono">${r.client}</td><td>${r.clientKind}</td><td class="mono">${r.service}</td><td><b>${r.serverMode}</b></td>
            <td class=${SEEN_CLASS[r.seen]}>${r.seen}${r.connection === undefined ? null : html`<div class="small sub mono">${r.connection}</div>`}</td>
            <td><${Tls} tls=${r.tls} /></td>
            <td class="mono small">${r.excerpt ?? ''}</td>
            <td>${r.expected}</td>
            <td class=${r.agrees ? 'agree-yes' : 'agree-no'}>${r.agrees ? '✓' : '✗ no'}${r.note === undefined ? null : html`<div class="small">${r.note}</div>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
