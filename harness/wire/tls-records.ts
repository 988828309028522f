/**
 * What a passive observer can read of a TLS connection (RFC 8446, RFC 5246): the record layer of
 * each direction, and the two hello messages that cross it in the clear. From the ClientHello:
 * the versions, cipher suites and ALPN protocols offered, and the SNI. From the ServerHello: the
 * version and cipher suite chosen and, up to TLS 1.2, the ALPN protocol chosen (TLS 1.3 sends that
 * in EncryptedExtensions, which no observer reads).
 *
 * Hand-written: the one maintained npm reader of hellos (`read-tls-client-hello`) reads only the
 * ClientHello, from a live socket; the observer needs both hellos from captured bytes. The unit
 * tests hold this reading to what Node's own TLS stack negotiated on both ends.
 */

export const ContentType = { ChangeCipherSpec: 20, Alert: 21, Handshake: 22, ApplicationData: 23, Heartbeat: 24 } as const;

export interface TlsRecordLayer {
  /** Records whose header and body were seen whole, by content type. */
  readonly counts: Readonly<Record<number, number>>;
  readonly records: number;
  /** Where the bytes stop being TLS records (undefined: every byte seen belongs to one). */
  readonly notTlsAt?: number;
  /** The stream ends inside a record (the capture stopped, or the connection was cut). */
  readonly partialTail: boolean;
  /** The leading handshake records' bodies, joined: the cleartext handshake messages. */
  readonly handshake: Uint8Array;
}

export interface ClientHello {
  /** Versions offered: supported_versions when present, else the legacy version field. */
  readonly versions: readonly string[];
  readonly cipherSuites: readonly string[];
  readonly alpn: readonly string[];
  readonly sni?: string;
}

export interface ServerHello {
  readonly version: string;
  readonly cipherSuite: string;
  /** Up to TLS 1.2 only; TLS 1.3 encrypts the choice. */
  readonly alpn?: string;
}

const MAX_RECORD = 16_384 + 2_048;
const HANDSHAKE_CLIENT_HELLO = 1;
const HANDSHAKE_SERVER_HELLO = 2;
const EXT_SNI = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
/** The ServerHello random that marks a HelloRetryRequest (RFC 8446 §4.1.3). */
const HELLO_RETRY_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

/** The record layer of one direction, from its first byte. */
export function readRecords(bytes: Uint8Array): TlsRecordLayer {
  const counts: Record<number, number> = {};
  const handshake: Uint8Array[] = [];
  let inHandshake = true;
  let at = 0;
  let records = 0;
  while (at < bytes.length) {
    if (at + 5 > bytes.length) return result(true);
    const type = bytes[at]!;
    const major = bytes[at + 1]!;
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (type < ContentType.ChangeCipherSpec || type > ContentType.Heartbeat || major !== 3 || length > MAX_RECORD) return result(false, at);
    if (at + 5 + length > bytes.length) return result(true);
    if (type === ContentType.Handshake && inHandshake) handshake.push(bytes.subarray(at + 5, at + 5 + length));
    else inHandshake = false;
    counts[type] = (counts[type] ?? 0) + 1;
    records += 1;
    at += 5 + length;
  }
  return result(false);

  function result(partialTail: boolean, notTlsAt?: number): TlsRecordLayer {
    return { counts, records, partialTail, handshake: join(handshake), ...(notTlsAt === undefined ? {} : { notTlsAt }) };
  }
}

/** The cleartext handshake messages, by type: `[type, body]` in order; a message cut short ends the list. */
export function handshakeMessages(handshake: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  let at = 0;
  while (at + 4 <= handshake.length) {
    const length = (handshake[at + 1]! << 16) | (handshake[at + 2]! << 8) | handshake[at + 3]!;
    if (at + 4 + length > handshake.length) break;
    out.push([handshake[at]!, handshake.subarray(at + 4, at + 4 + length)]);
    at += 4 + length;
  }
  return out;
}

/** The last ClientHello among the messages (after a HelloRetryRequest the client says hello again). */
export function clientHelloOf(handshake: Uint8Array): ClientHello | undefined {
  const bodies = handshakeMessages(handshake).filter(([type]) => type === HANDSHAKE_CLIENT_HELLO);
  const body = bodies.at(-1)?.[1];
  if (body === undefined) return undefined;
  const r = new Reader(body);
  const legacy = r.u16();
  r.skip(32);
  r.skip(r.u8());
  const suites = r.block(2);
  r.skip(r.u8());
  const cipherSuites: string[] = [];
  for (let i = 0; i + 1 < suites.length; i += 2) {
    const code = (suites[i]! << 8) | suites[i + 1]!;
    if (!isGrease(code)) cipherSuites.push(cipherSuiteName(code));
  }
  let versions = [versionName(legacy)];
  let alpn: string[] = [];
  let sni: string | undefined;
  for (const [type, data] of extensions(r)) {
    if (type === EXT_SUPPORTED_VERSIONS) {
      const list = new Reader(data).block(1);
      const offered: string[] = [];
      for (let i = 0; i + 1 < list.length; i += 2) {
        const code = (list[i]! << 8) | list[i + 1]!;
        if (!isGrease(code)) offered.push(versionName(code));
      }
      versions = offered;
    } else if (type === EXT_ALPN) alpn = alpnList(data);
    else if (type === EXT_SNI) sni = sniOf(data);
  }
  return { versions, cipherSuites, alpn, ...(sni === undefined ? {} : { sni }) };
}

