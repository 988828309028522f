import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, TLSSocket, type TLSSocket as TlsSocketType } from 'node:tls';
import type { Socket } from 'node:net';
import { MeshCa } from '../pki/mesh-ca.ts';
import type { WorkloadCredentials } from '../pki/workload-credentials.ts';
import { isMeshproofError } from '../errors.ts';
import { parsePcap } from './pcap-file.ts';
import { ipv6Text } from './tcp-segment.ts';
import { findNeedle, readCapture, readProbe, tlsViewOf, type ProbeOnWire } from './wire-capture.ts';
import type { TcpConnection } from './tcp-connections.ts';
import { pcapOf, recordExchange, segmentsOf, type Exchange, type FakeSegment } from './testing/pcap-writer.ts';

const CLIENT = { ip: '172.18.0.5', port: 41000 };
const SERVER = { ip: '172.18.0.7', port: 8080 };
const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

interface Negotiated {
  readonly protocol: string | null;
  readonly cipher: string;
  readonly alpnClient: string | false | null;
  readonly alpnServer: string | false | null;
}

/** A real mutual-TLS exchange between Node's TLS client and server, recorded, and what each end says was agreed. */
async function tlsExchange(server: WorkloadCredentials, client: WorkloadCredentials, options: { maxVersion: 'TLSv1.2' | 'TLSv1.3'; alpn: string[]; message: string }): Promise<{ exchange: Exchange; negotiated: Negotiated }> {
  let alpnServer: string | false | null = false;
  let negotiated: Negotiated | undefined;
  const exchange = await recordExchange(
    (raw: Socket) => {
      const socket = new TLSSocket(raw, { isServer: true, cert: server.certChainPem, key: server.keyPem, ca: server.rootCertPem, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['istio-peer-exchange', 'istio', 'h2'] });
      socket.on('secure', () => (alpnServer = socket.alpnProtocol));
      socket.on('data', (d: Buffer) => socket.end(`echo ${d.toString()}`));
      socket.on('error', () => undefined);
    },
    async (port) => {
      const socket: TlsSocketType = tlsConnect({ host: '127.0.0.1', port, cert: client.certChainPem, key: client.keyPem, ca: client.rootCertPem, checkServerIdentity: () => undefined, ALPNProtocols: options.alpn, maxVersion: options.maxVersion });
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.write(options.message);
      await new Promise<void>((resolve) => socket.once('end', resolve).resume());
      negotiated = { protocol: socket.getProtocol(), cipher: socket.getCipher().standardName, alpnClient: socket.alpnProtocol, alpnServer: false };
      socket.destroy();
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { exchange, negotiated: { ...negotiated!, alpnServer } };
}

function plaintextExchange(request: string, reply: string | undefined): Exchange {
  const t = Date.now();
  return { writes: [{ from: 'client', bytes: text(request), atMs: t }, ...(reply === undefined ? [] : [{ from: 'server' as const, bytes: text(reply), atMs: t + 1 }])] };
}

const probeOf = (canary: string, fromMs: number, toMs: number): ProbeOnWire => ({ canary, callerIp: CLIENT.ip, serverIp: SERVER.ip, fromMs, toMs });
const windowOf = (segments: readonly FakeSegment[]): [number, number] => [segments[0]!.atMs, segments.at(-1)!.atMs];

describe('wire capture reading', function () {
  let ca: MeshCa;
  let serverCreds: WorkloadCredentials;
  let clientCreds: WorkloadCredentials;

  before(async function () {
    ca = await MeshCa.create();
    serverCreds = await ca.issue({ namespace: 'prod', serviceAccount: 'payment' });
    clientCreds = await ca.issue({ namespace: 'prod', serviceAccount: 'order' });
  });

  describe('pcap files', function () {
    it('reads both byte orders and both timestamp resolutions', function () {
      const le = pcapOf([{ atMs: 1_700_000_000_123.456, ...{ src: CLIENT.ip, srcPort: 1, dst: SERVER.ip, dstPort: 2, seq: 1 } }]);
      const file = parsePcap(le);
      expect(file.linkType).to.equal(1);
      expect(file.records).to.have.length(1);
      expect(file.records[0]!.atMs).to.be.closeTo(1_700_000_000_123.456, 0.001);
      // The same file big-endian, with nanoseconds.
      const be = Buffer.from(le);
      be.writeUInt32BE(0xa1b23c4d, 0);
      be.writeUInt16BE(2, 4);
      be.writeUInt16BE(4, 6);
      be.writeUInt32BE(262_144, 16);
      be.writeUInt32BE(1, 20);
      const r = Buffer.from(le.subarray(24, 40));
      be.writeUInt32BE(r.readUInt32LE(0), 24);
      be.writeUInt32BE(123_456_789, 28);
      be.writeUInt32BE(r.readUInt32LE(8), 32);
      be.writeUInt32BE(r.readUInt32LE(12), 36);
      expect(parsePcap(new Uint8Array(be)).records[0]!.atMs).to.be.closeTo(1_700_000_000_123.456789, 0.000001);
    });

    it('leaves out a packet the file ends inside (a capture still being written), and says so', function () {
      const whole = pcapOf([
        { atMs: 1, src: CLIENT.ip, srcPort: 1, dst: SERVER.ip, dstPort: 2, seq: 1, payload: text('first') },
        { atMs: 2, src: CLIENT.ip, srcPort: 1, dst: SERVER.ip, dstPort: 2, seq: 6, payload: text('second') },
      ]);
      const cut = parsePcap(whole.subarray(0, whole.length - 3));
      expect(cut.records).to.have.length(1);
      expect(cut.partialTail).to.equal(true);
      expect(parsePcap(whole).partialTail).to.equal(false);
    });

    it('refuses pcapng and what is not a capture, with the reason', function () {
      const ng = new Uint8Array(32);
      new DataView(ng.buffer).setUint32(0, 0x0a0d0d0a);
      for (const [bytes, pattern] of [
        [ng, /pcapng/],
        [text('GET / HTTP/1.1\r\nhost: x\r\n\r\n'), /magic number/],
        [new Uint8Array(3), /shorter than a pcap header/],
      ] as const) {
        let error: unknown;
        try {
          parsePcap(bytes);
        } catch (e) {
          error = e;
        }
        expect(isMeshproofError(error, 'MESHPROOF_ERR_WIRE_CAPTURE'), String(error)).to.equal(true);
        expect((error as Error).message).to.match(pattern);
      }
    });

    it('writes IPv6 addresses as RFC 5952 does', function () {
      const bytes = (groups: number[]): Uint8Array => new Uint8Array(groups.flatMap((g) => [g >> 8, g & 0xff]));
      expect(ipv6Text(bytes([0xfd00, 0, 0, 0, 0, 0, 0, 1]))).to.equal('fd00::1');
      expect(ipv6Text(bytes([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]))).to.equal('2001:db8:0:1::1');
      expect(ipv6Text(bytes([1, 2, 3, 4, 5, 6, 7, 8]))).to.equal('1:2:3:4:5:6:7:8');
    });
  });

  describe('TCP streams', function () {
    const request = 'POST /pay/mpcanary-0123456789abcdef HTTP/1.1\r\nx-meshproof-canary: mpcanary-0123456789abcdef\r\n\r\n';

    it('puts out-of-order and retransmitted segments back in order, each byte once', function () {
      const segments = segmentsOf(plaintextExchange(request, 'HTTP/1.1 200 OK\r\n\r\n'), { client: CLIENT, server: SERVER }, { mss: 10 });
      const data = segments.filter((s) => (s.payload?.length ?? 0) > 0 && s.src === CLIENT.ip);
      // Swap two segments and send a third twice.
      const shuffled = [...segments];
      const i = shuffled.indexOf(data[2]!);
      const j = shuffled.indexOf(data[3]!);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      shuffled.splice(shuffled.indexOf(data[5]!) + 1, 0, data[5]!);
      const capture = readCapture(pcapOf(shuffled));
      expect(capture.connections).to.have.length(1);
      const c = capture.connections[0]!;
      expect(c.client).to.deep.equal(CLIENT);
      expect(c.startSeen).to.equal(true);
      expect(Buffer.from(c.toServer.bytes).toString('latin1')).to.equal(request);
      expect(Buffer.from(c.toClient.bytes).toString('latin1')).to.equal('HTTP/1.1 200 OK\r\n\r\n');
      expect(c.toServer.missingBytes).to.equal(0);
    });

    it('finds a canary split across segments (reassembled), and says which way it went and when', function () {
      const segments = segmentsOf(plaintextExchange(request, 'ok'), { client: CLIENT, server: SERVER }, { mss: 12 });
      const reading = readProbe(readCapture(pcapOf(segments)), probeOf('mpcanary-0123456789abcdef', ...windowOf(segments)));
      expect(reading.sightings.map((s) => s.direction)).to.deep.equal(['to-server']);
      expect(reading.sightings[0]!.atMs).to.be.a('number');
    });

    it('counts the bytes a gap left out, and starts a new connection for a new SYN on the same ports', function () {
      const first = segmentsOf(plaintextExchange('aaaaaaaaaabbbbbbbbbbcccccccccc', undefined), { client: CLIENT, server: SERVER }, { mss: 10 });
      const withGap = first.filter((s) => Buffer.from(s.payload ?? []).toString() !== 'bbbbbbbbbb');
      const again = segmentsOf(plaintextExchange('second', undefined), { client: CLIENT, server: SERVER }, { isn: { client: 90_000, server: 70_000 } }).map((s) => ({ ...s, atMs: s.atMs + 1000 }));
      const capture = readCapture(pcapOf([...withGap, ...again]));
      expect(capture.connections).to.have.length(2);
      expect(capture.connections[0]!.toServer.missingBytes).to.equal(10);
      expect(Buffer.from(capture.connections[1]!.toServer.bytes).toString()).to.equal('second');
    });

    it('a connection whose SYN was not captured is read, with its start marked unseen', function () {
      const segments = segmentsOf(plaintextExchange('later bytes', undefined), { client: CLIENT, server: SERVER }).slice(3);
      const c = readCapture(pcapOf(segments)).connections[0]!;
      expect(c.startSeen).to.equal(false);
      expect(Buffer.from(c.toServer.bytes).toString()).to.equal('later bytes');
    });

    it('marks packets the capture cut short', function () {
      const segments = segmentsOf(plaintextExchange(request, undefined), { client: CLIENT, server: SERVER }).map((s) => ((s.payload?.length ?? 0) > 0 ? { ...s, capture: 60 } : s));
      const capture = readCapture(pcapOf(segments));
      expect(capture.truncatedPackets).to.equal(1);
      expect(capture.connections[0]!.truncated).to.equal(true);
    });
  });

  describe('TLS as an eavesdropper reads it, held to what Node negotiated on both ends', function () {
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      it(`${maxVersion}: the versions, cipher suite and ALPN of the hellos; every byte inside TLS records; the message nowhere readable`, async function () {
        const canary = `mpcanary-${maxVersion}-5e5e5e5e`;
        const { exchange, negotiated } = await tlsExchange(serverCreds, clientCreds, { maxVersion, alpn: ['istio-peer-exchange', 'istio'], message: `POST /pay/${canary} HTTP/1.1\r\n\r\n` });
        const segments = segmentsOf(exchange, { client: CLIENT, server: SERVER });
        const capture = readCapture(pcapOf(segments));
        const reading = readProbe(capture, probeOf(canary, ...windowOf(segments)));
        expect(reading.sightings).to.deep.equal([]);
        const tls = reading.connections[0]!.tls!;
        expect(tls.clientHello!.alpn).to.deep.equal(['istio-peer-exchange', 'istio']);
        expect(tls.clientHello!.versions).to.include(maxVersion);
        expect(tls.serverHello!.version).to.equal(negotiated.protocol);
        expect(tls.serverHello!.cipherSuite).to.equal(negotiated.cipher);
        // Up to TLS 1.2 the choice of ALPN is in the clear; TLS 1.3 encrypts it.
        expect(negotiated.alpnClient).to.equal('istio-peer-exchange');
        expect(tls.serverHello!.alpn).to.equal(maxVersion === 'TLSv1.2' ? negotiated.alpnServer : undefined);
        expect(tls.toServer.notTlsAt).to.equal(undefined);
        expect(tls.toClient.notTlsAt).to.equal(undefined);
        expect(tls.toClient.counts[23]).to.be.greaterThan(0);
      });
    }
  });
});

describe('a real tcpdump capture (testdata/loopback.pcap, made by make-loopback-capture.ts)', function () {
  const facts = JSON.parse(readFileSync(join(import.meta.dirname, 'testdata/loopback.json'), 'utf8')) as { canary: string; tls: { port: number; protocol: string; cipher: string; alpnOffered: string[] }; plaintext: { port: number } };
  const capture = readCapture(new Uint8Array(readFileSync(join(import.meta.dirname, 'testdata/loopback.pcap'))));
  const on = (port: number): TcpConnection => capture.connections.find((c) => c.server.port === port)!;

  it('holds two connections, each begun and ended in the capture, every byte accounted for', function () {
    expect(capture.connections.map((c) => c.server.port)).to.deep.equal([facts.tls.port, facts.plaintext.port]);
    for (const c of capture.connections) {
      expect(c.startSeen, c.key).to.equal(true);
      expect(c.toServer.missingBytes + c.toClient.missingBytes, c.key).to.equal(0);
      expect(c.toServer.fin && c.toClient.fin, c.key).to.equal(true);
    }
    expect(capture.truncatedPackets).to.equal(0);
  });

  it('the TLS connection reads as Node negotiated it, and the canary it carried is nowhere readable in it', function () {
    const tls = tlsViewOf(on(facts.tls.port))!;
    expect(tls.clientHello!.alpn).to.deep.equal(facts.tls.alpnOffered);
    expect(tls.serverHello).to.deep.equal({ version: facts.tls.protocol, cipherSuite: facts.tls.cipher });
    expect(findNeedle(capture, facts.canary).filter((s) => s.connection === on(facts.tls.port).key)).to.deep.equal([]);
  });

  it('the plaintext connection shows the canary both ways: in the request (path, header, body) and in the echoed reply', function () {
    const sightings = findNeedle(capture, facts.canary);
    expect(sightings.map((s) => [s.connection, s.direction])).to.deep.equal([
      [on(facts.plaintext.port).key, 'to-server'],
      [on(facts.plaintext.port).key, 'to-client'],
    ]);
    expect(tlsViewOf(on(facts.plaintext.port))).to.equal(undefined);
  });
});
