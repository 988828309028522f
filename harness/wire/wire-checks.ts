/**
 * Wire checks: what an eavesdropper on the pod network must (or may) see of one request, as small
 * pure functions of a WireReading. Each returns a typed verdict:
 *   held        the wire shows what Istio promises;
 *   broken      it shows something else (the message says what, and where);
 *   unobserved  the capture cannot tell (it missed the connection, or its start): never a pass.
 *
 * What Istio promises, read independently of the data planes (istio-semantics.md §1, §3;
 * pilot/pkg/networking/core/listener.go, security/pkg/pki/util): between sidecars every byte is
 * inside TLS of at least the mesh's minimum version (TLS 1.2 by default), opened with one of
 * Istio's mTLS ALPN values; a plaintext caller's request to a STRICT port gets no answer at all;
 * to a PERMISSIVE or DISABLE port plaintext crosses the network as it was sent.
 */
import { redactedExcerpt } from './excerpt.ts';
import type { CanarySighting, ConnectionReading, WireReading } from './wire-capture.ts';

/** allIstioMtlsALPNs (pilot/pkg/networking/core/listener.go): what marks a connection as Istio mTLS. */
// Kept apart on purpose from dataplane/istiod's ISTIO_MTLS_ALPNS: this is the eavesdropper's reading of Istio, that one what the data planes enforce.
export const ISTIO_MTLS_ALPN_VALUES: readonly string[] = ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'];

/** What an eavesdropper saw of a request. */
export type WireSeen = 'encrypted' | 'cleartext' | 'cleartext request, no reply' | 'nothing';

export interface TlsSeen {
  readonly version: string;
  readonly cipherSuite: string;
  readonly alpnOffered: readonly string[];
  /** The ALPN value chosen, where the handshake shows it (TLS 1.2); TLS 1.3 encrypts it. */
  readonly alpnChosen?: string;
  readonly sni?: string;
}

export type WireVerdict =
  | { readonly status: 'held'; readonly seen: WireSeen; readonly tls?: TlsSeen; readonly excerpt?: string; readonly connection?: string }
  | { readonly status: 'broken'; readonly seen: WireSeen; readonly message: string; readonly tls?: TlsSeen; readonly excerpt?: string; readonly connection?: string }
  | { readonly status: 'unobserved'; readonly reason: string };

/** What Istio says an eavesdropper sees, per caller and port mode. */
export type WireExpectation =
  /** Istio mTLS: TLS ≥ the mesh minimum with an Istio ALPN, no byte outside it. */
  | 'mtls'
  /** A plaintext caller to a STRICT port: its own request is readable (it sent it so), the server answers nothing. */
  | 'no-reply'
  /** Plaintext crosses the network readable (a PERMISSIVE or DISABLE port): reported as a finding. */
  | 'cleartext';

export interface WireCheckOptions {
  /** The mesh's minimum TLS version (`TLSv1.2`, `TLSv1.3`). */
  readonly minTlsVersion: string;
}

export function checkWire(expect: WireExpectation, reading: WireReading, options: WireCheckOptions): WireVerdict {
  switch (expect) {
    case 'mtls':
      return istioMtls(reading, options);
    case 'no-reply':
      return noReply(reading);
    case 'cleartext':
      return cleartext(reading);
  }
}

const TLS_ORDER = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Every byte between the pods inside TLS ≥ the minimum, with Istio's ALPN; the canary nowhere readable. */
export function istioMtls(reading: WireReading, options: WireCheckOptions): WireVerdict {
  const blind = blindSpot(reading);
  const leak = reading.sightings[0];
  if (leak !== undefined) return { status: 'broken', seen: 'cleartext', message: `the canary crossed the pod network readable (${sightingText(leak)}): a passive eavesdropper reads this request`, excerpt: excerptOf(reading, leak), connection: leak.connection };
  if (blind !== undefined) return blind;
  for (const c of reading.connections) {
    const tls = c.tls;
    if (tls === undefined) return { status: 'broken', seen: 'cleartext', message: `${c.key} is not TLS: its first bytes are ${printable(c.firstBytes)}`, connection: c.key };
    const seen = tlsSeen(c);
    const hello = tls.clientHello;
    if (hello === undefined) return { status: 'broken', seen: 'encrypted', message: `${c.key} starts with TLS records but no readable ClientHello`, connection: c.key };
    if (!hello.alpn.some((a) => ISTIO_MTLS_ALPN_VALUES.includes(a))) {
      return { status: 'broken', seen: 'encrypted', message: `${c.key}: the client offered ALPN [${hello.alpn.join(', ')}], none of Istio's mTLS values (${ISTIO_MTLS_ALPN_VALUES.join(', ')})`, ...withTls(seen), connection: c.key };
    }
    if (tls.serverHello === undefined) return { status: 'broken', seen: 'encrypted', message: `${c.key}: no ServerHello was seen, so no TLS session was agreed`, ...withTls(seen), connection: c.key };
    if (TLS_ORDER.indexOf(tls.serverHello.version) < TLS_ORDER.indexOf(options.minTlsVersion)) {
      return { status: 'broken', seen: 'encrypted', message: `${c.key}: the server chose ${tls.serverHello.version}, below the mesh minimum ${options.minTlsVersion}`, ...withTls(seen), connection: c.key };
    }
    for (const [direction, layer] of [
      ['to the server', tls.toServer],
      ['to the client', tls.toClient],
    ] as const) {
      if (layer.notTlsAt !== undefined) return { status: 'broken', seen: 'cleartext', message: `${c.key}: the bytes ${direction} stop being TLS records at byte ${layer.notTlsAt}`, ...withTls(seen), connection: c.key };
    }
  }
  const first = reading.connections[0]!;
  return { status: 'held', seen: 'encrypted', ...withTls(tlsSeen(first)), connection: first.key };
}

