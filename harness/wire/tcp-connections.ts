/**
 * TCP connections from captured segments, each direction's bytes put back in order as the
 * receiving end read them: by sequence number, with retransmissions and overlaps counted once
 * and gaps (bytes the capture never saw) said. A SYN with a new initial sequence number on the
 * same address pair starts a new connection (a port reused).
 *
 * The side that sent the SYN is the client; for a connection whose start the capture missed,
 * the side that sent the SYN-ACK is the server, else the first sender counts as the client and
 * `startSeen` says the roles are a guess.
 */
import type { TcpSegment } from './tcp-segment.ts';

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** A run of stream bytes that arrived in one segment. */
export interface StreamChunk {
  /** Offset of its first byte in the direction's stream. */
  readonly offset: number;
  readonly length: number;
  readonly atMs: number;
}

export interface ByteStream {
  /** Every byte seen, in stream order (the bytes of gaps are missing, not zero-filled). */
  readonly bytes: Uint8Array;
  readonly chunks: readonly StreamChunk[];
  /** Bytes the capture never saw between ones it did. */
  readonly missingBytes: number;
  readonly fin: boolean;
  readonly rst: boolean;
}

export interface TcpConnection {
  /** `client → server`, by address and port: stable, unique within a capture with `index`. */
  readonly key: string;
  readonly index: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** The SYN was captured: roles and stream starts are known. */
  readonly startSeen: boolean;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
  readonly toServer: ByteStream;
  readonly toClient: ByteStream;
  /** Some packet of it was cut short by the capture. */
  readonly truncated: boolean;
}

interface Side {
  isn?: number;
  base?: number;
  readonly pieces: { rel: number; atMs: number; bytes: Uint8Array }[];
  fin: boolean;
  rst: boolean;
}

interface Building {
  readonly index: number;
  a: Endpoint;
  b: Endpoint;
  /** Which of a and b is the client, once known. */
  clientIsA: boolean | undefined;
  readonly sides: { a: Side; b: Side };
  firstAtMs: number;
  lastAtMs: number;
  truncated: boolean;
  ended: boolean;
}

const endpointText = (e: Endpoint): string => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);
const pairKey = (x: Endpoint, y: Endpoint): string => [endpointText(x), endpointText(y)].sort().join(' ');
const sameEndpoint = (x: Endpoint, y: Endpoint): boolean => x.ip === y.ip && x.port === y.port;
const newSide = (): Side => ({ pieces: [], fin: false, rst: false });

export function assembleConnections(segments: readonly TcpSegment[]): TcpConnection[] {
  const open = new Map<string, Building>();
  const all: Building[] = [];
  for (const s of segments) {
    const from: Endpoint = { ip: s.src, port: s.srcPort };
    const to: Endpoint = { ip: s.dst, port: s.dstPort };
    const key = pairKey(from, to);
    let c = open.get(key);
    const opening = s.syn && !s.ackFlag;
    if (c !== undefined && opening) {
      const side = sameEndpoint(c.a, from) ? c.sides.a : c.sides.b;
      // A retransmitted SYN keeps its ISN; a new one on the same pair is a new connection.
      if (side.isn !== undefined && side.isn !== s.seq) c = undefined;
      else if (side.isn === undefined && (c.ended || c.sides.a.pieces.length + c.sides.b.pieces.length > 0)) c = undefined;
    }
    if (c === undefined) {
      c = { index: all.length, a: from, b: to, clientIsA: undefined, sides: { a: newSide(), b: newSide() }, firstAtMs: s.atMs, lastAtMs: s.atMs, truncated: false, ended: false };
      open.set(key, c);
      all.push(c);
    }
    const fromA = sameEndpoint(c.a, from);
    const side = fromA ? c.sides.a : c.sides.b;
    c.lastAtMs = Math.max(c.lastAtMs, s.atMs);
    c.truncated ||= s.truncated;
    if (s.syn) {
      side.isn = s.seq;
      side.base = (s.seq + 1) >>> 0;
      if (c.clientIsA === undefined) c.clientIsA = opening ? fromA : !fromA;
    }
    if (s.fin) side.fin = true;
    if (s.rst) side.rst = true;
    if (s.fin || s.rst) c.ended = true;
    if (s.payload.length > 0) {
      side.base ??= s.seq;
      const rel = (s.seq - side.base) | 0;
      if (rel >= 0) side.pieces.push({ rel, atMs: s.atMs, bytes: s.payload });
    }
  }
  return all.map(finish);
}

function finish(c: Building): TcpConnection {
  const startSeen = c.clientIsA !== undefined;
  const clientIsA = c.clientIsA ?? true;
  const [client, server] = clientIsA ? [c.a, c.b] : [c.b, c.a];
  const [toServer, toClient] = clientIsA ? [c.sides.a, c.sides.b] : [c.sides.b, c.sides.a];
  return {
    key: `${endpointText(client)} → ${endpointText(server)}`,
    index: c.index,
    client,
    server,
    startSeen,
    firstAtMs: c.firstAtMs,
    lastAtMs: c.lastAtMs,
    toServer: stream(toServer),
    toClient: stream(toClient),
    truncated: c.truncated,
  };
}

/** The receiver's view: each byte once, at the offset its sequence number gives it. */
function stream(side: Side): ByteStream {
  const pieces = [...side.pieces].sort((x, y) => x.rel - y.rel || x.atMs - y.atMs);
  const parts: Uint8Array[] = [];
  const chunks: StreamChunk[] = [];
  let cursor = 0;
  let written = 0;
  let missing = 0;
  for (const p of pieces) {
    const end = p.rel + p.bytes.length;
    if (end <= cursor) continue;
    if (p.rel > cursor) {
      missing += p.rel - cursor;
      cursor = p.rel;
    }
    const fresh = p.bytes.subarray(cursor - p.rel);
    parts.push(fresh);
    chunks.push({ offset: written, length: fresh.length, atMs: p.atMs });
    written += fresh.length;
    cursor = end;
  }
  return { bytes: concat(parts, written), chunks, missingBytes: missing, fin: side.fin, rst: side.rst };
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** When the byte at `offset` of a stream was captured. */
export function timeAt(stream: ByteStream, offset: number): number | undefined {
  let lo = 0;
  let hi = stream.chunks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = stream.chunks[mid]!;
    if (offset < c.offset) hi = mid - 1;
    else if (offset >= c.offset + c.length) lo = mid + 1;
    else return c.atMs;
  }
  return undefined;
}

export { endpointText };
