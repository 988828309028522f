import type { ConnectionOptions, PeerCertificate as NodePeerCertificate, TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { ClientTls, PeerCertificate, TlsObservation } from '../types.ts';

/** node:tls connection options for a ClientTls; server verification only when roots are given. */
export function toTlsOptions(tls: ClientTls | undefined, host: string): ConnectionOptions {
  const options: ConnectionOptions = {
    rejectUnauthorized: tls?.caPem !== undefined,
    servername: tls?.servername ?? (isIp(host) ? undefined : host),
  };
  if (tls?.caPem !== undefined) options.ca = tls.caPem;
  options.checkServerIdentity = (_host, certificate) => secureNamingError(tls?.expectServerIdentity, certificate.subjectaltname);
  if (tls?.certChainPem !== undefined) options.cert = tls.certChainPem;
  if (tls?.keyPem !== undefined) options.key = tls.keyPem;
  if (tls?.minVersion !== undefined) options.minVersion = tls.minVersion;
  if (tls?.maxVersion !== undefined) options.maxVersion = tls.maxVersion;
  if (tls?.alpn !== undefined) options.ALPNProtocols = [...tls.alpn];
  // Old protocol versions need OpenSSL's security level lowered to be offered at all.
  if (tls?.maxVersion === 'TLSv1' || tls?.maxVersion === 'TLSv1.1') options.ciphers = 'DEFAULT:@SECLEVEL=0';
  return options;
}

/** Mesh identity check in place of host-name verification (node:tls calls it after the chain verifies). */
export function secureNamingError(expected: string | undefined, subjectAltName: string | undefined): Error | undefined {
  if (expected === undefined) return undefined;
  const uris = (subjectAltName ?? '').split(', ').filter((e) => e.startsWith('URI:')).map((e) => e.slice(4));
  if (uris.includes(expected)) return undefined;
  const error = new Error(`secure naming: server identity [${uris.join(', ') || 'no URI SAN'}] is not the expected ${expected}`) as NodeJS.ErrnoException;
  error.code = 'ERR_MESHPROOF_SECURE_NAMING';
  return error;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** What the handshake showed: protocol, cipher and the chain the server presented. */
export function observeTls(socket: TLSSocket): TlsObservation {
  const alpn = socket.alpnProtocol;
  return {
    protocol: socket.getProtocol() ?? undefined,
    cipher: socket.getCipher()?.name,
    alpn: typeof alpn === 'string' ? alpn : undefined,
    peerChain: peerChain(socket),
  };
}

function peerChain(socket: TLSSocket): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  let current = socket.getPeerCertificate(true) as NodePeerCertificate & { issuerCertificate?: NodePeerCertificate };
  const seen = new Set<string>();
  while (current !== undefined && current !== null && current.raw !== undefined && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(describeCertificate(new X509Certificate(current.raw)));
    current = current.issuerCertificate as typeof current;
  }
  return chain;
}

export function describeCertificate(cert: X509Certificate): PeerCertificate {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    uriSans: (cert.subjectAltName ?? '')
      .split(', ')
      .filter((entry) => entry.startsWith('URI:'))
      .map((entry) => entry.slice(4)),
    fingerprint256: cert.fingerprint256,
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    pem: cert.toString(),
  };
}
