/**
 * Envoy's tls_inspector: looks at a connection's first bytes and says whether they are a TLS
 * ClientHello and, if so, which SNI and ALPN values it carries. The filter chain is chosen from
 * that (transport protocol `tls` or `raw_buffer`, plus `application_protocols`), before any TLS.
 *
 * Parsing follows RFC 8446 §4.1.2 (record header, Handshake, ClientHello, extensions
 * server_name (0) and application_layer_protocol_negotiation (16)). A ClientHello may span
 * several records; they are joined until the handshake message is complete.
 */

/** Envoy reads at most this much before deciding (its max ClientHello size is 64 KiB). */
export const MAX_CLIENT_HELLO = 64 * 1024;

export type Inspection =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'plaintext' }
  | { readonly kind: 'tls'; readonly sni: string; readonly alpn: readonly string[]; readonly complete: boolean };

const HANDSHAKE_RECORD = 0x16;
const CLIENT_HELLO = 0x01;

export function inspectClientHello(data: Buffer): Inspection {
  if (data.length === 0) return { kind: 'need-more' };
  if (data[0] !== HANDSHAKE_RECORD) return { kind: 'plaintext' };
  if (data.length < 2) return { kind: 'need-more' };
  if (data[1] !== 0x03) return { kind: 'plaintext' };
  // Join record payloads until the handshake message is whole.
  const payload: Buffer[] = [];
  let payloadLength = 0;
  let offset = 0;
  let needed: number | undefined;
  while (offset + 5 <= data.length) {
    if (data[offset] !== HANDSHAKE_RECORD) break;
    const length = data.readUInt16BE(offset + 3);
    if (offset + 5 + length > data.length) break;
    payload.push(data.subarray(offset + 5, offset + 5 + length));
    payloadLength += length;
    offset += 5 + length;
    if (needed === undefined && payloadLength >= 4) {
      const head = Buffer.concat(payload);
      if (head[0] !== CLIENT_HELLO) return { kind: 'tls', sni: '', alpn: [], complete: false };
      needed = 4 + head.readUIntBE(1, 3);
    }
    if (needed !== undefined && payloadLength >= needed) {
      const hello = Buffer.concat(payload).subarray(4, needed);
      return { kind: 'tls', ...parseExtensions(hello), complete: true };
    }
  }
  if (data.length >= MAX_CLIENT_HELLO || (offset < data.length && offset + 5 <= data.length && data[offset] !== HANDSHAKE_RECORD)) {
    return { kind: 'tls', sni: '', alpn: [], complete: false };
  }
  return { kind: 'need-more' };
}

/** SNI and ALPN from a ClientHello body; malformed input yields what could be read. */
function parseExtensions(hello: Buffer): { sni: string; alpn: string[] } {
  const result = { sni: '', alpn: [] as string[] };
  try {
    let p = 2 + 32; // legacy_version, random
    p += 1 + hello[p]!; // legacy_session_id
    p += 2 + hello.readUInt16BE(p); // cipher_suites
    p += 1 + hello[p]!; // legacy_compression_methods
    if (p + 2 > hello.length) return result;
    const end = Math.min(hello.length, p + 2 + hello.readUInt16BE(p));
    p += 2;
    while (p + 4 <= end) {
      const type = hello.readUInt16BE(p);
      const length = hello.readUInt16BE(p + 2);
      const body = hello.subarray(p + 4, p + 4 + length);
      p += 4 + length;
      if (type === 0) result.sni = readServerName(body);
      else if (type === 16) result.alpn = readAlpn(body);
    }
  } catch {
    // RangeError on a truncated hello: keep what was read.
  }
  return result;
}

function readServerName(body: Buffer): string {
  let p = 2;
  while (p + 3 <= body.length) {
    const type = body[p]!;
    const length = body.readUInt16BE(p + 1);
    if (type === 0) return body.subarray(p + 3, p + 3 + length).toString('latin1');
    p += 3 + length;
  }
  return '';
}

function readAlpn(body: Buffer): string[] {
  const out: string[] = [];
  let p = 2;
  while (p < body.length) {
    const length = body[p]!;
    out.push(body.subarray(p + 1, p + 1 + length).toString('latin1'));
    p += 1 + length;
  }
  return out;
}
