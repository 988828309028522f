/**
 * The HTTP connection manager of the inbound chain: parse HTTP/1.1, normalize the path, run the
 * RBAC filters, forward what is allowed to the app with x-forwarded-client-cert (app-forwarder.ts),
 * and log it.
 *
 * Local replies are Envoy's: 403 `RBAC: access denied`; 400 for a path that fails normalization
 * or for bytes that are not HTTP (flag DPE, e.g. TLS sent to a DISABLE port); 431 for request
 * headers over max_request_headers_kb; 503 UF/UC when the app cannot be reached.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Pool } from './undici-core.ts';
import type { AccessLogEntry } from '../../../traffic/types.ts';
import type { AccessLog } from './access-log.ts';
import { forwardToApp, isHopByHop } from './app-forwarder.ts';
import { plainIp, type Downstream } from './downstream.ts';
import { normalizePath } from './path-normalization.ts';
import type { SidecarStats } from './stats.ts';

export const RBAC_DENIED_BODY = 'RBAC: access denied';

export interface HttpInboundDeps {
  readonly pod: string;
  readonly stats: SidecarStats;
  readonly accessLog: AccessLog;
  /** The keep-alive pool to the app port. */
  readonly upstream: (appPort: number) => Pool;
  /** Server-side limit on request header bytes (Envoy max_request_headers_kb). */
  readonly maxHeaderBytes: number;
  readonly diagnostics: (line: string) => void;
}

interface Exchange {
  readonly d: Downstream;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly time: string;
  readonly started: number;
  readonly base: Omit<AccessLogEntry, 'status' | 'responseFlags' | 'durationMs'>;
  logged: boolean;
  /** Set when a LOG (AUDIT) RBAC filter ran: Envoy's access_log_hint. */
  auditHint?: boolean;
}

export class HttpInbound {
  readonly #deps: HttpInboundDeps;
  readonly #server: Server;
  readonly #connections = new WeakMap<Socket, Downstream>();

  constructor(deps: HttpInboundDeps) {
    this.#deps = deps;
    this.#server = createServer({ maxHeaderSize: deps.maxHeaderBytes, keepAliveTimeout: 3_600_000, requireHostHeader: true }, (req, res) => this.#onRequest(req, res));
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => this.#onClientError(error, socket));
    // A client that sends its request and closes its sending side still gets the answer (Node's
    // server would abort the request on the early end).
    (this.#server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  }

  /** Takes over a connection whose first bytes were read and put back. */
  accept(socket: Socket, downstream: Downstream): void {
    this.#connections.set(socket, downstream);
    this.#server.emit('connection', socket);
    socket.resume();
  }

  /** Closes the connection if it is draining and idle. */
  settle(socket: Socket, d: Downstream): void {
    if (d.draining && d.active === 0 && !socket.destroyed) socket.end();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    // Kept here: by the time the response closes, Node may have detached it (req.socket is then null).
    const socket = req.socket;
    const d = this.#connections.get(socket);
    if (d === undefined) {
      socket.destroy();
      return;
    }
    d.active += 1;
    const time = new Date().toISOString();
    const x: Exchange = {
      d,
      req,
      res,
      time,
      started: performance.now(),
      base: {
        time,
        direction: 'inbound',
        pod: this.#deps.pod,
        downstreamAddress: d.address,
        ...(d.peerUri === undefined ? {} : { downstreamPrincipal: d.peerUri }),
        method: req.method ?? '',
        path: req.url ?? '',
        ...(req.headers.host === undefined ? {} : { authority: req.headers.host }),
        connectionSecurity: d.mutualTls ? 'mutual_tls' : 'none',
      },
      logged: false,
    };
    res.once('close', () => {
      d.active -= 1;
      // The client went away before the response was complete: DC.
      if (!x.logged) this.#log(x, res.headersSent ? res.statusCode : 0, 'DC', 'downstream_remote_disconnect');
      this.settle(socket, d);
    });
    if (d.draining) res.setHeader('connection', 'close');
    try {
      this.#handle(x);
    } catch (error) {
      // A bug must cost this request, not the sidecar.
      this.#deps.diagnostics(`request ${req.method} ${req.url} failed inside the sidecar: ${(error as Error).stack ?? String(error)}`);
      this.#localReply(x, 500, 'internal error in the reference sidecar', '-', 'meshproof_internal_error');
    }
  }

  #handle(x: Exchange): void {
    const { d, req } = x;
    const config = d.state.config;
    const target = absolutePath(req.url ?? '/');
    const normalized = normalizePath(target, config.mesh.pathNormalization);
    if (!normalized.ok) return this.#localReply(x, 400, '', '-', 'path_normalization_failed');
    const decision = d.state.rbac.http.evaluate({
      connection: d.facts,
      remoteIp: remoteIp(req, d),
      header: (name) => headerValue(req, name, normalized.path, d.mutualTls),
      urlPath: normalized.urlPath,
    });
    this.#deps.stats.rbac('http', d.statPrefix, decision.filters);
    const audit = decision.filters.filter((f) => f.action === 'LOG');
    if (audit.length > 0) x.auditHint = audit.some((f) => f.matchedPolicy !== undefined);
    if (!decision.allowed) return this.#localReply(x, 403, RBAC_DENIED_BODY, '-', decision.responseCodeDetails ?? 'rbac_access_denied');
    const upstreamHost = `${config.inbound.appAddress}:${d.port.appPort}`;
    forwardToApp(this.#deps.upstream(d.port.appPort), req, x.res, normalized.path, upstreamHeaders(req, d), {
      log: (status, flags, details) => this.#log(x, status, flags, details, upstreamHost),
      localReply: (status, body, flags, details) => this.#localReply(x, status, body, flags, details, upstreamHost),
    });
  }

