/**
 * The outbound listeners on 127.0.0.1, where the app connects: HTTP ones hand each request to the
 * outbound HTTP connection manager with the route table in force (a reload swaps the table; open
 * keep-alive connections use the new one from their next request), TCP ones proxy each
 * connection to their cluster (Envoy's tcp_proxy: one host per connection from the balancer,
 * `max_connections` overflow closes the connection with UO, a failed connect closes it with UF
 * and counts for outlier detection; one connect attempt).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { ErrorCode, MeshproofError } from '../../../../errors.ts';
import type { OutboundListenerConfig } from '../../../istiod/outbound-config.ts';
import type { AccessLog } from '../access-log.ts';
import { plainIp } from '../downstream.ts';
import type { ClusterManager } from './cluster-manager.ts';
import type { HttpOutbound } from './http-outbound.ts';
import { ResponseFlags } from './response-flags.ts';
import { compileListener, type CompiledListener } from './route-table.ts';
import { connectUpstream } from './upstream-connector.ts';

export interface OutboundListener {
  readonly port: number;
  readonly config: OutboundListenerConfig;
  listen(address: string): Promise<void>;
  update(config: OutboundListenerConfig): void;
  close(): Promise<void>;
}

function bind(server: Server | HttpServer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new MeshproofError(ErrorCode.ContainerStart, `outbound listener cannot bind ${address}:${port}: ${error.message}`, { cause: error })));
    server.listen(port, address, () => resolve());
  });
}

export class OutboundHttpListener implements OutboundListener {
  readonly port: number;
  readonly #server: HttpServer;
  #current: CompiledListener;

  constructor(config: OutboundListenerConfig, http: HttpOutbound) {
    this.port = config.port;
    this.#current = compileListener(config);
    this.#server = createHttpServer({ keepAliveTimeout: 3_600_000, requestTimeout: 0, maxHeaderSize: 60 * 1024 }, (req, res) => {
      try {
        http.handle(this.#current, req, res);
      } catch (error) {
        // A bug must cost this request, not the sidecar.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error in the reference sidecar: ${(error as Error).message}`);
      }
    });
  }

  get config(): OutboundListenerConfig {
    return this.#current.config;
  }

  listen(address: string): Promise<void> {
    return bind(this.#server, this.port, address);
  }

  update(config: OutboundListenerConfig): void {
    this.#current = compileListener(config);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

export interface TcpOutboundDeps {
  readonly pod: string;
  readonly clusters: ClusterManager;
  readonly accessLog: AccessLog;
}

export class OutboundTcpListener implements OutboundListener {
  readonly port: number;
  readonly #server: Server;
  readonly #deps: TcpOutboundDeps;
  readonly #open = new Set<Socket>();
  #config: OutboundListenerConfig;

  constructor(config: OutboundListenerConfig, deps: TcpOutboundDeps) {
    this.port = config.port;
    this.#config = config;
    this.#deps = deps;
    this.#server = createTcpServer({ allowHalfOpen: false, noDelay: true, pauseOnConnect: true }, (socket) => this.#onConnection(socket));
  }

  get config(): OutboundListenerConfig {
    return this.#config;
  }

  listen(address: string): Promise<void> {
    return bind(this.#server, this.port, address);
  }

  update(config: OutboundListenerConfig): void {
    this.#config = config;
  }

  close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #onConnection(downstream: Socket): void {
    const started = performance.now();
    const time = new Date().toISOString();
    const flags = new ResponseFlags();
    this.#open.add(downstream);
    downstream.on('error', () => downstream.destroy());
    let upstreamHost: string | undefined;
    let mutualTls: boolean | undefined;
    let logged = false;
    const log = (details: string): void => {
      if (logged) return;
      logged = true;
      this.#deps.accessLog.write({
        time,
        direction: 'outbound',
        pod: this.#deps.pod,
        downstreamAddress: `${plainIp(downstream.remoteAddress)}:${downstream.remotePort}`,
        status: 0,
        responseFlags: flags.toString(),
        responseCodeDetails: details,
        ...(upstreamHost === undefined ? {} : { upstreamHost }),
        ...(mutualTls === undefined ? {} : { connectionSecurity: mutualTls ? 'mutual_tls' : 'none' }),
        durationMs: Math.round(performance.now() - started),
      });
    };
    downstream.once('close', () => {
      this.#open.delete(downstream);
      log('-');
    });
    const cluster = this.#deps.clusters.get(this.#config.cluster ?? '');
    const refuse = (flag: 'NC' | 'UH' | 'UO', details: string): void => {
      flags.add(flag);
      log(details);
      downstream.destroy();
    };
    if (cluster === undefined) return refuse('NC', 'cluster_not_found');
    const host = cluster.choose().host;
    if (host === undefined) return refuse('UH', 'no_healthy_upstream');
    upstreamHost = host.name;
    if (cluster.connections >= cluster.config.circuitBreakers.maxConnections) {
      cluster.counters.inc('upstream_cx_overflow');
      return refuse('UO', 'upstream_cx_overflow');
    }
    cluster.connections += 1;
    host.active += 1;
    cluster.counters.inc('upstream_cx_total');
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      cluster.connections -= 1;
      host.active -= 1;
    };
    connectUpstream(host.endpoint, cluster.config, cluster.certificates).then(
      (upstream) => {
        mutualTls = upstream.peerIdentity !== undefined;
        host.pool.lastAddress = upstream.remoteAddress;
        if (host.endpoint.tls) cluster.counters.inc('ssl_handshake');
        const socket = upstream.socket;
        socket.on('error', () => socket.destroy());
        socket.once('close', () => {
          release();
          downstream.destroy();
        });
        downstream.once('close', () => socket.destroy());
        if (downstream.destroyed) {
          socket.destroy();
          return;
        }
        downstream.pipe(socket);
        socket.pipe(downstream);
        downstream.resume();
      },
      (failure: { readonly reason?: string; readonly ssl?: string }) => {
        release();
        cluster.counters.inc('upstream_cx_connect_fail');
        if (failure.reason === 'connection timeout') cluster.counters.inc('upstream_cx_connect_timeout');
        if (failure.ssl !== undefined) cluster.counters.inc('ssl_connection_error');
        if (failure.ssl === 'fail_verify_san' || failure.ssl === 'fail_verify_error') cluster.counters.inc(`ssl_${failure.ssl}`);
        cluster.reportLocalOrigin(host, 'connect-failure');
        flags.add('UF');
        log('upstream_connection_failure');
        downstream.destroy();
      },
    );
  }
}
