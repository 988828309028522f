/**
 * The HTTP connection manager of the outbound listeners: the app's plaintext request, on
 * 127.0.0.1, goes through route selection, the fault filter and the router (router.ts), and
 * every request gets an access-log line (direction `outbound`, with Envoy's response flags) and
 * Istio's `istio_requests_total{reporter="source"}`.
 *
 * - Virtual host by Host header, then the first matching route; none → 404, NR, `route_not_found`.
 * - The request body is read before the router starts (Envoy buffers it for retries), and the
 *   route timeout starts then.
 * - Fault filter (before the router, as in Envoy's filter order): a delay with its probability
 *   (flag DI), then an abort with its own (local reply `fault filter abort`, flag FI; gRPC
 *   aborts answer 200 with `grpc-status`). An abort never reaches the router, so neither retries
 *   nor timeouts apply to it; a delay is not counted by the route timeout. Rolls come from the
 *   run seed.
 * - Responses carry `x-envoy-upstream-service-time`, `x-envoy-attempt-count` (Envoy's
 *   include_attempt_count_in_response, which Istio leaves off) and, when configured, the
 *   response-flags header.
 */
import { randomUUID } from 'node:crypto';
import { ENVOY_SERVER_NAME } from '../../../istiod/istio-constants.ts';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { SeededRandom } from '../../../../util/seeded-random.ts';
import type { AccessLogEntry } from '../../../../traffic/types.ts';
import type { RouteConfig } from '../../../istiod/outbound-config.ts';
import type { AccessLog } from '../access-log.ts';
import { isHopByHop } from '../app-forwarder.ts';
import { plainIp } from '../downstream.ts';
import type { SidecarStats } from '../stats.ts';
import type { UpstreamHost } from './cluster.ts';
import type { ClusterManager } from './cluster-manager.ts';
import type { ClusterStats } from './cluster-stats.ts';
import type { UpstreamConnection } from './host-pool.ts';
import { ResponseFlags } from './response-flags.ts';
import type { CompiledListener, CompiledRoute } from './route-table.ts';
import { Router, type RouterExchange } from './router.ts';

export const FAULT_ABORT_BODY = 'fault filter abort';
/** Larger request bodies still go upstream, but are not kept for retries (Envoy's buffer limit). */
const RETRY_BUFFER_LIMIT = 1024 * 1024;

export interface HttpOutboundDeps {
  readonly pod: string;
  readonly stats: SidecarStats;
  readonly clusterStats: ClusterStats;
  readonly accessLog: AccessLog;
  readonly clusters: ClusterManager;
  /** Fault rolls and weighted route choice (seeded), and retry back-off jitter. */
  readonly random: () => { readonly faults: SeededRandom; readonly routes: SeededRandom; readonly backoff: SeededRandom };
  readonly flagsHeader: () => string | undefined;
  readonly diagnostics: (line: string) => void;
}

class Exchange implements RouterExchange {
  readonly flags = new ResponseFlags();
  over = false;
  readonly #deps: HttpOutboundDeps;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  /** The HTTP connection manager's stat prefix (`outbound_80`). */
  readonly prefix: string;
  readonly #service: string | undefined;
  readonly #time = new Date().toISOString();
  readonly #started = performance.now();
  #host: UpstreamHost | undefined;
  #connection: UpstreamConnection | undefined;
  #attempts = 0;
  #logged = false;
  #gone: (() => void) | undefined;

