/**
 * A TLS handshake and nothing else: connect, complete (or fail) the handshake, record what the
 * server presented, close. With TLS 1.3 a server that rejects the client certificate sends its
 * alert after the client's Finished, so the sender waits briefly for an alert before it calls the
 * handshake accepted.
 */
import { connect } from 'node:tls';
import { classifyError } from '../classify-error.ts';
import type { CallRequest, Observation, TlsObservation } from '../types.ts';
import { observeTls, toTlsOptions } from './tls-options.ts';

/** How long to wait after the handshake for a post-handshake alert (TLS 1.3 client-certificate rejection). */
export const POST_HANDSHAKE_WAIT_MS = 300;

const NO_TLS: TlsObservation = { protocol: undefined, cipher: undefined, alpn: undefined, peerChain: [] };

export function sendTlsHandshake(request: CallRequest, timeoutMs: number): Promise<Observation> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    let tls: TlsObservation | undefined;
    let waitAlert: NodeJS.Timeout | undefined;
    const socket = connect({ host: request.host, port: request.port, ...toTlsOptions(request.tls, request.host) });
    const finish = (result: Omit<Observation, 'request' | 'startedAt' | 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(waitAlert);
      socket.destroy();
      resolve({ request, startedAt, durationMs: Date.now() - startedAt, ...result });
    };
    const timer = setTimeout(() => finish({ outcome: 'timeout', error: { code: 'ERR_MESHPROOF_CALL_TIMEOUT', message: `no handshake within ${timeoutMs} ms` } }), timeoutMs);
    socket.once('secureConnect', () => {
      tls = observeTls(socket);
      waitAlert = setTimeout(() => finish({ outcome: 'connected', tls: tls! }), POST_HANDSHAKE_WAIT_MS);
    });
    // Reading is what surfaces a post-handshake alert.
    socket.on('data', () => undefined);
    socket.on('error', (error) => {
      const failure = classifyError(error);
      const alert = failure.alert === undefined ? {} : { alert: failure.alert };
      finish({
        outcome: failure.outcome,
        error: { code: failure.code, message: failure.message },
        ...(failure.outcome === 'tls-error' || tls !== undefined ? { tls: { ...(tls ?? NO_TLS), ...alert } } : {}),
      });
    });
    socket.once('close', () => {
      if (tls !== undefined) finish({ outcome: 'connected', tls });
      else finish({ outcome: 'reset', error: { code: 'EOF', message: 'connection closed during the handshake' } });
    });
  });
}
