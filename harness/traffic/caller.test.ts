import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { expect } from 'chai';
import { call } from './caller.ts';
import { makeTestCerts, type TestCerts } from './testdata/openssl-certs.ts';
import type { CallRequest } from './types.ts';

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const sockets = new WeakMap<Server | HttpServer, Set<import('node:net').Socket>>();

function close(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    for (const socket of sockets.get(server) ?? []) socket.destroy();
    server.close(() => resolve());
  });
}

describe('caller', function () {
  const servers: (Server | HttpServer)[] = [];
  let certs: TestCerts;

  before(async function () {
    certs = await makeTestCerts();
  });

  after(async function () {
    await Promise.all(servers.map(close));
  });

  async function start(server: Server | HttpServer): Promise<number> {
    servers.push(server);
    const open = new Set<import('node:net').Socket>();
    sockets.set(server, open);
    server.on('connection', (socket: import('node:net').Socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    });
    return listen(server);
  }

  describe('http', function () {
    it('sends the request target byte for byte and reads the answer', async function () {
      let seen = '';
      const port = await start(createHttpServer((request, response) => {
        seen = `${request.method} ${request.url}`;
        response.end('ok');
      }));
      const target = '/app/..%2F/./admin//x;a=b?q=1';
      const observation = await call({ protocol: 'http', host: '127.0.0.1', port, method: 'POST', path: target });
      expect(observation.outcome).to.equal('response');
      expect(observation.status).to.equal(200);
      expect(observation.body).to.equal('ok');
      expect(seen).to.equal(`POST ${target}`);
    });

    it('reports refused when nothing listens', async function () {
      const port = await start(createTcpServer());
      await close(servers.pop()!);
      const observation = await call({ protocol: 'http', host: '127.0.0.1', port });
      expect(observation.outcome).to.equal('refused');
      expect(observation.error?.code).to.equal('ECONNREFUSED');
    });

    it('reports reset when the server closes the connection without answering (as STRICT does to plaintext)', async function () {
      const port = await start(createTcpServer((socket) => socket.once('data', () => socket.destroy())));
      const observation = await call({ protocol: 'http', host: '127.0.0.1', port });
      expect(observation.outcome).to.equal('reset');
      expect(observation.status).to.equal(undefined);
    });

    it('reports timeout when the server never answers', async function () {
      const port = await start(createTcpServer(() => undefined));
      const observation = await call({ protocol: 'http', host: '127.0.0.1', port, timeoutMs: 200 });
      expect(observation.outcome).to.equal('timeout');
      expect(observation.durationMs).to.be.within(150, 2000);
    });
  });

  describe('https (mutual TLS)', function () {
    let port: number;
    before(async function () {
      port = await start(createHttpsServer({ cert: certs.server.certPem, key: certs.server.keyPem, ca: certs.caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, (request, response) => {
        const peer = (request.socket as import('node:tls').TLSSocket).getPeerCertificate();
        response.end(peer.subjectaltname ?? '');
      }));
    });

    const mtls = (extra: Partial<CallRequest> = {}): CallRequest => ({
      protocol: 'https', host: '127.0.0.1', port,
      tls: { caPem: certs.caPem, certChainPem: certs.client.certPem, keyPem: certs.client.keyPem, servername: 'server' },
      ...extra,
    });

    it('completes mutual TLS and records the server identity it was shown', async function () {
      const observation = await call(mtls());
      expect(observation.outcome).to.equal('response');
      expect(observation.body).to.contain(certs.client.uri);
      expect(observation.tls?.peerChain[0]?.uriSans).to.deep.equal([certs.server.uri]);
      expect(observation.tls?.protocol).to.equal('TLSv1.3');
    });

    it('refuses a server whose identity is not the expected one (secure naming)', async function () {
      const wrong = await call({ ...mtls(), tls: { ...mtls().tls, expectServerIdentity: 'spiffe://cluster.local/ns/test/sa/payment' } });
      expect(wrong.outcome).to.equal('tls-error');
      expect(wrong.error?.code).to.equal('ERR_MESHPROOF_SECURE_NAMING');
      const right = await call({ ...mtls(), tls: { ...mtls().tls, expectServerIdentity: certs.server.uri } });
      expect(right.outcome).to.equal('response');
    });

    it('offers the ALPN protocols the request names (Istio clients offer istio-http/1.1)', async function () {
      const alpn = await start(createHttpsServer({ cert: certs.server.certPem, key: certs.server.keyPem, ALPNProtocols: ['istio-http/1.1', 'http/1.1'] }, (request, response) => {
        response.end((request.socket as import('node:tls').TLSSocket).alpnProtocol || 'none');
      }));
      const istio = await call({ protocol: 'https', host: '127.0.0.1', port: alpn, tls: { alpn: ['istio-http/1.1', 'istio', 'http/1.1'] } });
      expect(istio.body).to.equal('istio-http/1.1');
      expect(istio.tls?.alpn).to.equal('istio-http/1.1');
      const plain = await call({ protocol: 'https', host: '127.0.0.1', port: alpn, tls: {} });
      expect(plain.body).to.equal('http/1.1');
    });

    it('is refused in the handshake without a client certificate', async function () {
      const observation = await call({ ...mtls(), tls: { caPem: certs.caPem, servername: 'server' } });
      expect(observation.outcome).to.equal('tls-error');
      expect(observation.tls?.alert).to.match(/certificate required/);
    });
  });

  describe('tls-handshake and tcp', function () {
    it('reports a protocol-version alert for a TLS 1.1-only client', async function () {
      const port = await start(createHttpsServer({ cert: certs.server.certPem, key: certs.server.keyPem, minVersion: 'TLSv1.2' }));
      const observation = await call({ protocol: 'tls-handshake', host: '127.0.0.1', port, tls: { maxVersion: 'TLSv1.1', minVersion: 'TLSv1.1' } });
      expect(observation.outcome).to.equal('tls-error');
      expect(observation.tls?.alert).to.match(/protocol version|unsupported protocol/);
    });

    it('returns the server chain of a completed handshake', async function () {
      const port = await start(createHttpsServer({ cert: certs.server.certPem, key: certs.server.keyPem }));
      const observation = await call({ protocol: 'tls-handshake', host: '127.0.0.1', port });
      expect(observation.outcome).to.equal('connected');
      expect(observation.tls?.peerChain[0]?.uriSans).to.deep.equal([certs.server.uri]);
    });

    it('reads raw TCP until the peer closes, and calls a close with no bytes a reset', async function () {
      const answering = await start(createTcpServer((socket) => socket.once('data', (d) => socket.end(`pong:${d}`))));
      const silent = await start(createTcpServer((socket) => socket.end()));
      const answered = await call({ protocol: 'tcp', host: '127.0.0.1', port: answering, body: 'ping' });
      expect(answered.outcome).to.equal('connected');
      expect(answered.body).to.equal('pong:ping');
      const closed = await call({ protocol: 'tcp', host: '127.0.0.1', port: silent, body: 'ping' });
      expect(closed.outcome).to.equal('reset');
      expect(closed.error?.code).to.equal('EOF');
    });
  });
});
