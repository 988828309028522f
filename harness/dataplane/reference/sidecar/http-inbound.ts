/**
 * The HTTP connection manager of the inbound chain: parse HTTP/1.1, normalize the path, run the
 * filters in istiod's order (CUSTOM RBAC, jwt_authn, then AUDIT/DENY/ALLOW RBAC reading the JWT's
 * metadata), forward what is allowed to the app with x-forwarded-client-cert (app-forwarder.ts),
 * and log it.
 *
 * Local replies are Envoy's: 403 `RBAC: access denied`; 401 with jwt_verify_lib's status text for
 * a JWT that fails (jwt_authn); 400 for a path that fails normalization
 * or for bytes that are not HTTP (flag DPE, e.g. TLS sent to a DISABLE port); 431 for request
 * headers over max_request_headers_kb; 503 UF/UC when the app cannot be reached. As Envoy 1.40
 * under istiod (which leaves accept_http_10 off), an HTTP/1.0 request is answered 426 `low_version`
 * before anything else, an HTTP/1.1 request without Host 400 `missing_host_header` (logged, with
 * its method and path), and an absolute-form target (`POST http://other.example/x`) takes its
 * authority from the URI: RBAC, the access log and the app all see `other.example` and `/x`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ENVOY_SERVER_NAME } from '../../istiod/istio-constants.ts';
import type { Pool } from './undici-core.ts';
import type { AccessLogEntry } from '../../../traffic/types.ts';
import type { AccessLog } from './access-log.ts';
import { forwardToApp, isHopByHop } from './app-forwarder.ts';
import { plainIp, type Downstream } from './downstream.ts';
import { normalizePath } from './path-normalization.ts';
import type { RbacRequest } from './rbac-engine.ts';
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
  /** `:authority`: the absolute-form target's authority, else the Host header. */
  readonly authority: string | undefined;
  /** The request target as a path (absolute-form reduced to its path). */
  readonly target: string;
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
    this.#server = createServer({ maxHeaderSize: deps.maxHeaderBytes, keepAliveTimeout: 3_600_000, requireHostHeader: false }, (req, res) => this.#onRequest(req, res));
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

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    // Kept here: by the time the response closes, Node may have detached it (req.socket is then null).
    const socket = req.socket;
    const d = this.#connections.get(socket);
    if (d === undefined) {
      socket.destroy();
      return;
    }
    // Envoy's HTTP/1 codec refuses HTTP/1.0 (and 0.9) before the request reaches any filter.
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1) return this.#codecReply(req.socket, d, 426, 'Upgrade Required', 'low_version');
    d.active += 1;
    const time = new Date().toISOString();
    const { authority, target } = requestTarget(req);
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
        path: target,
        ...(authority === undefined ? {} : { authority }),
        connectionSecurity: d.mutualTls ? 'mutual_tls' : 'none',
      },
      authority,
      target,
      logged: false,
    };
    res.once('close', () => {
      d.active -= 1;
      // The client went away before the response was complete: DC.
      if (!x.logged) this.#log(x, res.headersSent ? res.statusCode : 0, 'DC', 'downstream_remote_disconnect');
    });
    // A connection draining when the answer starts announces its close on it, and Node closes the
    // connection after that answer (Envoy decides when it encodes the headers, as here: a drain
    // that began while the request was at the app still closes the connection cleanly).
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      if (d.draining && !res.hasHeader('connection')) res.setHeader('connection', 'close');
      return writeHead(...args);
    }) as typeof res.writeHead;
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
    if (x.authority === undefined) return this.#localReply(x, 400, '', '-', 'missing_host_header', undefined, true);
    const normalized = normalizePath(x.target, config.mesh.pathNormalization);
    if (!normalized.ok) return this.#localReply(x, 400, '', '-', 'path_normalization_failed');
    const facts = {
      connection: d.facts,
      remoteIp: remoteIp(req, d),
      header: (name: string) => headerValue(req, name, normalized.path, x.authority, d.mutualTls),
      urlPath: normalized.urlPath,
    };
    const custom = d.state.rbac.httpCustom.evaluate(facts);
    this.#deps.stats.rbac('http', d.statPrefix, custom.filters);
    if (!custom.allowed) return this.#localReply(x, 403, RBAC_DENIED_BODY, '-', custom.responseCodeDetails ?? 'rbac_access_denied');
    const jwt = d.state.jwt;
    if (jwt === undefined) return this.#authorize(x, facts, normalized.path, undefined);
    jwt
      .verify({ header: (name) => headerValue(req, name, normalized.path, x.authority, d.mutualTls), target: x.target })
      .then((result) => {
        if (x.res.destroyed) return;
        if (!result.ok) {
          const host = x.authority ?? '';
          x.res.setHeader('www-authenticate', `Bearer realm="http://${host}${normalized.path}", error="invalid_token"`);
          // Envoy's jwt_authn answers 403 for an audience it does not allow, 401 otherwise.
          return this.#localReply(x, result.status.startsWith('Audiences in Jwt') ? 403 : 401, result.status, '-', `jwt_authn_access_denied{${result.status.replaceAll(' ', '_')}}`);
        }
        this.#authorize(x, { ...facts, ...(result.metadata === undefined ? {} : { metadata: result.metadata }) }, normalized.path, result);
      })
      .catch((error: unknown) => {
        this.#deps.diagnostics(`JWT verification of ${req.method} ${req.url} failed inside the sidecar: ${(error as Error).stack ?? String(error)}`);
        this.#localReply(x, 500, 'internal error in the reference sidecar', '-', 'meshproof_internal_error');
      });
  }

  /** The AUDIT, DENY and ALLOW RBAC filters (with the JWT's metadata), then the app. */
  #authorize(x: Exchange, facts: RbacRequest, target: string, jwt: { readonly removeHeaders: readonly string[]; readonly removeParams: readonly string[]; readonly addHeaders: readonly (readonly [string, string])[] } | undefined): void {
    const path = (jwt?.removeParams ?? []).reduce(withoutParam, target);
    const { d, req } = x;
    const config = d.state.config;
    const decision = d.state.rbac.http.evaluate(facts);
    this.#deps.stats.rbac('http', d.statPrefix, decision.filters);
    const audit = decision.filters.filter((f) => f.action === 'LOG');
    if (audit.length > 0) x.auditHint = audit.some((f) => f.matchedPolicy !== undefined);
    if (!decision.allowed) return this.#localReply(x, 403, RBAC_DENIED_BODY, '-', decision.responseCodeDetails ?? 'rbac_access_denied');
    const upstreamHost = `${config.inbound.appAddress}:${d.port.appPort}`;
    const headers = upstreamHeaders(req, d, x.authority ?? '');
    for (const name of jwt?.removeHeaders ?? []) delete headers[name];
    for (const [name, value] of jwt?.addHeaders ?? []) headers[name] = value;
    forwardToApp(this.#deps.upstream(d.port.appPort), req, x.res, path, headers, {
      log: (status, flags, details) => this.#log(x, status, flags, details, upstreamHost),
      localReply: (status, body, flags, details) => this.#localReply(x, status, body, flags, details, upstreamHost),
    });
  }

  #localReply(x: Exchange, status: number, body: string, flags: string, details: string, upstreamHost?: string, close = false): void {
    const { res } = x;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { ...(body === '' ? {} : { 'content-type': 'text/plain' }), 'content-length': Buffer.byteLength(body), server: ENVOY_SERVER_NAME, ...(close ? { connection: 'close' } : {}) });
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
    this.#codecReply(socket, d, status, text, details);
  }

  /** A reply from the codec (flag DPE): before any filter, so the log has no method, path or authority. */
  #codecReply(socket: Socket, d: Downstream, status: number, text: string, details: string): void {
    const time = new Date().toISOString();
    this.#deps.accessLog.write({ time, direction: 'inbound', pod: this.#deps.pod, downstreamAddress: d.address, ...(d.peerUri === undefined ? {} : { downstreamPrincipal: d.peerUri }), status, responseFlags: 'DPE', responseCodeDetails: details, connectionSecurity: d.mutualTls ? 'mutual_tls' : 'none', durationMs: 0 });
    this.#deps.stats.httpResponse(d.statPrefix, status);
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-length: ${Buffer.byteLength(text)}\r\ncontent-type: text/plain\r\nconnection: close\r\nserver: ${ENVOY_SERVER_NAME}\r\n\r\n${text}`);
  }

  close(): void {
    this.#server.closeAllConnections();
  }
}

/** Envoy's JwtParamLocation::removeJwt: the query rebuilt without the parameter (and without `?` when nothing is left). */
function withoutParam(path: string, param: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const kept = path.slice(q + 1).split('&').filter((pair) => decodeURIComponent(pair.split('=')[0] ?? '') !== param);
  return kept.length === 0 ? path.slice(0, q) : `${path.slice(0, q)}?${kept.join('&')}`;
}

/**
 * The request target and `:authority`, as Envoy's HTTP/1 codec makes them: absolute-form
 * (`http://host/x`) becomes path `/x` with the URI's authority, which wins over the Host header.
 */
