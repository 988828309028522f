import { expect } from 'chai';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { MeshCa } from '../pki/mesh-ca.ts';
import type { WorkloadCredentials } from '../pki/workload-credentials.ts';
import { CANARY_MARK, redactedExcerpt } from './excerpt.ts';
import { readCapture, readProbe, type WireReading } from './wire-capture.ts';
import { checkWire, type WireVerdict } from './wire-checks.ts';
import { pcapOf, recordExchange, segmentsOf, type Exchange, type FakeSegment } from './testing/pcap-writer.ts';

const CLIENT = { ip: '172.18.0.5', port: 41000 };
const SERVER = { ip: '172.18.0.7', port: 8080 };
const CANARY = 'mpcanary-c0ffee0123456789';
const REQUEST = `POST /pay/${CANARY} HTTP/1.1\r\nhost: payment-service:80\r\nauthorization: Bearer s3cr3t-token\r\nx-meshproof-canary: ${CANARY}\r\ncontent-length: 24\r\n\r\ncanary=${CANARY}`;
const REPLY = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"path":"/pay/${CANARY}"}`;
const MIN = { minTlsVersion: 'TLSv1.2' };

const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

function readingOf(segments: readonly FakeSegment[], canary = CANARY): WireReading {
  return readProbe(readCapture(pcapOf(segments)), { canary, callerIp: CLIENT.ip, serverIp: SERVER.ip, fromMs: segments[0]!.atMs, toMs: segments.at(-1)!.atMs });
}

function plaintext(reply: string | undefined): FakeSegment[] {
  const t = Date.now();
  const exchange: Exchange = { writes: [{ from: 'client', bytes: text(REQUEST), atMs: t }, ...(reply === undefined ? [] : [{ from: 'server' as const, bytes: text(reply), atMs: t + 2 }])] };
  return segmentsOf(exchange, { client: CLIENT, server: SERVER });
}

async function mtls(server: WorkloadCredentials, client: WorkloadCredentials, alpn: string[], maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<FakeSegment[]> {
  const exchange = await recordExchange(
    (raw: Socket) => {
      const socket = new TLSSocket(raw, { isServer: true, cert: server.certChainPem, key: server.keyPem, ca: server.rootCertPem, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['istio-peer-exchange', 'istio', 'http/1.1'] });
      socket.on('data', () => socket.end(REPLY));
      socket.on('error', () => undefined);
    },
    async (port) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, cert: client.certChainPem, key: client.keyPem, ca: client.rootCertPem, checkServerIdentity: () => undefined, ALPNProtocols: alpn, maxVersion });
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.write(REQUEST);
      await new Promise<void>((resolve) => socket.once('end', resolve).resume());
      socket.destroy();
    },
  );
  return segmentsOf(exchange, { client: CLIENT, server: SERVER });
}

function expectBroken(verdict: WireVerdict, pattern: RegExp): void {
  expect(verdict.status, JSON.stringify(verdict)).to.equal('broken');
  if (verdict.status === 'broken') expect(verdict.message).to.match(pattern);
}

describe('wire checks', function () {
  let server: WorkloadCredentials;
  let client: WorkloadCredentials;

  before(async function () {
    const ca = await MeshCa.create();
    server = await ca.issue({ namespace: 'prod', serviceAccount: 'payment' });
    client = await ca.issue({ namespace: 'prod', serviceAccount: 'order' });
  });

  describe("mtls: every byte inside TLS ≥ the mesh minimum, opened with Istio's ALPN", function () {
    it('holds for a sidecar-like mutual TLS exchange, and tells the version, cipher and ALPN offered', async function () {
      const verdict = checkWire('mtls', readingOf(await mtls(server, client, ['istio-peer-exchange', 'istio'])), MIN);
      expect(verdict.status, JSON.stringify(verdict)).to.equal('held');
      if (verdict.status !== 'held') return;
      expect(verdict.seen).to.equal('encrypted');
      expect(verdict.tls).to.include({ version: 'TLSv1.3' });
      expect(verdict.tls!.cipherSuite).to.match(/^TLS_AES_|^TLS_CHACHA20/);
      expect(verdict.tls!.alpnOffered).to.deep.equal(['istio-peer-exchange', 'istio']);
      expect(verdict.tls!.alpnChosen).to.equal(undefined);
    });

    it('under TLS 1.2 the chosen ALPN is read from the ServerHello', async function () {
      const verdict = checkWire('mtls', readingOf(await mtls(server, client, ['istio-peer-exchange', 'istio'], 'TLSv1.2')), MIN);
      expect(verdict.status === 'held' && verdict.tls).to.deep.include({ version: 'TLSv1.2', alpnChosen: 'istio-peer-exchange' });
    });

    it('fails on plaintext, naming where the canary was read and showing a redacted excerpt', function () {
      const verdict = checkWire('mtls', readingOf(plaintext(REPLY)), MIN);
      expectBroken(verdict, /the canary crossed the pod network readable \(in the request on 172\.18\.0\.5:41000 → 172\.18\.0\.7:8080\): a passive eavesdropper reads this request/);
      expect(verdict.status === 'broken' && verdict.excerpt).to.equal(`POST /pay/${CANARY_MARK} HTTP/1.1`);
    });

    it('fails on TLS without an Istio ALPN (a plain TLS client, not a sidecar)', async function () {
      expectBroken(checkWire('mtls', readingOf(await mtls(server, client, ['h2', 'http/1.1'])), MIN), /offered ALPN \[h2, http\/1\.1\], none of Istio's mTLS values/);
    });

    it('fails on a version below the mesh minimum', async function () {
      expectBroken(checkWire('mtls', readingOf(await mtls(server, client, ['istio'], 'TLSv1.2')), { minTlsVersion: 'TLSv1.3' }), /chose TLSv1\.2, below the mesh minimum TLSv1\.3/);
    });

    it('fails when bytes after the handshake are not TLS records (cleartext without the canary)', async function () {
      const segments = await mtls(server, client, ['istio']);
      const fin = segments.findIndex((s) => s.flags?.fin === true && s.src === CLIENT.ip);
      const last = segments.filter((s) => s.src === CLIENT.ip && (s.payload?.length ?? 0) > 0).at(-1)!;
      const extra: FakeSegment = { ...last, seq: last.seq + last.payload!.length, payload: text('GET /plain HTTP/1.1\r\n\r\n') };
      const withPlain = [...segments.slice(0, fin), extra, ...segments.slice(fin).map((s) => (s.src === CLIENT.ip ? { ...s, seq: s.seq + extra.payload!.length } : s))];
      expectBroken(checkWire('mtls', readingOf(withPlain), MIN), /bytes to the server stop being TLS records at byte \d+/);
    });

    it('cannot tell (unobserved, never held) when the handshake was not captured or no connection carried the probe', async function () {
      const segments = await mtls(server, client, ['istio']);
      const noStart = checkWire('mtls', readingOf(segments.slice(3)), MIN);
      expect(noStart).to.deep.include({ status: 'unobserved' });
      expect(noStart.status === 'unobserved' && noStart.reason).to.match(/handshake\) was not captured/);
      const elsewhere = readProbe(readCapture(pcapOf(segments)), { canary: CANARY, callerIp: '172.18.0.99', serverIp: SERVER.ip, fromMs: segments[0]!.atMs, toMs: segments.at(-1)!.atMs });
      expect(checkWire('mtls', elsewhere, MIN)).to.deep.include({ status: 'unobserved' });
    });
  });

  describe('no-reply: a plaintext caller to a STRICT port', function () {
    it("holds when the server sends nothing back (the caller's own request is readable, and shown)", function () {
      const verdict = checkWire('no-reply', readingOf(plaintext(undefined)), MIN);
      expect(verdict).to.deep.include({ status: 'held', seen: 'cleartext request, no reply' });
    });

    it('fails when the server answers, readable', function () {
      expectBroken(checkWire('no-reply', readingOf(plaintext(REPLY)), MIN), /answered a plaintext caller readably \(in the reply on/);
    });
  });

  describe('cleartext: plaintext to a PERMISSIVE or DISABLE port', function () {
    it('holds when the canary is readable (what the report turns into a finding)', function () {
      expect(checkWire('cleartext', readingOf(plaintext(REPLY)), MIN)).to.deep.include({ status: 'held', seen: 'cleartext' });
    });

    it('fails when the connection is TLS where Istio sends plaintext', async function () {
      expectBroken(checkWire('cleartext', readingOf(await mtls(server, client, ['istio'])), MIN), /is TLS where Istio sends plaintext/);
    });
  });
});

describe('redacted excerpts', function () {
  const excerpt = (line: string): string => {
    const bytes = text(`HTTP/1.1 200 OK\r\n${line}\r\nnext: line`);
    return redactedExcerpt(bytes, Buffer.from(bytes).indexOf(CANARY), CANARY);
  };

  it('shows the line of the canary, with the canary named, cut around it', function () {
    expect(excerpt(`x-meshproof-canary: ${CANARY}`)).to.equal(`x-meshproof-canary: ${CANARY_MARK}`);
    expect(excerpt(`${'a'.repeat(100)}${CANARY}${'b'.repeat(100)}`)).to.equal(`…${'a'.repeat(40)}${CANARY_MARK}${'b'.repeat(40)}…`);
  });

  it('never shows a credential header value or PEM material', function () {
    expect(excerpt(`{"path":"/pay/${CANARY}","authorization":"Bearer s3cr3t"}`)).to.not.include('s3cr3t');
    expect(excerpt(`{"p":"${CANARY}","xfcc":"Cert=\\"-----BEGIN%20CERTIFICATE-----MIIB"}`)).to.not.match(/MIIB|BEGIN/);
    expect(excerpt(`${CANARY} -----BEGIN PRIVATE KEY-----MIIE`)).to.not.match(/MIIE|PRIVATE/);
  });

  it('prints bytes that are not printable ASCII as ·', function () {
    const bytes = new Uint8Array([0x00, 0xff, ...text(CANARY), 0x01]);
    expect(redactedExcerpt(bytes, 2, CANARY)).to.equal(`··${CANARY_MARK}·`);
  });
});