  constructor(deps: HttpOutboundDeps, req: IncomingMessage, res: ServerResponse, prefix: string, service: string | undefined) {
    this.#deps = deps;
    this.#req = req;
    this.#res = res;
    this.prefix = prefix;
    this.#service = service;
    res.once('close', () => {
      if (this.#logged) return;
      // The app went away before the response was complete: DC.
      this.over = true;
      this.flags.add('DC');
      this.#log(res.headersSent ? res.statusCode : 0, 'downstream_remote_disconnect');
      this.#gone?.();
    });
  }

  upstream(host: UpstreamHost, connection: UpstreamConnection | undefined, attempts: number): void {
    this.#host = host;
    this.#connection = connection;
    this.#attempts = attempts;
  }

  onGone(callback: () => void): void {
    this.#gone = callback;
  }

  localReply(status: number, body: string, details: string, headers: Readonly<Record<string, string>> = {}): void {
    const res = this.#res;
    if (this.over || res.headersSent || res.destroyed) return;
    const out: Record<string, string> = { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), server: ENVOY_SERVER_NAME, ...headers, ...this.#extraHeaders() };
    res.writeHead(status, out);
    this.#log(status, details);
    res.end(body);
  }

  grpcAbort(code: number, details: string): void {
    const res = this.#res;
    res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': FAULT_ABORT_BODY, 'content-length': '0', server: ENVOY_SERVER_NAME, ...this.#extraHeaders() });
    this.#log(200, details);
    res.end();
  }

  sendHeaders(status: number, headers: IncomingHttpHeaders, serviceTimeMs: number): void {
    const out: Record<string, string | string[]> = {};
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined && !isHopByHop(name)) out[name] = value;
    }
    out['x-envoy-upstream-service-time'] = String(Math.round(serviceTimeMs));
    Object.assign(out, this.#extraHeaders());
    this.#res.writeHead(status, out);
  }

  write(chunk: Buffer, resume: () => void): boolean {
    if (this.#res.write(chunk)) return true;
    this.#res.once('drain', resume);
    return false;
  }

  finish(details: string): void {
    this.#log(this.#res.statusCode, details);
    this.#res.end();
  }

  abort(details: string): void {
    this.#log(this.#res.statusCode, details);
    this.#res.destroy();
  }

  #extraHeaders(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.#attempts > 0) out['x-envoy-attempt-count'] = String(this.#attempts);
    const flagsHeader = this.#deps.flagsHeader();
    if (flagsHeader !== undefined) out[flagsHeader] = this.flags.toString();
    return out;
  }