  #localReply(x: Exchange, status: number, body: string, flags: string, details: string, upstreamHost?: string): void {
    const { res } = x;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), server: 'istio-envoy' });
    this.#log(x, status, flags, details, upstreamHost);
    res.end(body);
  }

  #log(x: Exchange, status: number, flags: string, details: string, upstreamHost?: string): void {
    if (x.logged) return;
    x.logged = true;
    const durationMs = Math.round((performance.now() - x.started) * 1000) / 1000;
    this.#deps.accessLog.write({ ...x.base, status, responseFlags: flags, responseCodeDetails: details, ...(upstreamHost === undefined ? {} : { upstreamHost }), ...(x.auditHint === undefined ? {} : { auditHint: x.auditHint }), durationMs });
    this.#deps.stats.httpResponse(x.d.statPrefix, status);
    this.#deps.stats.istioRequest({ ...(x.d.peerUri === undefined ? {} : { sourcePrincipal: x.d.peerUri }), protocol: 'http', responseCode: status, responseFlags: flags, mutualTls: x.d.mutualTls }, durationMs);
  }

  /** Bytes that are not HTTP/1.1, or headers that are too large: Envoy's codec error replies. */
  #onClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    const d = this.#connections.get(socket);
    if (error.code === 'ECONNRESET' || !socket.writable || d === undefined) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const [status, text, details] = tooLarge ? [431, 'Request Header Fields Too Large', 'http1.headers_too_large'] : timeout ? [408, 'Request Timeout', 'request_header_timeout'] : [400, 'Bad Request', 'http1.codec_error'];
    const body = text;
    const time = new Date().toISOString();
    this.#deps.accessLog.write({ time, direction: 'inbound', pod: this.#deps.pod, downstreamAddress: d.address, ...(d.peerUri === undefined ? {} : { downstreamPrincipal: d.peerUri }), status, responseFlags: 'DPE', responseCodeDetails: details, connectionSecurity: d.mutualTls ? 'mutual_tls' : 'none', durationMs: 0 });
    this.#deps.stats.httpResponse(d.statPrefix, status);
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncontent-type: text/plain\r\nconnection: close\r\nserver: istio-envoy\r\n\r\n${body}`);
  }

  close(): void {
    this.#server.closeAllConnections();
  }
}

/** The request target as a path: absolute-form (`http://host/x`) becomes `/x`. */
function absolutePath(target: string): string {
  if (target.startsWith('/')) return target;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (scheme === null) return target;
  const rest = target.slice(scheme[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** Header lookup for RBAC: pseudo-headers, then regular headers with repeated values joined by `,`. */
function headerValue(req: IncomingMessage, name: string, path: string, tls: boolean): string | undefined {
  switch (name) {
    case ':method':
      return req.method;
    case ':authority':
      return req.headers.host;
    case ':path':
      return path;
    case ':scheme':
      return tls ? 'https' : 'http';
    case 'host':
      return req.headers.host;
  }
  return req.headersDistinct[name]?.join(',');
}

/** `remote_ip`: the last X-Forwarded-For address (no trusted hops, use_remote_address false), else the peer [derived]. */
function remoteIp(req: IncomingMessage, d: Downstream): string {
  const xff = req.headers['x-forwarded-for'];
  if (xff === undefined) return d.facts.sourceIp;
  const last = (Array.isArray(xff) ? xff.join(',') : xff).split(',').pop()?.trim() ?? '';
  return last === '' ? d.facts.sourceIp : plainIp(last);
}

function upstreamHeaders(req: IncomingMessage, d: Downstream): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !isHopByHop(name)) headers[name] = value;
  }
  // forward_client_cert_details APPEND_FORWARD: append this hop on mutual TLS, drop the header otherwise.
  const incoming = req.headers['x-forwarded-client-cert'];
  if (d.xfcc === undefined) delete headers['x-forwarded-client-cert'];
  else headers['x-forwarded-client-cert'] = incoming === undefined ? d.xfcc : `${incoming},${d.xfcc}`;
  headers['x-forwarded-proto'] ??= d.mutualTls ? 'https' : 'http';
  headers['x-request-id'] ??= randomUUID();
  return headers;
}
