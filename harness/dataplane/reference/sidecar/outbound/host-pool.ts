/**
 * The HTTP/1.1 connection pool of one upstream host, with the cluster-wide circuit breakers, as
 * Envoy's ConnPoolImplBase does it (circuit_breaking.rst, istio-semantics.md §3 "On overflow"):
 *
 * - A request takes an idle connection if there is one; else it waits as a pending request, if
 *   the cluster has fewer than `max_pending_requests` pending (else: overflow,
 *   `upstream_rq_pending_overflow`), and a connection is opened for it if the cluster has fewer
 *   than `max_connections` (else `upstream_cx_overflow`; but a host with no ready, busy or
 *   connecting connection still opens one, as Envoy does so that its pending requests are not
 *   stuck. A connection carrying its last request under `max_requests_per_connection` is
 *   draining, not busy, in Envoy's ConnPoolImplBase: so with 1 request per connection the next
 *   request's connection opens while the current one is still in flight).
 * - A request about to use a connection needs the cluster below `max_requests` (else overflow,
 *   counted as `upstream_rq_pending_overflow` too).
 * - A connection carries one request at a time and is reused (keep-alive), up to
 *   `max_requests_per_connection` requests (then closed: `upstream_cx_max_requests`).
 * - A failed connect fails every pending request of the host at once (Envoy purges them).
 *
 * Each connection is an undici Client handed the socket this pool opened (TLS and secure naming
 * in upstream-connector.ts): undici speaks HTTP/1.1 on it; the pool decides when sockets open.
 */
import type { Dispatcher } from 'undici';
import { Client } from '../undici-core.ts';
import type { ClusterConfig, EndpointConfig } from '../../../istiod/outbound-config.ts';
import type { CertificateStore } from '../certificate-store.ts';
import type { ClusterCounters } from './cluster-stats.ts';
import { connectUpstream, ConnectFailure, type UpstreamSocket } from './upstream-connector.ts';

/** What the pool counts cluster-wide (the cluster object owns it). */
export interface ClusterResources {
  connections: number;
  pending: number;
  requests: number;
  readonly config: ClusterConfig;
  readonly counters: ClusterCounters;
  readonly certificates: CertificateStore;
}

export interface PoolRequest {
  /** A connection is ready for this request; call `release` when the exchange is over. */
  onPoolReady(connection: UpstreamConnection): void;
  onPoolFailure(reason: 'overflow' | 'connect-failure', failure?: ConnectFailure): void;
}

export interface PoolHandle {
  /** Withdraws a request still waiting for a connection (no effect once it has one). */
  cancel(): void;
}

const CLOSED = new Error('upstream connection closed');

export class UpstreamConnection {
  readonly client: Client;
  readonly upstream: UpstreamSocket;
  readonly pool: HostPool;
  requests = 0;
  closed = false;

  constructor(pool: HostPool, upstream: UpstreamSocket, idleTimeoutMs: number) {
    this.pool = pool;
    this.upstream = upstream;
    let handed = false;
    const keepAlive = idleTimeoutMs > 0 ? idleTimeoutMs : 2 ** 31 - 1;
    this.client = new Client(`http://${pool.endpoint.address}:${pool.endpoint.port}`, {
      pipelining: 1,
      keepAliveTimeout: keepAlive,
      keepAliveMaxTimeout: keepAlive,
      keepAliveTimeoutThreshold: 0,
      headersTimeout: 0,
      bodyTimeout: 0,
      // The pool opened (and secured) the socket; the client gets it once and never reconnects.
      connect: (_options, callback) => {
        const first = !handed;
        handed = true;
        queueMicrotask(() => (first ? callback(null, upstream.socket) : callback(CLOSED, null)));
      },
    });
    this.client.on('disconnect', () => this.#gone());
    upstream.socket.once('close', () => this.#gone());
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    this.client.dispatch(options, handler);
  }

  close(): void {
    this.#gone();
    void this.client.destroy().catch(() => undefined);
  }

  #gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.onClosed(this);
  }
}

export class HostPool {
  readonly endpoint: EndpointConfig;
  /** `ip:port` of the last connection made (the name resolved). */
  lastAddress: string | undefined;
  readonly #cluster: ClusterResources;
  readonly #idle: UpstreamConnection[] = [];
  readonly #busy = new Set<UpstreamConnection>();
  readonly #pending: PoolRequest[] = [];
  #connecting = 0;
  #draining = false;

  constructor(endpoint: EndpointConfig, cluster: ClusterResources) {
    this.endpoint = endpoint;
    this.#cluster = cluster;
  }

  /** Open connections (for /clusters cx_active). */
  get connections(): number {
    return this.#idle.length + this.#busy.size + this.#connecting;
  }

