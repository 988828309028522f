/**
 * What a report may show of cleartext read off the wire: the one line the canary stood in, cut to
 * a few dozen characters either side of it, with the canary itself named rather than printed, and
 * nothing that could be a secret. Pure.
 *
 * Removed: the value of a credential header (authorization, cookie, …) and everything after it
 * on the line; any PEM block or its start (`-----BEGIN`, plain or URL-encoded, as in an
 * x-forwarded-client-cert `Cert=`), and everything after it; bytes that are not printable ASCII
 * (shown as `·`).
 */

export const CANARY_MARK = '‹canary›';

const CREDENTIAL_HEADER = /\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key)"?\s*:/i;
const SECRET_START = /-----BEGIN|-----BEGIN%20|-----BEGIN\+|\bCert="/i;
const WIDTH = 40;

/** The redacted line around `at` (where `canary` starts in `around`). */
export function redactedExcerpt(around: Uint8Array, at: number, canary: string): string {
  const text = Array.from(around, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : b === 0x0a || b === 0x0d ? '\n' : '·')).join('');
  const lineStart = text.lastIndexOf('\n', at) + 1;
  const lineEnd = text.indexOf('\n', at + canary.length);
  const line = redactSecrets(text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd).split(canary).join(CANARY_MARK));
  const where = Math.max(0, line.indexOf(CANARY_MARK));
  const from = Math.max(0, where - WIDTH);
  const to = Math.min(line.length, where + CANARY_MARK.length + WIDTH);
  return `${from > 0 ? '…' : ''}${line.slice(from, to)}${to < line.length ? '…' : ''}`;
}

/** The text with credential header values and PEM material (and all after them) removed. */
export function redactSecrets(text: string): string {
  let out = text;
  const credential = CREDENTIAL_HEADER.exec(out);
  if (credential !== null) out = `${out.slice(0, credential.index + credential[0].length)} [removed]`;
  const secret = SECRET_START.exec(out);
  if (secret !== null) out = `${out.slice(0, secret.index)}[removed]`;
  return out;
}
