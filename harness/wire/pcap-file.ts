/**
 * The pcap file format (libpcap's, as `tcpdump -w` writes it): a 24-byte global header, then one
 * 16-byte header per packet followed by the bytes captured. Both byte orders and both timestamp
 * resolutions (microseconds, nanoseconds) are read. pcapng is not: the harness's own captures
 * are pcap.
 *
 * A capture read while tcpdump still writes may end in the middle of a packet; that tail is
 * left out and said (`partialTail`), never read as a packet.
 *
 * Hand-written rather than taken from npm: `pcap-parser` (the one pure-JS reader) is an
 * event-stream parser last changed for Node 0.6 (it calls the removed `new Buffer`), and `pcap`
 * binds libpcap natively (a compiler and libpcap headers on every machine). The format is forty
 * lines; the unit tests read real tcpdump output (testdata/).
 */
import { ErrorCode, MeshproofError } from '../errors.ts';

/** Link-layer types of the captures read here (LINKTYPE_* in libpcap). */
export const LinkType = { Ethernet: 1, LinuxSll: 113, LinuxSll2: 276 } as const;

export interface PcapRecord {
  /** Capture time, milliseconds since the epoch (fractional: microsecond or nanosecond precision kept). */
  readonly atMs: number;
  /** The bytes captured (the first `capturedLength` of the packet). */
  readonly data: Uint8Array;
  /** The packet's length on the wire; more than `data.length` when the capture cut it (snap length). */
  readonly originalLength: number;
}

export interface PcapFile {
  readonly linkType: number;
  readonly snapLength: number;
  readonly records: readonly PcapRecord[];
  /** The file ends inside a packet (read while being written): that packet is left out. */
  readonly partialTail: boolean;
}

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const PCAPNG_MAGIC = 0x0a0d0d0a;

export function parsePcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < GLOBAL_HEADER) throw invalid(`it is ${bytes.length} bytes long, shorter than a pcap header (24)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  let little: boolean;
  let nanos: boolean;
  if (magic === MAGIC_MICROS || magic === MAGIC_NANOS) [little, nanos] = [false, magic === MAGIC_NANOS];
  else if (view.getUint32(0, true) === MAGIC_MICROS || view.getUint32(0, true) === MAGIC_NANOS) [little, nanos] = [true, view.getUint32(0, true) === MAGIC_NANOS];
  else if (magic === PCAPNG_MAGIC) throw invalid('it is pcapng; write captures as pcap (tcpdump -w does)');
  else throw invalid(`its magic number is 0x${magic.toString(16).padStart(8, '0')}, not pcap's`);
  const snapLength = view.getUint32(16, little);
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let at = GLOBAL_HEADER;
  let partialTail = false;
  while (at < bytes.length) {
    if (at + RECORD_HEADER > bytes.length) {
      partialTail = true;
      break;
    }
    const seconds = view.getUint32(at, little);
    const fraction = view.getUint32(at + 4, little);
    const captured = view.getUint32(at + 8, little);
    const original = view.getUint32(at + 12, little);
    if (captured > Math.max(snapLength, 262_144)) throw invalid(`the packet at byte ${at} claims ${captured} captured bytes, over the snap length ${snapLength}`);
    if (at + RECORD_HEADER + captured > bytes.length) {
      partialTail = true;
      break;
    }
    const start = at + RECORD_HEADER;
    records.push({ atMs: seconds * 1000 + (nanos ? fraction / 1e6 : fraction / 1e3), data: bytes.subarray(start, start + captured), originalLength: original });
    at = start + captured;
  }
  return { linkType, snapLength, records, partialTail };
}

function invalid(why: string): MeshproofError {
  return new MeshproofError(ErrorCode.WireCapture, `the capture cannot be read as pcap: ${why}`);
}