  newRequest(request: PoolRequest): PoolHandle {
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      this.#attach(idle, request);
      return NO_HANDLE;
    }
    const c = this.#cluster;
    if (c.pending >= c.config.circuitBreakers.maxPendingRequests) {
      c.counters.inc('upstream_rq_pending_overflow');
      request.onPoolFailure('overflow');
      return NO_HANDLE;
    }
    this.#pending.push(request);
    c.pending += 1;
    c.counters.inc('upstream_rq_pending_total');
    this.#connectMore();
    return {
      cancel: () => {
        const i = this.#pending.indexOf(request);
        if (i < 0) return;
        this.#pending.splice(i, 1);
        c.pending -= 1;
      },
    };
  }

  /** The exchange on `connection` is over; `reusable` false when it ended badly (reset, aborted). */
  release(connection: UpstreamConnection, reusable: boolean): void {
    if (!this.#busy.delete(connection)) return;
    this.#cluster.requests -= 1;
    connection.requests += 1;
    const max = this.#cluster.config.maxRequestsPerConnection;
    if (max > 0 && connection.requests >= max && !connection.closed) {
      this.#cluster.counters.inc('upstream_cx_max_requests');
      connection.close();
      return;
    }
    if (!reusable || connection.closed || this.#draining) {
      connection.close();
      return;
    }
    this.#ready(connection);
  }

  onClosed(connection: UpstreamConnection): void {
    const idle = this.#idle.indexOf(connection);
    if (idle >= 0) this.#idle.splice(idle, 1);
    if (this.#busy.delete(connection)) this.#cluster.requests -= 1;
    this.#cluster.connections -= 1;
    if (this.#pending.length > 0) this.#connectMore();
  }

  /** No new requests arrive (a newer config replaced the cluster): close idle connections now, busy ones when done. */
  drain(): void {
    this.#draining = true;
    for (const c of [...this.#idle]) c.close();
  }

  /** The sidecar stops: every connection closes now. */
  destroy(): void {
    this.drain();
    for (const c of [...this.#busy]) c.close();
  }

  #ready(connection: UpstreamConnection): void {
    const next = this.#pending.shift();
    if (next === undefined) {
      this.#idle.push(connection);
      return;
    }
    this.#cluster.pending -= 1;
    this.#attach(connection, next);
  }

  #attach(connection: UpstreamConnection, request: PoolRequest): void {
    const c = this.#cluster;
    if (c.requests >= c.config.circuitBreakers.maxRequests) {
      c.counters.inc('upstream_rq_pending_overflow');
      this.#idle.push(connection);
      request.onPoolFailure('overflow');
      return;
    }
    c.requests += 1;
    this.#busy.add(connection);
    request.onPoolReady(connection);
  }

  #connectMore(): void {
    const c = this.#cluster;
    while (this.#pending.length > this.#connecting) {
      const allowed = c.connections < c.config.circuitBreakers.maxConnections;
      if (!allowed) c.counters.inc('upstream_cx_overflow');
      const none = this.#idle.length === 0 && this.#connecting === 0 && [...this.#busy].every((b) => this.#carriesItsLast(b));
      if (!allowed && !none) return;
      this.#open();
      if (!allowed) return;
    }
  }

  /** Busy with the last request `max_requests_per_connection` allows (Envoy moves it to its draining list). */
  #carriesItsLast(connection: UpstreamConnection): boolean {
    const max = this.#cluster.config.maxRequestsPerConnection;
    return max > 0 && connection.requests + 1 >= max;
  }

  #open(): void {
    const c = this.#cluster;
    c.connections += 1;
    this.#connecting += 1;
    c.counters.inc('upstream_cx_total');
    connectUpstream(this.endpoint, c.config, c.certificates).then(
      (upstream) => {
        this.#connecting -= 1;
        this.lastAddress = upstream.remoteAddress;
        if (this.endpoint.tls) c.counters.inc('ssl_handshake');
        const connection = new UpstreamConnection(this, upstream, c.config.idleTimeoutMs);
        if (this.#draining && this.#pending.length === 0) {
          connection.close();
          return;
        }
        this.#ready(connection);
      },
      (error: unknown) => {
        this.#connecting -= 1;
        c.connections -= 1;
        const failure = error instanceof ConnectFailure ? error : new ConnectFailure(String(error), 'connection failure');
        c.counters.inc('upstream_cx_connect_fail');
        if (failure.reason === 'connection timeout') c.counters.inc('upstream_cx_connect_timeout');
        if (failure.ssl !== undefined) {
          c.counters.inc('ssl_connection_error');
          if (failure.ssl !== 'connection_error') c.counters.inc(`ssl_${failure.ssl}`);
        }
        // Envoy purges every pending request of the host; a retry may queue a new one meanwhile.
        const purged = this.#pending.splice(0);
        c.pending -= purged.length;
        for (const request of purged) request.onPoolFailure('connect-failure', failure);
      },
    );
  }
}

const NO_HANDLE: PoolHandle = { cancel: () => undefined };
