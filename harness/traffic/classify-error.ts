/**
 * Turns a low-level failure into an Outcome. One place, so that "reset" means the same thing for
 * every sender: the peer closed or reset the connection before a response (curl: "Empty reply"
 * or "Connection reset by peer"), which is what Envoy does to plaintext on a STRICT port.
 */
import type { Outcome } from './types.ts';

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ABORT_ERR', 'ERR_MESHPROOF_CALL_TIMEOUT']);

export interface ClassifiedError {
  readonly outcome: Outcome;
  readonly code: string;
  readonly message: string;
  /** For TLS failures: the alert or reason, e.g. `tlsv13 alert certificate required`. */
  readonly alert?: string;
}

export function classifyError(error: unknown): ClassifiedError {
  const root = rootCause(error);
  const code = String((root as NodeJS.ErrnoException).code ?? (root as Error).name ?? 'ERROR');
  const message = (root as Error).message ?? String(root);
  if (code === 'ECONNREFUSED') return { outcome: 'refused', code, message };
  if (isTlsFailure(code, message)) return { outcome: 'tls-error', code, message, alert: tlsReason(message) };
  if (RESET_CODES.has(code)) return { outcome: 'reset', code, message };
  if (TIMEOUT_CODES.has(code) || (root as Error).name === 'TimeoutError' || (root as Error).name === 'AbortError') {
    return { outcome: 'timeout', code, message };
  }
  return { outcome: 'error', code, message };
}

/** undici wraps socket errors; the innermost cause says what the network did. */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth += 1) {
    const cause = (current as { cause?: unknown } | undefined)?.cause;
    if (cause === undefined || cause === null) break;
    // undici's "other side closed" (UND_ERR_SOCKET) is itself the most telling code.
    if ((current as NodeJS.ErrnoException).code === 'UND_ERR_SOCKET') break;
    current = cause;
  }
  return current;
}

function isTlsFailure(code: string, message: string): boolean {
  return code === 'ERR_MESHPROOF_SECURE_NAMING' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /^(?:CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|ERR_OSSL)/.test(code) || /SSL routines|alert/i.test(message);
}

/** `error:0A00045C:SSL routines::tlsv13 alert certificate required` → `tlsv13 alert certificate required`. */
export function tlsReason(message: string): string {
  const routines = /SSL routines:[^:]*:([^:\n]+)/.exec(message);
  return (routines?.[1] ?? message).trim();
}
