/**
 * One upstream connection: TCP, then, for an endpoint that takes mutual TLS, Istio's
 * ISTIO_MUTUAL origination with the workload's own certificate (the same context the inbound
 * side serves with), TLS ≥ the mesh minimum, Istio's ALPN and SNI.
 *
 * Secure naming: the server's chain must lead to the mesh root, and its certificate must carry
 * one of the URI SANs the cluster expects (the destination service's service accounts). A
 * certificate for any other identity — an impostor holding a valid mesh certificate of its own —
 * fails the connection, as Envoy's `match_typed_subject_alt_names` does (counted as
 * ssl.fail_verify_san; the request gets 503 UF).
 *
 * The connect timeout covers TCP and the TLS handshake.
 */
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { ClusterConfig, EndpointConfig } from '../../../istiod/outbound-config.ts';
import type { CertificateStore } from '../certificate-store.ts';

export type SslFailure = 'fail_verify_san' | 'fail_verify_error' | 'connection_error';

export class ConnectFailure extends Error {
  readonly reason: 'connection failure' | 'connection timeout';
  readonly ssl: SslFailure | undefined;
  /** Envoy's transport failure reason, e.g. `TLS_error:CERTIFICATE_VERIFY_FAILED:SAN_mismatch`. */
  readonly transport: string | undefined;

  constructor(message: string, reason: ConnectFailure['reason'], ssl?: SslFailure, transport?: string) {
    super(message);
    this.reason = reason;
    this.ssl = ssl;
    this.transport = transport;
  }
}

export interface UpstreamSocket {
  readonly socket: Socket;
  /** `ip:port` actually reached. */
  readonly remoteAddress: string;
  /** The server's URI SAN, on mutual TLS. */
  readonly peerIdentity?: string;
}

/** OpenSSL's certificate verification errors: the chain, validity or signature is wrong. */
const VERIFY_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'UNSUPPORTED_CERTIFICATE_PURPOSE',
]);
const SAN_MISMATCH = 'ERR_MESHPROOF_SAN_MISMATCH';

function uriSansOf(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
}

export function connectUpstream(endpoint: EndpointConfig, cluster: Pick<ClusterConfig, 'tls' | 'connectTimeoutMs'>, certificates: CertificateStore): Promise<UpstreamSocket> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let socket: Socket;
    const fail = (error: ConnectFailure): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new ConnectFailure(`no connection to ${endpoint.address}:${endpoint.port} within ${cluster.connectTimeoutMs} ms`, 'connection timeout')), cluster.connectTimeoutMs);
    const done = (peerIdentity?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve({ socket, remoteAddress: `${socket.remoteAddress ?? endpoint.address}:${socket.remotePort ?? endpoint.port}`, ...(peerIdentity === undefined ? {} : { peerIdentity }) });
    };
    if (!endpoint.tls) {
      socket = tcpConnect({ host: endpoint.address, port: endpoint.port, noDelay: true });
      socket.once('connect', () => done());
      socket.once('error', (error: NodeJS.ErrnoException) => fail(new ConnectFailure(`${endpoint.address}:${endpoint.port}: ${error.code ?? error.message}`, 'connection failure')));
      return;
    }
    const expected = cluster.tls.subjectAltNames;
    const tls: TLSSocket = tlsConnect({
      host: endpoint.address,
      port: endpoint.port,
      ...(isIP(cluster.tls.sni) === 0 ? { servername: cluster.tls.sni } : {}),
      secureContext: certificates.current.context,
      ALPNProtocols: [...cluster.tls.alpn],
      rejectUnauthorized: true,
      checkServerIdentity: (_host, cert) => {
        const found = uriSansOf(cert);
        if (found.some((uri) => expected.includes(uri))) return undefined;
        const error = new Error(`secure naming: the server presents ${found.join(', ') || 'no URI SAN'}, expected ${expected.join(' or ')}`) as NodeJS.ErrnoException;
        error.code = SAN_MISMATCH;
        return error;
      },
    });
    socket = tls;
    tls.once('secureConnect', () => done(uriSansOf(tls.getPeerCertificate()).find((uri) => expected.includes(uri))));
    tls.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      if (code === SAN_MISMATCH) return fail(new ConnectFailure(error.message, 'connection failure', 'fail_verify_san', 'TLS_error:CERTIFICATE_VERIFY_FAILED:SAN_mismatch'));
      if (VERIFY_ERRORS.has(code)) return fail(new ConnectFailure(`${endpoint.address}:${endpoint.port}: server certificate: ${code}`, 'connection failure', 'fail_verify_error', `TLS_error:CERTIFICATE_VERIFY_FAILED:${code}`));
      // Before the TCP connection is up it is a plain connect failure; after, a failed handshake.
      const handshake = tls.connecting === false && code !== 'ECONNREFUSED';
      fail(new ConnectFailure(`${endpoint.address}:${endpoint.port}: ${code || error.message}`, 'connection failure', handshake ? 'connection_error' : undefined, handshake ? `TLS_error:${code || 'handshake'}` : undefined));
    });
  });
}