function requestTarget(req: IncomingMessage): { target: string; authority: string | undefined } {
  const url = req.url ?? '/';
  const host = req.headers.host === '' ? undefined : req.headers.host;
  if (url.startsWith('/')) return { target: url, authority: host };
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url);
  if (scheme === null) return { target: url, authority: host };
  const rest = url.slice(scheme[0].length);
  return { target: rest.startsWith('/') ? rest : `/${rest}`, authority: scheme[1] === '' ? host : scheme[1] };
}

/** Header lookup for RBAC: pseudo-headers, then regular headers with repeated values joined by `,`. */
function headerValue(req: IncomingMessage, name: string, path: string, authority: string | undefined, tls: boolean): string | undefined {
  switch (name) {
    case ':method':
      return req.method;
    case ':authority':
    case 'host':
      return authority;
    case ':path':
      return path;
    case ':scheme':
      return tls ? 'https' : 'http';
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

function upstreamHeaders(req: IncomingMessage, d: Downstream, authority: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !isHopByHop(name)) headers[name] = value;
  }
  headers['host'] = authority;
  // forward_client_cert_details APPEND_FORWARD (istiod's): append this hop on mutual TLS, drop the
  // header otherwise. ALWAYS_FORWARD_ONLY: the client's header goes on as it came.
  const incoming = req.headers['x-forwarded-client-cert'];
  if (d.state.config.inbound.forwardClientCertDetails === 'ALWAYS_FORWARD_ONLY') {
    if (incoming !== undefined) headers['x-forwarded-client-cert'] = incoming;
  } else if (d.xfcc === undefined) delete headers['x-forwarded-client-cert'];
  else headers['x-forwarded-client-cert'] = incoming === undefined ? d.xfcc : `${incoming},${d.xfcc}`;
  headers['x-forwarded-proto'] ??= d.mutualTls ? 'https' : 'http';
  headers['x-request-id'] ??= randomUUID();
  return headers;
}
