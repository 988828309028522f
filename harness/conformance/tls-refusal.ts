/**
 * Who ended a TLS handshake that did not complete. A probe offering an old TLS version proves the
 * server's floor only if the server itself refused it: an alert received from the peer. An error
 * our own client raised before sending a ClientHello (OpenSSL's "no protocols available" when only
 * a maximum version is set below Node's default minimum) says nothing about the server; it is an
 * infrastructure error, never a pass.
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import type { Observation } from '../traffic/types.ts';
import type { Check } from './checks.ts';
import { describeObservation } from '../traffic/evidence.ts';

export type TlsRefusal =
  /** The peer sent a protocol_version alert: the server refused the version offered. */
  | { readonly kind: 'version-refused-by-peer'; readonly alert: string }
  /** The peer sent another alert (handshake failure, bad certificate, …): refused, but not for the version. */
  | { readonly kind: 'other-peer-alert'; readonly alert: string }
  /** Our client failed before sending anything (no protocol or cipher it may offer). */
  | { readonly kind: 'client-side'; readonly reason: string }
  /** The handshake completed (a response, or a completed handshake): the server accepted. */
  | { readonly kind: 'accepted'; readonly protocol: string | undefined }
  /** The connection was closed or reset with no alert: nothing proves who refused, or why. */
  | { readonly kind: 'closed-without-alert'; readonly reason: string }
  /** Anything else (a local certificate check, a timeout, a non-TLS answer). */
  | { readonly kind: 'other'; readonly reason: string };

/** OpenSSL errors raised locally before any handshake byte is sent. */
const CLIENT_SIDE_CODES = new Set(['ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_NO_CIPHERS_AVAILABLE', 'ERR_SSL_NO_CIPHER_MATCH']);
const CLIENT_SIDE_MESSAGES = /no protocols available|no ciphers available|no cipher match/i;
/** OpenSSL names a received alert `…_ALERT_…` in its code and "SSL alert number N" in its message. */
const PEER_ALERT_CODE = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_/;
const PROTOCOL_VERSION_ALERT = /alert protocol version|SSL alert number 70\b|ALERT_PROTOCOL_VERSION/i;

export function classifyTlsRefusal(observation: Observation): TlsRefusal {
  if (observation.outcome === 'response' || observation.outcome === 'connected') return { kind: 'accepted', protocol: observation.tls?.protocol };
  const code = observation.error?.code ?? '';
  const message = observation.error?.message ?? '';
  const alert = observation.tls?.alert ?? message;
  if (CLIENT_SIDE_CODES.has(code) || CLIENT_SIDE_MESSAGES.test(`${message} ${alert}`)) return { kind: 'client-side', reason: `${code} ${alert}`.trim() };
  if (observation.outcome === 'reset') return { kind: 'closed-without-alert', reason: `${code} ${message}`.trim() };
  if (observation.outcome === 'tls-error' && (PEER_ALERT_CODE.test(code) || /SSL alert number \d+/.test(message) || /\balert\b/.test(alert))) {
    return PROTOCOL_VERSION_ALERT.test(`${code} ${message} ${alert}`) ? { kind: 'version-refused-by-peer', alert } : { kind: 'other-peer-alert', alert };
  }
  return { kind: 'other', reason: describeObservation(observation) };
}

/**
 * The server refused the TLS version the client offered, with a protocol_version alert. A failure
 * raised by our own client is thrown as an infrastructure error: it is no evidence either way.
 */
export function versionRefusedByServer(): Check {
  return ({ observation }) => {
    const seen = classifyTlsRefusal(observation);
    switch (seen.kind) {
      case 'version-refused-by-peer':
        return undefined;
      case 'client-side':
        throw new MeshproofError(ErrorCode.ProbeClient, `the probe's own TLS client failed before sending a ClientHello (${seen.reason}): this says nothing about the server`, {
          hint: 'set both minVersion and maxVersion on an old-version probe, and lower the security level (ciphers DEFAULT:@SECLEVEL=0)',
        });
      case 'accepted':
        return new Error(`expected the server to refuse the TLS version with a protocol_version alert, but the handshake completed (${seen.protocol ?? 'version unknown'}): the server accepted ${observation.request.tls?.maxVersion ?? 'it'}`);
      case 'other-peer-alert':
        return new Error(`expected a protocol_version alert from the server, it sent '${seen.alert}': refused, but not for the version`);
      case 'closed-without-alert':
        return new Error(`expected a protocol_version alert from the server, the connection was closed with no alert (${seen.reason}): nothing proves the server refused the version`);
      case 'other':
        return new Error(`expected a protocol_version alert from the server, got ${seen.reason}`);
    }
  };
}