/** The ServerHello that settled the handshake (a HelloRetryRequest is not one). */
export function serverHelloOf(handshake: Uint8Array): ServerHello | undefined {
  for (const [type, body] of handshakeMessages(handshake).reverse()) {
    if (type !== HANDSHAKE_SERVER_HELLO) continue;
    const r = new Reader(body);
    const legacy = r.u16();
    const random = Buffer.from(r.take(32)).toString('hex');
    if (random === HELLO_RETRY_RANDOM) continue;
    r.skip(r.u8());
    const cipher = r.u16();
    r.skip(1);
    let version = legacy;
    let alpn: string | undefined;
    for (const [ext, data] of extensions(r)) {
      if (ext === EXT_SUPPORTED_VERSIONS && data.length >= 2) version = (data[0]! << 8) | data[1]!;
      else if (ext === EXT_ALPN) alpn = alpnList(data)[0];
    }
    return { version: versionName(version), cipherSuite: cipherSuiteName(cipher), ...(alpn === undefined ? {} : { alpn }) };
  }
  return undefined;
}

/** `TLSv1.2`, `TLSv1.3` (Node's names), else the code. */
export function versionName(code: number): string {
  const names: Readonly<Record<number, string>> = { 0x0300: 'SSLv3', 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3' };
  return names[code] ?? `0x${code.toString(16).padStart(4, '0')}`;
}

/** The cipher suites an Istio sidecar, Envoy or Node may offer, by their IANA names; others by code. */
const CIPHER_SUITES: Readonly<Record<number, string>> = {
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0xc02b: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  0xc02c: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  0xc02f: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  0xc030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  0xcca8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xcca9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  0xc009: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  0xc00a: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  0xc013: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  0xc014: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  0x009c: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
  0x009d: 'TLS_RSA_WITH_AES_256_GCM_SHA384',
  0x002f: 'TLS_RSA_WITH_AES_128_CBC_SHA',
  0x0035: 'TLS_RSA_WITH_AES_256_CBC_SHA',
  0x00ff: 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV',
};

export function cipherSuiteName(code: number): string {
  return CIPHER_SUITES[code] ?? `0x${code.toString(16).padStart(4, '0')}`;
}

/** GREASE values (RFC 8701) carry no meaning: 0x0a0a, 0x1a1a, … */
const isGrease = (code: number): boolean => (code & 0x0f0f) === 0x0a0a && code >> 8 === (code & 0xff);

function* extensions(r: Reader): Generator<[number, Uint8Array]> {
  if (r.left() < 2) return;
  const block = new Reader(r.block(2));
  while (block.left() >= 4) {
    const type = block.u16();
    const data = block.block(2);
    if (!isGrease(type)) yield [type, data];
  }
}

function alpnList(data: Uint8Array): string[] {
  const list = new Reader(new Reader(data).block(2));
  const out: string[] = [];
  while (list.left() > 0) out.push(Buffer.from(list.block(1)).toString('latin1'));
  return out;
}

function sniOf(data: Uint8Array): string | undefined {
  const list = new Reader(new Reader(data).block(2));
  while (list.left() >= 3) {
    const type = list.u8();
    const name = list.block(2);
    if (type === 0) return Buffer.from(name).toString('latin1');
  }
  return undefined;
}

/** Reads a hello front to back; reading past its end throws (a malformed hello is not read at all). */
class Reader {
  #at = 0;
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  left(): number {
    return this.#bytes.length - this.#at;
  }
  take(n: number): Uint8Array {
    if (n > this.left()) throw new RangeError(`a TLS hello ends ${n - this.left()} byte(s) early`);
    const out = this.#bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
  skip(n: number): void {
    this.take(n);
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u16(): number {
    const b = this.take(2);
    return (b[0]! << 8) | b[1]!;
  }
  /** A vector with a length prefix of `size` bytes. */
  block(size: 1 | 2): Uint8Array {
    return this.take(size === 1 ? this.u8() : this.u16());
  }
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : new Uint8Array(Buffer.concat(parts));
}
