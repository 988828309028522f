/**
 * One accepted downstream connection, after the filter chain is chosen and TLS (if any) is done:
 * what authorization, the access log and metrics need to know about it, and the config
 * generation it was accepted under (a connection keeps its generation until it closes, as a
 * connection keeps its Envoy filter chain; a newer generation drains it).
 */
import { createHash, type X509Certificate } from 'node:crypto';
import type { InboundPort, SidecarConfig } from '../config.ts';
import { dnsSans, uriSans } from './certificate-store.ts';
import type { JwtAuthn } from './jwt-authn.ts';
import type { ConnectionFacts, PeerCertificateFacts, RbacEngine } from './rbac-engine.ts';

/** A config generation, compiled. */
export interface SidecarState {
  readonly config: SidecarConfig;
  readonly generation: number;
  /** `httpCustom`: the CUSTOM filters, which run before jwt_authn; `http`: the rest of the HTTP chain. */
  readonly rbac: { readonly httpCustom: RbacEngine; readonly http: RbacEngine; readonly tcp: RbacEngine };
  readonly jwt?: JwtAuthn;
}

export interface Downstream {
  readonly state: SidecarState;
  readonly port: InboundPort;
  /** `inbound_<port>`: the HTTP connection manager / TCP stat prefix. */
  readonly statPrefix: string;
  readonly facts: ConnectionFacts;
  readonly mutualTls: boolean;
  /** The peer's first URI SAN (its SPIFFE id), on mutual TLS. */
  readonly peerUri?: string;
  /** This hop's x-forwarded-client-cert element, on mutual TLS. */
  readonly xfcc?: string;
  /** `ip:port` of the caller. */
  readonly address: string;
  readonly startedAt: number;
  /** Set when a newer config generation arrived: close once idle. */
  draining: boolean;
  /** Requests in flight on this connection. */
  active: number;
}

export function peerFacts(cert: X509Certificate): PeerCertificateFacts {
  return { uriSans: uriSans(cert), dnsSans: dnsSans(cert), subject: rfc2253(cert.subject) };
}

/**
 * Envoy's XFCC element with `set_current_client_cert_details {subject, uri, dns}`:
 * `By=<local URI SAN>;Hash=<sha256 of the peer certificate, hex>;Subject="…";URI=<peer URI SAN>;DNS=…`.
 */
export function xfccElement(localUri: string, peer: X509Certificate, facts: PeerCertificateFacts): string {
  const hash = createHash('sha256').update(peer.raw).digest('hex');
  let element = `By=${localUri};Hash=${hash};Subject="${facts.subject.replaceAll('"', '\\"')}"`;
  for (const uri of facts.uriSans) element += `;URI=${uri}`;
  for (const dns of facts.dnsSans) element += `;DNS=${dns}`;
  return element;
}

/** Node prints `CN=a\nO=b` in certificate order; RFC 2253 (what Envoy prints) is reversed and comma-joined. */
function rfc2253(subject: string | undefined): string {
  // Node gives undefined for an empty subject (Istio's workload certificates have none).
  return subject === undefined || subject === '' ? '' : subject.split('\n').reverse().join(',');
}

/** Plain IPv4 for IPv4-mapped IPv6 addresses. */
export function plainIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
