import { expect } from 'chai';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { inspectClientHello } from './client-hello.ts';

/** The first bytes a real TLS client (node:tls, i.e. OpenSSL) sends with these options. */
async function clientHello(options: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket) => {
      let data = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (inspectClientHello(data).kind !== 'need-more') {
          socket.destroy();
          resolve(data);
        }
      });
    });
  });
  const client = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  client.on('error', () => undefined);
  try {
    return await got;
  } finally {
    client.destroy();
    server.close();
  }
}

describe('tls_inspector: ClientHello inspection', function () {
  it('reads SNI and ALPN from a real ClientHello', async function () {
    const hello = await clientHello({ servername: 'outbound_.80_._.payment.prod.svc.cluster.local', ALPNProtocols: ['istio-peer-exchange', 'istio'] });
    expect(inspectClientHello(hello)).to.deep.equal({ kind: 'tls', sni: 'outbound_.80_._.payment.prod.svc.cluster.local', alpn: ['istio-peer-exchange', 'istio'], complete: true });
  });

  it('asks for more bytes until the ClientHello is whole, and never for a plaintext request', async function () {
    const hello = await clientHello({ ALPNProtocols: ['h2', 'http/1.1'] });
    expect(inspectClientHello(hello.subarray(0, 1))).to.deep.equal({ kind: 'need-more' });
    expect(inspectClientHello(hello.subarray(0, 40))).to.deep.equal({ kind: 'need-more' });
    expect(inspectClientHello(hello)).to.include({ kind: 'tls', sni: '' });
    expect(inspectClientHello(Buffer.from('GET / HTTP/1.1\r\n'))).to.deep.equal({ kind: 'plaintext' });
    expect(inspectClientHello(Buffer.from([0x16, 0x48]))).to.deep.equal({ kind: 'plaintext' });
  });

  it('treats a handshake record that is not a ClientHello as TLS with nothing to read (the TLS stack refuses it)', function () {
    const record = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x06, 0x02, 0x00, 0x00, 0x02, 0x03, 0x03]);
    expect(inspectClientHello(record)).to.deep.equal({ kind: 'tls', sni: '', alpn: [], complete: false });
  });
});
