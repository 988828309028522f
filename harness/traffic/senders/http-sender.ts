/**
 * HTTP/1.1 and HTTPS (optionally mutual TLS) with undici, one fresh connection per call, so every
 * probe sees its own handshake. The request target is sent exactly as given.
 */
import { connect as connectTls, TLSSocket } from 'node:tls';
import { Client, buildConnector } from 'undici';
import { classifyError } from '../classify-error.ts';
import { parseEcho } from '../echo-report.ts';
import type { CallRequest, Observation, TlsObservation } from '../types.ts';
import { observeTls, toTlsOptions } from './tls-options.ts';

export const MAX_BODY_BYTES = 64 * 1024;

export async function sendHttp(request: CallRequest, timeoutMs: number): Promise<Observation> {
  const startedAt = Date.now();
  const secure = request.protocol === 'https';
  const host = request.host.includes(':') ? `[${request.host}]` : request.host;
  let tlsSocket: TLSSocket | undefined;
  // undici reports a TLS alert that arrives after the handshake (TLS 1.3 client-certificate
  // rejection) as 'other side closed'; the socket's own error says what really happened.
  let tlsFailure: Error | undefined;
  // undici's own TLS connector always offers ALPN http/1.1 only; a mesh client offers Istio's
  // values (istio-http/1.1, istio, …), so TLS sockets are made here with the request's ALPN.
  const connector = secure ? tlsConnector(request, timeoutMs) : buildConnector({ timeout: timeoutMs });
  const client = new Client(`${secure ? 'https' : 'http'}://${host}:${request.port}`, {
    connect: (options, callback) => {
      connector(options, (error, socket) => {
        if (socket instanceof TLSSocket) {
          tlsSocket = socket;
          socket.on('error', (socketError: Error) => {
            tlsFailure ??= socketError;
          });
        }
        if (error === null) callback(null, socket!);
        else callback(error, null);
      });
    },
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const base = { request, startedAt };
  try {
    const response = await client.request({
      method: request.method ?? 'GET',
      path: request.path ?? '/',
      headers: { ...request.headers },
      body: request.body ?? null,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await readLimited(response.body, MAX_BODY_BYTES);
    const headers = flattenHeaders(response.headers);
    const echo = parseEcho(body, headers);
    return {
      ...base,
      outcome: 'response',
      status: response.statusCode,
      headers,
      body,
      ...(echo === undefined ? {} : { echo }),
      ...(tlsSocket === undefined ? {} : { tls: observeTls(tlsSocket) }),
      durationMs: Date.now() - startedAt,
    };
  } catch (error) {
    const socketFailure = tlsFailure === undefined ? undefined : classifyError(tlsFailure);
    const failure = socketFailure?.outcome === 'tls-error' ? socketFailure : classifyError(error);
    let tls: TlsObservation | undefined;
    if (secure && (failure.outcome === 'tls-error' || tlsSocket !== undefined)) {
      tls = { ...(tlsSocket === undefined ? { protocol: undefined, cipher: undefined, alpn: undefined, peerChain: [] } : observeTls(tlsSocket)), ...(failure.alert === undefined ? {} : { alert: failure.alert }) };
    }
    return {
      ...base,
      outcome: failure.outcome,
      error: { code: failure.code, message: failure.message },
      ...(tls === undefined ? {} : { tls }),
      durationMs: Date.now() - startedAt,
    };
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

function tlsConnector(request: CallRequest, timeoutMs: number): buildConnector.connector {
  const options = toTlsOptions(request.tls, request.host);
  return (_connectOptions, callback) => {
    const socket = connectTls({ host: request.host, port: request.port, ...options, ALPNProtocols: options.ALPNProtocols ?? ['http/1.1'] });
    let settled = false;
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (error === null) callback(null, socket);
      else {
        socket.destroy();
        callback(error, null);
      }
    };
    const onError = (error: Error): void => settle(error);
    const timer = setTimeout(() => settle(Object.assign(new Error(`TLS connect timed out after ${timeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), timeoutMs);
    socket.once('secureConnect', () => settle(null));
    socket.once('error', onError);
    return socket;
  };
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) chunks.push(chunk.subarray(0, limit - size));
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
