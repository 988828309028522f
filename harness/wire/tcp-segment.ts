/**
 * One captured packet, decoded as far as TCP: link layer (Ethernet with an optional 802.1Q tag,
 * or Linux cooked capture v1/v2), IPv4 or IPv6, then the TCP header. Anything else (ARP, UDP,
 * an IP fragment, an IPv6 extension header before TCP) is not a segment here.
 */
import { LinkType, type PcapRecord } from './pcap-file.ts';

export interface TcpSegment {
  readonly atMs: number;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly syn: boolean;
  readonly ackFlag: boolean;
  readonly fin: boolean;
  readonly rst: boolean;
  readonly payload: Uint8Array;
  /** The capture cut this packet short: `payload` lacks bytes that crossed the wire. */
  readonly truncated: boolean;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const IP_PROTOCOL_TCP = 6;

/** The TCP segment a captured packet carries, or undefined when it carries none. */
export function decodeTcpSegment(record: PcapRecord, linkType: number): TcpSegment | undefined {
  const network = networkLayer(record.data, linkType);
  if (network === undefined) return undefined;
  const ip = network.etherType === ETHERTYPE_IPV4 ? ipv4(network.bytes) : network.etherType === ETHERTYPE_IPV6 ? ipv6(network.bytes) : undefined;
  if (ip === undefined) return undefined;
  const t = ip.payload;
  if (t.length < 20) return undefined;
  const headerLength = (t[12]! >> 4) * 4;
  if (headerLength < 20 || headerLength > t.length) return undefined;
  const flags = t[13]!;
  const view = new DataView(t.buffer, t.byteOffset, t.byteLength);
  return {
    atMs: record.atMs,
    src: ip.src,
    srcPort: view.getUint16(0),
    dst: ip.dst,
    dstPort: view.getUint16(2),
    seq: view.getUint32(4),
    ack: view.getUint32(8),
    fin: (flags & 0x01) !== 0,
    syn: (flags & 0x02) !== 0,
    rst: (flags & 0x04) !== 0,
    ackFlag: (flags & 0x10) !== 0,
    payload: t.subarray(headerLength),
    truncated: record.data.length < record.originalLength || ip.cut,
  };
}

function networkLayer(data: Uint8Array, linkType: number): { etherType: number; bytes: Uint8Array } | undefined {
  const u16 = (at: number): number => (data[at]! << 8) | data[at + 1]!;
  switch (linkType) {
    case LinkType.Ethernet: {
      if (data.length < 14) return undefined;
      let at = 12;
      let type = u16(at);
      while (type === ETHERTYPE_VLAN && data.length >= at + 6) {
        at += 4;
        type = u16(at);
      }
      return { etherType: type, bytes: data.subarray(at + 2) };
    }
    case LinkType.LinuxSll:
      return data.length < 16 ? undefined : { etherType: u16(14), bytes: data.subarray(16) };
    case LinkType.LinuxSll2:
      return data.length < 20 ? undefined : { etherType: u16(0), bytes: data.subarray(20) };
    default:
      return undefined;
  }
}

interface IpPacket {
  readonly src: string;
  readonly dst: string;
  readonly payload: Uint8Array;
  /** The IP packet is longer than what was captured of it. */
  readonly cut: boolean;
}

function ipv4(b: Uint8Array): IpPacket | undefined {
  if (b.length < 20 || b[0]! >> 4 !== 4) return undefined;
  const headerLength = (b[0]! & 0x0f) * 4;
  const total = (b[2]! << 8) | b[3]!;
  const fragment = ((b[6]! & 0x1f) << 8) | b[7]!;
  const moreFragments = (b[6]! & 0x20) !== 0;
  if (b[9] !== IP_PROTOCOL_TCP || fragment !== 0 || moreFragments || headerLength < 20) return undefined;
  // Ethernet pads short frames: the IP total length says where the packet ends. A total of 0
  // is what a capture of a TSO/GSO packet may carry (the kernel fills it in later).
  const end = total === 0 ? b.length : Math.min(total, b.length);
  return { src: b.subarray(12, 16).join('.'), dst: b.subarray(16, 20).join('.'), payload: b.subarray(headerLength, end), cut: total > b.length };
}

function ipv6(b: Uint8Array): IpPacket | undefined {
  if (b.length < 40 || b[0]! >> 4 !== 6 || b[6] !== IP_PROTOCOL_TCP) return undefined;
  const length = (b[4]! << 8) | b[5]!;
  const end = length === 0 ? b.length : Math.min(40 + length, b.length);
  return { src: ipv6Text(b.subarray(8, 24)), dst: ipv6Text(b.subarray(24, 40)), payload: b.subarray(40, end), cut: 40 + length > b.length };
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run of zero groups as `::`. */
export function ipv6Text(bytes: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j += 1;
    if (j - i > best.length && j - i > 1) best = { at: i, length: j - i };
    i = j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.length).join(':')}`;
}
