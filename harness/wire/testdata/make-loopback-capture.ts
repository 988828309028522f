/**
 * Makes loopback.pcap and loopback.json beside this file: a real tcpdump capture (as root, on
 * `lo`) of two exchanges between Node sockets, and what Node's TLS stack said each end agreed.
 *   1. mutual TLS 1.3 with Istio's client ALPN (istio-peer-exchange, istio), a request carrying
 *      the canary, an answer echoing it;
 *   2. plaintext HTTP/1.1 carrying the canary in path, header and body, and an answer.
 * The certificates are throwaway ones of a throwaway CA (no key is written anywhere).
 *
 *   sh scripts/node.sh harness/wire/testdata/make-loopback-capture.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, connect } from 'node:tls';
import { join } from 'node:path';
import { MeshCa } from '../../pki/mesh-ca.ts';

const CANARY = 'mpcanary-f00dfacecafe0042';
const here = import.meta.dirname;
const pcap = join(here, 'loopback.pcap');

const ca = await MeshCa.create();
const server = await ca.issue({ namespace: 'prod-namespace', serviceAccount: 'payment-service-sa' });
const client = await ca.issue({ namespace: 'prod-namespace', serviceAccount: 'order-service-sa' });

const tlsServer = createTlsServer({ cert: server.certChainPem, key: server.keyPem, ca: server.rootCertPem, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['istio-peer-exchange', 'istio'] }, (s) =>
  s.once('data', (d: Buffer) => s.end(`HTTP/1.1 200 OK\r\ncontent-length: ${d.length}\r\n\r\n${d.toString()}`)),
);
tlsServer.listen(0, '127.0.0.1');
await once(tlsServer, 'listening');
const httpServer = createHttpServer((req, res) => {
  req.resume();
  req.on('end', () => res.end(JSON.stringify({ path: req.url, headers: req.headers })));
});
httpServer.listen(0, '127.0.0.1');
await once(httpServer, 'listening');
const tlsPort = (tlsServer.address() as AddressInfo).port;
const httpPort = (httpServer.address() as AddressInfo).port;

rmSync(pcap, { force: true });
const tcpdump = spawn('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-w', pcap, `tcp and (port ${tlsPort} or port ${httpPort})`], { stdio: ['ignore', 'ignore', 'pipe'] });
await new Promise<void>((resolve) => tcpdump.stderr.on('data', (d: Buffer) => d.toString().includes('listening on') && resolve()));

const socket = connect({ host: '127.0.0.1', port: tlsPort, cert: client.certChainPem, key: client.keyPem, ca: client.rootCertPem, checkServerIdentity: () => undefined, ALPNProtocols: ['istio-peer-exchange', 'istio'] });
await once(socket, 'secureConnect');
const tlsFacts = { port: tlsPort, protocol: socket.getProtocol(), cipher: socket.getCipher().standardName, alpn: socket.alpnProtocol, alpnOffered: ['istio-peer-exchange', 'istio'] };
socket.write(`POST /pay/${CANARY} HTTP/1.1\r\nx-meshproof-canary: ${CANARY}\r\n\r\n`);
socket.resume();
await once(socket, 'end');
socket.destroy();

await new Promise<void>((resolve, reject) => {
  const body = `canary=${CANARY}`;
  const r = request({ host: '127.0.0.1', port: httpPort, method: 'POST', path: `/pay/${CANARY}`, headers: { 'x-meshproof-canary': CANARY, 'content-length': body.length, connection: 'close' } }, (res) => {
    res.resume();
    res.on('end', resolve);
  });
  r.on('error', reject);
  r.end(body);
});

await new Promise((resolve) => setTimeout(resolve, 300));
tcpdump.kill('SIGINT');
await once(tcpdump, 'exit');
tlsServer.close();
httpServer.close();
writeFileSync(join(here, 'loopback.json'), `${JSON.stringify({ canary: CANARY, tls: tlsFacts, plaintext: { port: httpPort } }, null, 2)}\n`);
process.stdout.write(`wrote ${pcap} (${readFileSync(pcap).length} bytes) and loopback.json\n`);
