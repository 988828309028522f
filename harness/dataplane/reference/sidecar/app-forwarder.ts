/**
 * Envoy's router on the inbound route: the allowed request goes to the app over a keep-alive
 * pool (undici's dispatch API, so a response is copied without extra stream machinery), and the
 * answer comes back as the app wrote it, plus `server: istio-envoy` and
 * `x-envoy-upstream-service-time`.
 *
 * The inbound route has no timeout (Istio sets 0s). Connection failures are retried twice when
 * nothing was sent (Istio ≥ 1.24 inbound `retry_on: reset-before-request, num_retries: 2`; here
 * only requests without a body), then answered 503 `UF` (`UF,URX` after retries). A reset before
 * the response is 503 `UC`; a reset during it resets the downstream connection.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { ENVOY_SERVER_NAME } from '../../istiod/istio-constants.ts';
import type { Pool } from './undici-core.ts';

export const UPSTREAM_RESET = 'upstream connect error or disconnect/reset before headers. reset reason: ';
const INBOUND_RETRIES = 2;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

export interface ForwardOutcome {
  /** Writes the access-log line (before the last byte goes out). */
  log(status: number, flags: string, details: string): void;
  /** Sends a local reply (and logs it). */
  localReply(status: number, body: string, flags: string, details: string): void;
}

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

export function forwardToApp(pool: Pool, req: IncomingMessage, res: ServerResponse, path: string, headers: Record<string, string | string[]>, outcome: ForwardOutcome): void {
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  let controller: Dispatcher.DispatchController | undefined;
  let downstreamGone = false;
  res.once('close', () => {
    if (res.writableFinished) return;
    // The client went away first: cancel the upstream request (flag DC is logged by the caller).
    downstreamGone = true;
    controller?.abort(new Error('downstream connection closed'));
  });
  const attempt = (n: number): void => {
    const sentAt = performance.now();
    let started = false;
    pool.dispatch(
      { method: req.method ?? 'GET', path, headers, body: hasBody ? req : null, headersTimeout: 0, bodyTimeout: 0 },
      {
        onRequestStart(c) {
          controller = c;
          if (downstreamGone) c.abort(new Error('downstream connection closed'));
        },
        onResponseStart(_controller, statusCode, upstreamHeaders) {
          started = true;
          if (downstreamGone) return;
          const out: Record<string, string | string[]> = {};
          for (const name in upstreamHeaders) {
            const value = upstreamHeaders[name as keyof IncomingHttpHeaders];
            if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
          }
          out['server'] = ENVOY_SERVER_NAME;
          out['x-envoy-upstream-service-time'] = String(Math.round(performance.now() - sentAt));
          res.writeHead(statusCode, out);
        },
        onResponseData(c, chunk) {
          if (downstreamGone) return;
          if (!res.write(chunk)) {
            c.pause();
            res.once('drain', () => c.resume());
          }
        },
        onResponseEnd() {
          if (downstreamGone) return;
          outcome.log(res.statusCode, '-', 'via_upstream');
          res.end();
        },
        onResponseError(_c, error) {
          if (downstreamGone || res.destroyed) return;
          if (started) {
            outcome.log(res.statusCode, 'UC', 'upstream_reset_after_response_started{connection_termination}');
            req.socket.destroy();
            return;
          }
          const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
          const connectFailure = CONNECT_FAILURES.has(e.code ?? e.cause?.code ?? '');
          if (connectFailure && !hasBody && n < INBOUND_RETRIES) return attempt(n + 1);
          const reason = connectFailure ? 'connection failure' : 'connection termination';
          outcome.localReply(503, `${UPSTREAM_RESET}${reason}`, connectFailure ? (n > 0 ? 'UF,URX' : 'UF') : 'UC', `upstream_reset_before_response_started{${reason.replace(' ', '_')}}`);
        },
      },
    );
  };
  attempt(0);
}
