/**
 * A capture of the pod network, read: its TCP connections with each direction's bytes in order,
 * and what an eavesdropper can tell of each (TLS hellos and records, or cleartext). Pure: pcap
 * bytes in, a WireCapture out; the question "what did this one request look like on the wire"
 * is asked of it with readProbe().
 */
import { parsePcap } from './pcap-file.ts';
import { assembleConnections, timeAt, type ByteStream, type TcpConnection } from './tcp-connections.ts';
import { decodeTcpSegment, type TcpSegment } from './tcp-segment.ts';
import { clientHelloOf, readRecords, serverHelloOf, type ClientHello, type ServerHello, type TlsRecordLayer } from './tls-records.ts';

export interface WireCapture {
  /** When the capture began listening (ms since the epoch), where known; else its first packet's time. */
  readonly since: number | undefined;
  readonly packets: number;
  readonly connections: readonly TcpConnection[];
  readonly firstAtMs: number | undefined;
  readonly lastAtMs: number | undefined;
  /** Packets the capture cut short (snap length). */
  readonly truncatedPackets: number;
  /** The file ended inside a packet (read while being written). */
  readonly partialTail: boolean;
  /** Each payload-carrying segment, to search for a needle packet by packet as well as in the streams. */
  readonly segments: readonly TcpSegment[];
}

export function readCapture(pcap: Uint8Array, since?: number): WireCapture {
  const file = parsePcap(pcap);
  const segments: TcpSegment[] = [];
  let truncated = 0;
  for (const record of file.records) {
    const s = decodeTcpSegment(record, file.linkType);
    if (s === undefined) continue;
    if (s.truncated) truncated += 1;
    segments.push(s);
  }
  return {
    since: since ?? file.records[0]?.atMs,
    packets: file.records.length,
    connections: assembleConnections(segments),
    firstAtMs: file.records[0]?.atMs,
    lastAtMs: file.records.at(-1)?.atMs,
    truncatedPackets: truncated,
    partialTail: file.partialTail,
    segments: segments.filter((s) => s.payload.length > 0),
  };
}

/** What an eavesdropper reads of a connection that starts as TLS. */
export interface TlsView {
  readonly clientHello?: ClientHello;
  readonly serverHello?: ServerHello;
  readonly toServer: TlsRecordLayer;
  readonly toClient: TlsRecordLayer;
}

/** The TLS view of a connection whose start was captured and whose first byte is a TLS record; else undefined. */
export function tlsViewOf(c: TcpConnection): TlsView | undefined {
  if (!c.startSeen || c.toServer.bytes.length === 0) return undefined;
  const toServer = readRecords(c.toServer.bytes);
  if (toServer.notTlsAt === 0) return undefined;
  const toClient = readRecords(c.toClient.bytes);
  const clientHello = safely(() => clientHelloOf(toServer.handshake));
  const serverHello = safely(() => serverHelloOf(toClient.handshake));
  return { toServer, toClient, ...(clientHello === undefined ? {} : { clientHello }), ...(serverHello === undefined ? {} : { serverHello }) };
}

/** A malformed hello is read as no hello. */
function safely<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** Which request, between which pods, when. */
export interface ProbeOnWire {
  /** The random text the request carried (path, header and body). */
  readonly canary: string;
  readonly callerIp: string;
  readonly serverIp: string;
  /** When the probe was sent and answered (host clock, ms since the epoch). */
  readonly fromMs: number;
  readonly toMs: number;
  /** Slack around the window for the clocks of two processes on one host. Default 20 ms. */
  readonly slackMs?: number;
}

export type Direction = 'to-server' | 'to-client';

export interface CanarySighting {
  readonly connection: string;
  readonly direction: Direction;
  readonly atMs: number | undefined;
  /** The bytes around it, as captured (redact before showing: excerpt.ts). */
  readonly around: Uint8Array;
  /** Where the canary starts in `around`. */
  readonly at: number;
}

export interface ConnectionReading {
  readonly key: string;
  readonly startSeen: boolean;
  readonly serverPort: number;
  /** Bytes each way captured during the probe's window. */
  readonly bytesToServer: number;
  readonly bytesToClient: number;
  readonly missingBytes: number;
  readonly truncated: boolean;
  readonly reset: boolean;
  /** Set when the connection's first bytes are TLS records. */
  readonly tls?: TlsView;
  /** The first bytes to the server, for saying what a non-TLS connection began with. */
  readonly firstBytes: Uint8Array;
}