  #log(status: number, details: string): void {
    if (this.#logged) return;
    this.#logged = true;
    const req = this.#req;
    const flags = this.flags.toString();
    const durationMs = Math.round((performance.now() - this.#started) * 1000) / 1000;
    const host = this.#host;
    const entry: AccessLogEntry = {
      time: this.#time,
      direction: 'outbound',
      pod: this.#deps.pod,
      downstreamAddress: `${plainIp(req.socket.remoteAddress)}:${req.socket.remotePort}`,
      method: req.method ?? '',
      path: req.url ?? '',
      ...(req.headers.host === undefined ? {} : { authority: req.headers.host }),
      status,
      responseFlags: flags,
      responseCodeDetails: details,
      ...(host === undefined ? {} : { upstreamHost: host.name }),
      ...(this.#connection === undefined ? {} : { connectionSecurity: this.#connection.upstream.peerIdentity === undefined ? 'none' : 'mutual_tls' }),
      durationMs,
    };
    const deps = this.#deps;
    deps.accessLog.write(entry);
    deps.stats.httpResponse(this.prefix, status);
    if (this.#service !== undefined) {
      const e = host?.endpoint;
      const principal = this.#connection?.upstream.peerIdentity;
      deps.stats.sourceRequest(
        {
          destinationService: this.#service,
          ...(e === undefined ? {} : { destination: { ...(e.workload === undefined ? {} : { workload: e.workload }), ...(e.namespace === undefined ? {} : { namespace: e.namespace }), ...(e.labels === undefined ? {} : { labels: e.labels }), ...(principal === undefined ? {} : { principal }) } }),
          responseCode: status,
          responseFlags: flags,
        },
        durationMs,
      );
    }
  }
}

export class HttpOutbound {
  readonly #deps: HttpOutboundDeps;

  constructor(deps: HttpOutboundDeps) {
    this.#deps = deps;
  }

  handle(listener: CompiledListener, req: IncomingMessage, res: ServerResponse): void {
    const prefix = listener.config.name;
    const authority = (req.headers.host ?? '').toLowerCase();
    const vhost = listener.hosts.get(authority);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = vhost?.routes.find((r) => r.matches({ path, method: req.method ?? 'GET', authority, header: (name) => joinHeader(req.headers[name]) }));
    const first = route?.config.clusters[0];
    const service = first === undefined ? undefined : this.#deps.clusters.get(first.name)?.config.service;
    const x = new Exchange(this.#deps, req, res, prefix, service);
    if (route === undefined) {
      x.flags.add('NR');
      x.localReply(404, '', 'route_not_found');
      req.resume();
      return;
    }
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return this.#faults(x, req, route, null);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    req.once('end', () => {
      if (size > RETRY_BUFFER_LIMIT) this.#deps.diagnostics(`request body of ${size} bytes to ${authority} is over the retry buffer; it is sent once`);
      this.#faults(x, req, route, Buffer.concat(chunks, size), size > RETRY_BUFFER_LIMIT);
    });
  }

  #faults(x: Exchange, req: IncomingMessage, route: CompiledRoute, body: Buffer | null, noRetry = false): void {
    const fault = route.config.fault;
    if (fault === undefined) return this.#route(x, req, route, body, noRetry);
    const { faults } = this.#deps.random();
    const prefix = x.prefix;
    const abort = (): void => {
      if (x.over) return;
      if (fault.abort !== undefined && faults.int(0, 999_999) < fault.abort.millionths) {
        x.flags.add('FI');
        this.#deps.clusterStats.fault(prefix, 'aborts_injected');
        if (fault.abort.grpcStatus !== undefined) return x.grpcAbort(fault.abort.grpcStatus, 'fault_filter_abort');
        return x.localReply(fault.abort.httpStatus ?? 503, FAULT_ABORT_BODY, 'fault_filter_abort');
      }
      this.#route(x, req, route, body, noRetry);
    };
    if (fault.delay !== undefined && faults.int(0, 999_999) < fault.delay.millionths) {
      x.flags.add('DI');
      this.#deps.clusterStats.fault(prefix, 'delays_injected');
      setTimeout(abort, fault.delay.fixedDelayMs);
      return;
    }
    abort();
  }

  #route(x: Exchange, req: IncomingMessage, route: CompiledRoute, body: Buffer | null, noRetry: boolean): void {
    if (x.over) return;
    const { routes, backoff } = this.#deps.random();
    const name = pickWeighted(route, routes);
    const cluster = this.#deps.clusters.get(name);
    if (cluster === undefined) {
      x.flags.add('NC');
      return x.localReply(503, '', 'cluster_not_found');
    }
    const config: RouteConfig = route.config;
    new Router(cluster, { timeoutMs: config.timeoutMs, ...(config.retry === undefined || noRetry ? {} : { retry: config.retry }) }, { method: req.method ?? 'GET', path: req.url ?? '/', headers: upstreamHeaders(req), body }, x, backoff);
  }
}

function pickWeighted(route: CompiledRoute, random: SeededRandom): string {
  const clusters = route.config.clusters;
  if (clusters.length === 1) return clusters[0]!.name;
  let ticket = random.int(1, Math.max(1, route.totalWeight));
  for (const c of clusters) {
    ticket -= c.weight;
    if (ticket <= 0) return c.name;
  }
  return clusters[clusters.length - 1]!.name;
}

function joinHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** The app's headers, without hop-by-hop ones, plus what Envoy adds on the way out. */
function upstreamHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined && !isHopByHop(name) && name !== 'content-length') headers[name] = value;
  }
  // istiod leaves the outbound HCM's forward_client_cert_details unset: Envoy's default, SANITIZE,
  // never sends an x-forwarded-client-cert the app wrote to the next hop.
  delete headers['x-forwarded-client-cert'];
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-request-id'] ??= randomUUID();
  return headers;
}