/** A plaintext caller to a STRICT port: the server sends it nothing, readable or not. */
export function noReply(reading: WireReading): WireVerdict {
  const blind = blindSpot(reading);
  if (blind !== undefined) return blind;
  const reply = reading.sightings.find((s) => s.direction === 'to-client');
  if (reply !== undefined) return { status: 'broken', seen: 'cleartext', message: `the server answered a plaintext caller readably (${sightingText(reply)}): a passive eavesdropper reads the reply`, excerpt: excerptOf(reading, reply), connection: reply.connection };
  const answered = reading.connections.find((c) => c.bytesToClient > 0);
  if (answered !== undefined) return { status: 'broken', seen: 'cleartext', message: `${answered.key}: the server sent ${answered.bytesToClient} byte(s) to a plaintext caller it must refuse`, connection: answered.key };
  const request = reading.sightings.find((s) => s.direction === 'to-server');
  return { status: 'held', seen: request === undefined ? 'nothing' : 'cleartext request, no reply', ...(request === undefined ? {} : { excerpt: excerptOf(reading, request) }), connection: reading.connections[0]!.key };
}

/** Plaintext, as Istio sends it to a PERMISSIVE or DISABLE port: the canary is readable on the wire. */
export function cleartext(reading: WireReading): WireVerdict {
  const blind = blindSpot(reading);
  const request = reading.sightings.find((s) => s.direction === 'to-server');
  if (request !== undefined) return { status: 'held', seen: 'cleartext', excerpt: excerptOf(reading, request), connection: request.connection };
  if (blind !== undefined) return blind;
  const tlsConnection = reading.connections.find((c) => c.tls !== undefined);
  if (tlsConnection !== undefined) return { status: 'broken', seen: 'encrypted', message: `${tlsConnection.key} is TLS where Istio sends plaintext`, ...withTls(tlsSeen(tlsConnection)), connection: tlsConnection.key };
  return { status: 'unobserved', reason: `the canary was not found on ${reading.connections.map((c) => c.key).join(', ')}, which is not TLS either (the capture may have missed bytes)` };
}

/** Why the capture cannot speak for this probe: no connection seen, its start missed, bytes missing. */
function blindSpot(reading: WireReading): WireVerdict | undefined {
  const { probe } = reading;
  if (reading.notCovered !== undefined) return { status: 'unobserved', reason: reading.notCovered };
  if (reading.connections.length === 0) return { status: 'unobserved', reason: `no connection from ${probe.callerIp} to ${probe.serverIp} carried bytes while the probe ran` };
  const partial = reading.connections.find((c) => !c.startSeen || c.missingBytes > 0 || c.truncated);
  if (partial !== undefined) {
    const why = !partial.startSeen ? 'its start (the handshake) was not captured' : partial.missingBytes > 0 ? `${partial.missingBytes} of its bytes were not captured` : 'packets of it were cut short by the capture';
    return { status: 'unobserved', reason: `${partial.key}: ${why}` };
  }
  return undefined;
}

function tlsSeen(c: ConnectionReading): TlsSeen | undefined {
  const hello = c.tls?.clientHello;
  const server = c.tls?.serverHello;
  if (hello === undefined) return undefined;
  return {
    version: server?.version ?? `offered ${hello.versions.join(', ')}`,
    cipherSuite: server?.cipherSuite ?? '(no ServerHello)',
    alpnOffered: hello.alpn,
    ...(server?.alpn === undefined ? {} : { alpnChosen: server.alpn }),
    ...(hello.sni === undefined ? {} : { sni: hello.sni }),
  };
}

const withTls = (tls: TlsSeen | undefined): { tls?: TlsSeen } => (tls === undefined ? {} : { tls });

function sightingText(s: CanarySighting): string {
  return `${s.direction === 'to-server' ? 'in the request' : 'in the reply'} on ${s.connection}`;
}

function excerptOf(reading: WireReading, s: CanarySighting): string {
  return redactedExcerpt(s.around, s.at, reading.probe.canary);
}

function printable(bytes: Uint8Array): string {
  const text = Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '·')).join('');
  return `'${text}'`;
}