export interface WireReading {
  readonly probe: ProbeOnWire;
  /** Connections from the caller's pod to the server's pod that carried bytes during the window. */
  readonly connections: readonly ConnectionReading[];
  /** Every place the canary crossed the wire readable, anywhere in the capture. */
  readonly sightings: readonly CanarySighting[];
  /** Why the capture cannot speak for the window (it ended before it, or began after); undefined when it can. */
  readonly notCovered?: string;
}

const AROUND = 96;

export function readProbe(capture: WireCapture, probe: ProbeOnWire): WireReading {
  const slack = probe.slackMs ?? 20;
  const from = probe.fromMs - slack;
  const to = probe.toMs + slack;
  const inWindow = (s: ByteStream): number => s.chunks.reduce((n, c) => n + (c.atMs >= from && c.atMs <= to ? c.length : 0), 0);
  const connections: ConnectionReading[] = [];
  for (const c of capture.connections) {
    if (c.client.ip !== probe.callerIp || c.server.ip !== probe.serverIp) continue;
    const bytesToServer = inWindow(c.toServer);
    const bytesToClient = inWindow(c.toClient);
    const opened = c.startSeen && c.firstAtMs >= from && c.firstAtMs <= to;
    if (bytesToServer + bytesToClient === 0 && !opened) continue;
    const tls = tlsViewOf(c);
    connections.push({
      key: c.key,
      startSeen: c.startSeen,
      serverPort: c.server.port,
      bytesToServer,
      bytesToClient,
      missingBytes: c.toServer.missingBytes + c.toClient.missingBytes,
      truncated: c.truncated,
      reset: c.toServer.rst || c.toClient.rst,
      ...(tls === undefined ? {} : { tls }),
      firstBytes: c.toServer.bytes.subarray(0, 16),
    });
  }
  const notCovered =
    capture.since === undefined || capture.since > probe.fromMs
      ? 'the capture began after the probe was sent'
      : capture.lastAtMs !== undefined && capture.lastAtMs < probe.fromMs && connections.length === 0
        ? 'the capture holds nothing from the time of the probe (it had stopped)'
        : undefined;
  return { probe, connections, sightings: findNeedle(capture, probe.canary), ...(notCovered === undefined ? {} : { notCovered }) };
}

/**
 * Every place `needle` is readable on the wire: in each direction's reassembled stream, and in
 * each segment on its own, so that a needle is found even where reassembly would have misplaced
 * the segment around it. One sighting per connection and direction.
 */
export function findNeedle(capture: WireCapture, needle: string): CanarySighting[] {
  const bytes = Buffer.from(needle, 'latin1');
  const out: CanarySighting[] = [];
  const seen = new Set<string>();
  for (const c of capture.connections) {
    for (const [direction, stream] of [
      ['to-server', c.toServer],
      ['to-client', c.toClient],
    ] as const) {
      const at = Buffer.from(stream.bytes.buffer, stream.bytes.byteOffset, stream.bytes.byteLength).indexOf(bytes);
      if (at < 0) continue;
      seen.add(`${c.key}\u0000${direction}`);
      const start = Math.max(0, at - AROUND);
      out.push({ connection: c.key, direction, atMs: timeAt(stream, at), around: stream.bytes.subarray(start, Math.min(stream.bytes.length, at + bytes.length + AROUND)), at: at - start });
    }
  }
  for (const s of capture.segments) {
    const at = Buffer.from(s.payload.buffer, s.payload.byteOffset, s.payload.byteLength).indexOf(bytes);
    if (at < 0) continue;
    const c = capture.connections.find((x) => (x.client.ip === s.src && x.client.port === s.srcPort && x.server.ip === s.dst && x.server.port === s.dstPort) || (x.server.ip === s.src && x.server.port === s.srcPort && x.client.ip === s.dst && x.client.port === s.dstPort));
    const direction: Direction = c !== undefined && c.server.ip === s.src && c.server.port === s.srcPort ? 'to-client' : 'to-server';
    const key = c?.key ?? `${s.src}:${s.srcPort} → ${s.dst}:${s.dstPort}`;
    if (seen.has(`${key}\u0000${direction}`)) continue;
    seen.add(`${key}\u0000${direction}`);
    const start = Math.max(0, at - AROUND);
    out.push({ connection: key, direction, atMs: s.atMs, around: s.payload.subarray(start, Math.min(s.payload.length, at + bytes.length + AROUND)), at: at - start });
  }
  return out;
}
