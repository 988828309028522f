/**
 * Test help: pcap files made in memory (Ethernet, IPv4, TCP), so the wire reader's tests can lay
 * segments out as a capture would hold them: in order, out of order, retransmitted, cut short.
 * Also records a real TLS (or plaintext) exchange between two Node sockets on loopback as the
 * segments that carried it, so a capture of real TLS bytes is at hand without tcpdump.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface FakeSegment {
  readonly atMs: number;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack?: number;
  readonly flags?: { syn?: boolean; ack?: boolean; fin?: boolean; rst?: boolean };
  readonly payload?: Uint8Array;
  /** Keep only this many bytes of the frame (snap length). */
  readonly capture?: number;
}

const ipBytes = (ip: string): number[] => ip.split('.').map(Number);

export function frame(s: FakeSegment): Uint8Array {
  const payload = s.payload ?? new Uint8Array();
  const tcp = new Uint8Array(20 + payload.length);
  const t = new DataView(tcp.buffer);
  t.setUint16(0, s.srcPort);
  t.setUint16(2, s.dstPort);
  t.setUint32(4, s.seq >>> 0);
  t.setUint32(8, (s.ack ?? 0) >>> 0);
  tcp[12] = 5 << 4;
  const f = s.flags ?? { ack: true };
  tcp[13] = (f.fin ? 0x01 : 0) | (f.syn ? 0x02 : 0) | (f.rst ? 0x04 : 0) | (f.ack ? 0x10 : 0) | (payload.length > 0 ? 0x08 : 0);
  tcp.set(payload, 20);
  const ip = new Uint8Array(20);
  const v = new DataView(ip.buffer);
  ip[0] = 0x45;
  v.setUint16(2, 20 + tcp.length);
  ip[8] = 64;
  ip[9] = 6;
  ip.set(ipBytes(s.src), 12);
  ip.set(ipBytes(s.dst), 16);
  const eth = new Uint8Array(14);
  eth.set([0x02, 0x42, 0xac, 0x11, 0, 2, 0x02, 0x42, 0xac, 0x11, 0, 3], 0);
  eth[12] = 0x08;
  eth[13] = 0x00;
  return Uint8Array.from([...eth, ...ip, ...tcp]);
}

/** A pcap file (little-endian, microseconds, Ethernet) holding the frames. */
export function pcapOf(segments: readonly FakeSegment[]): Uint8Array {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262_144, 16);
  header.writeUInt32LE(1, 20);
  parts.push(header);
  for (const s of segments) {
    const f = frame(s);
    const kept = f.subarray(0, s.capture ?? f.length);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(Math.floor(s.atMs / 1000), 0);
    record.writeUInt32LE(Math.round((s.atMs % 1000) * 1000), 4);
    record.writeUInt32LE(kept.length, 8);
    record.writeUInt32LE(f.length, 12);
    parts.push(record, Buffer.from(kept));
  }
  return new Uint8Array(Buffer.concat(parts));
}

export interface Exchange {
  /** Bytes each side wrote, in the order they were written. */
  readonly writes: readonly { readonly from: 'client' | 'server'; readonly bytes: Uint8Array; readonly atMs: number }[];
}

/**
 * Runs `talk` with a client socket connected, through a recording relay, to a server socket
 * handed to `serve`; returns every chunk each side wrote.
 */
export async function recordExchange(serve: (socket: Socket) => void, talk: (port: number) => Promise<void>): Promise<Exchange> {
  const writes: { from: 'client' | 'server'; bytes: Uint8Array; atMs: number }[] = [];
  const backend = createServer(serve);
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const relay = createServer((down) => {
    const up = connect((backend.address() as AddressInfo).port, '127.0.0.1');
    down.on('data', (d: Buffer) => {
      writes.push({ from: 'client', bytes: new Uint8Array(d), atMs: Date.now() });
      up.write(d);
    });
    up.on('data', (d: Buffer) => {
      writes.push({ from: 'server', bytes: new Uint8Array(d), atMs: Date.now() });
      down.write(d);
    });
    const close = (): void => {
      down.destroy();
      up.destroy();
    };
    down.on('close', close).on('error', close);
    up.on('close', close).on('error', close);
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  try {
    await talk((relay.address() as AddressInfo).port);
  } finally {
    relay.close();
    backend.close();
  }
  return { writes };
}

export interface Endpoints {
  readonly client: { readonly ip: string; readonly port: number };
  readonly server: { readonly ip: string; readonly port: number };
}

/** The exchange as a capture would hold it: SYN, SYN-ACK, ACK, one segment per write (split at `mss`), FIN both ways. */
export function segmentsOf(exchange: Exchange, at: Endpoints, options: { mss?: number; isn?: { client: number; server: number } } = {}): FakeSegment[] {
  const mss = options.mss ?? 1448;
  const isn = options.isn ?? { client: 1000, server: 5000 };
  let seq = { client: isn.client + 1, server: isn.server + 1 };
  const t0 = exchange.writes[0]?.atMs ?? 0;
  const c = { src: at.client.ip, srcPort: at.client.port, dst: at.server.ip, dstPort: at.server.port };
  const s = { src: at.server.ip, srcPort: at.server.port, dst: at.client.ip, dstPort: at.client.port };
  const out: FakeSegment[] = [
    { ...c, atMs: t0 - 3, seq: isn.client, flags: { syn: true } },
    { ...s, atMs: t0 - 2, seq: isn.server, ack: seq.client, flags: { syn: true, ack: true } },
    { ...c, atMs: t0 - 1, seq: seq.client, ack: seq.server },
  ];
  for (const w of exchange.writes) {
    const ends = w.from === 'client' ? c : s;
    for (let i = 0; i < w.bytes.length; i += mss) {
      const payload = w.bytes.subarray(i, i + mss);
      out.push({ ...ends, atMs: w.atMs, seq: seq[w.from], ack: seq[w.from === 'client' ? 'server' : 'client'], payload });
      seq = { ...seq, [w.from]: seq[w.from] + payload.length };
    }
  }
  const tEnd = (exchange.writes.at(-1)?.atMs ?? t0) + 1;
  out.push({ ...c, atMs: tEnd, seq: seq.client, ack: seq.server, flags: { fin: true, ack: true } });
  out.push({ ...s, atMs: tEnd, seq: seq.server, ack: seq.client + 1, flags: { fin: true, ack: true } });
  return out;
}
