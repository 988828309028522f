/**
 * Envoy's router for one outbound request: pick a host, get a connection from its pool, send,
 * and decide on retries and timeouts (istio-semantics.md §4; Envoy router.cc, retry_state_impl.cc).
 *
 * - Hosts: the cluster's balancer over healthy hosts; none → 503 `no healthy upstream`, UH
 *   (never retried). A retry avoids hosts already tried (previous_hosts predicate).
 * - Pool overflow → 503 with `x-envoy-overloaded: true`, UO; never retried.
 * - What is retried (retryOn): a response status by `5xx`, `gateway-error` (502/503/504),
 *   `retriable-4xx` (409), `retriable-status-codes` (the listed codes), gRPC tokens by the
 *   `grpc-status` header; a connect failure by `connect-failure`, `reset-before-request`, `reset`,
 *   `5xx` or `gateway-error`; a reset after connecting by `reset`, `5xx` or `gateway-error`; a
 *   per-try timeout by `reset`, `5xx` or `gateway-error` [derived, as the oracle]. A response with
 *   `x-envoy-overloaded` is never retried.
 * - A retry needs a retry left (`attempts`) and room in the cluster's `max_retries` (else
 *   `upstream_rq_retry_overflow` and flag UO). It waits a jittered back-off first. When a
 *   retriable failure finds no retry left, the flag is URX (`upstream_rq_retry_limit_exceeded`).
 * - Per-try timeout: 504 `upstream request timeout`, UT, if not retried. It starts when the
 *   attempt has its connection (Envoy's UpstreamRequest::onPoolReady), so an attempt waiting for
 *   a connection that never completes (a frozen or unreachable host) is ended by the route
 *   timeout instead. Route timeout (from the end of the request to the end of the response,
 *   across attempts and back-offs): 504 UT; after the response started, the downstream connection
 *   is reset. Either way `upstream_rq_timeout` counts it when a try was in flight (not in back-off). It reports a timeout to outlier detection only for an
 *   attempt that had its connection (Envoy knows the upstream host of a request from then).
 * - Every attempt's result goes to outlier detection: the status, or a local-origin failure
 *   (connect failure, reset, timeout).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { SeededRandom } from '../../../../util/seeded-random.ts';
import type { RetryConfig } from '../../../istiod/outbound-config.ts';
import type { Cluster, UpstreamHost } from './cluster.ts';
import type { PoolHandle, UpstreamConnection } from './host-pool.ts';
import type { LocalOriginFailure } from './outlier-detector.ts';
import type { ResponseFlags } from './response-flags.ts';
import type { ConnectFailure } from './upstream-connector.ts';

export const UPSTREAM_RESET_BODY = 'upstream connect error or disconnect/reset before headers. ';
export const TIMEOUT_BODY = 'upstream request timeout';
export const NO_HEALTHY_UPSTREAM_BODY = 'no healthy upstream';

const GRPC_TOKENS: Readonly<Record<string, string>> = { '1': 'cancelled', '4': 'deadline-exceeded', '8': 'resource-exhausted', '13': 'internal', '14': 'unavailable' };

/** The downstream half, as the HTTP connection manager gives it to the router. */
export interface RouterExchange {
  readonly flags: ResponseFlags;
  /** True once the app went away or the exchange ended. */
  readonly over: boolean;
  /** Records the host (and connection) of the latest attempt, for the log and metrics. */
  upstream(host: UpstreamHost, connection: UpstreamConnection | undefined, attempts: number): void;
  localReply(status: number, body: string, details: string, headers?: Readonly<Record<string, string>>): void;
  sendHeaders(status: number, headers: IncomingHttpHeaders, serviceTimeMs: number): void;
  /** Writes a body chunk; false when the app's socket wants a pause. */
  write(chunk: Buffer, resume: () => void): boolean;
  finish(details: string): void;
  /** The response started and cannot complete: reset the app's connection. */
  abort(details: string): void;
  /** Called (once) when the app goes away first. */
  onGone(callback: () => void): void;
}

export interface RouterRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | null;
}

interface Attempt {
  readonly host: UpstreamHost;
  readonly number: number;
  readonly holdsRetry: boolean;
  handle?: PoolHandle;
  connection?: UpstreamConnection;
  controller?: Dispatcher.DispatchController;
  perTry?: NodeJS.Timeout;
  sentAt: number;
  /** Ended for the router: a later event from it is ignored. */
  cancelled: boolean;
  forwarding: boolean;
  settled: boolean;
}

type Failure = { readonly kind: 'connect-failure'; readonly failure?: ConnectFailure } | { readonly kind: 'reset' } | { readonly kind: 'per-try-timeout' };

export class Router {
  readonly #cluster: Cluster;
  readonly #retry: RetryConfig | undefined;
  readonly #request: RouterRequest;
  readonly #x: RouterExchange;
  readonly #random: SeededRandom;
  readonly #tried = new Set<UpstreamHost>();
  readonly #retryOn: ReadonlySet<string>;
  readonly #codes: ReadonlySet<number>;
  #attempts = 0;
  #retries = 0;
  #current: Attempt | undefined;
  #timer: NodeJS.Timeout | undefined;
  #backoff: NodeJS.Timeout | undefined;
  #done = false;

  constructor(cluster: Cluster, route: { readonly timeoutMs: number; readonly retry?: RetryConfig }, request: RouterRequest, exchange: RouterExchange, random: SeededRandom) {
    this.#cluster = cluster;
    this.#retry = route.retry;
    this.#retryOn = new Set(route.retry?.retryOn ?? []);
    this.#codes = new Set(route.retry?.retriableStatusCodes ?? []);
    this.#request = request;
    this.#x = exchange;
    this.#random = random;
    exchange.onGone(() => this.#stop());
    if (route.timeoutMs > 0) this.#timer = setTimeout(() => this.#routeTimeout(), route.timeoutMs);
    this.#attempt(false);
  }

  #attempt(holdsRetry: boolean): void {
    if (this.#done) return;
    const retry = this.#retry;
    const chosen = this.#cluster.choose(retry?.previousHosts === true ? this.#tried : undefined, retry?.hostSelectionMaxAttempts);
    const host = chosen.host;
    if (host === undefined) {
      if (holdsRetry) this.#cluster.retries -= 1;
      this.#x.flags.add('UH');
      return this.#end(() => this.#x.localReply(503, NO_HEALTHY_UPSTREAM_BODY, 'no_healthy_upstream'));
    }
    this.#tried.add(host);
    this.#attempts += 1;
    host.active += 1;
    this.#cluster.counters.inc('upstream_rq_total');
    const a: Attempt = { host, number: this.#attempts, holdsRetry, sentAt: 0, cancelled: false, forwarding: false, settled: false };
    this.#current = a;
    this.#x.upstream(host, undefined, this.#attempts);
    a.handle = host.pool.newRequest({
      onPoolReady: (connection) => this.#send(a, connection),
      onPoolFailure: (reason, failure) => {
        if (a.cancelled) return;
        if (reason === 'overflow') {
          this.#settle(a);
          this.#x.flags.add('UO');
          return this.#end(() => this.#x.localReply(503, `${UPSTREAM_RESET_BODY}reset reason: overflow`, 'upstream_reset_before_response_started{overflow}', { 'x-envoy-overloaded': 'true' }));
        }
        this.#failed(a, { kind: 'connect-failure', ...(failure === undefined ? {} : { failure }) });
      },
    });
  }

  #send(a: Attempt, connection: UpstreamConnection): void {
    if (a.cancelled) {
      connection.pool.release(connection, true);
      return;
    }
    a.connection = connection;
    a.sentAt = performance.now();
    const perTryMs = this.#retry?.perTryTimeoutMs;
    if (perTryMs !== undefined) a.perTry = setTimeout(() => this.#failed(a, { kind: 'per-try-timeout' }), perTryMs);
    this.#x.upstream(a.host, connection, a.number);
    const r = this.#request;
    connection.dispatch(
      { path: r.path, method: r.method, headers: r.headers, body: r.body, headersTimeout: 0, bodyTimeout: 0 },
      {
        onRequestStart: (controller) => {
          a.controller = controller;
          if (a.cancelled) controller.abort(new Error('attempt cancelled'));
        },
        onResponseStart: (_controller, status, headers) => this.#headers(a, status, headers),
        onResponseData: (controller, chunk) => {
          if (!a.forwarding || a.cancelled) return;
          if (!this.#x.write(chunk, () => controller.resume())) controller.pause();
        },
        onResponseEnd: () => {
          a.controller = undefined;
          connection.pool.release(connection, true);
          this.#settle(a);
          if (a.forwarding && !a.cancelled) this.#end(() => this.#x.finish('via_upstream'));
        },
        onResponseError: () => {
          connection.pool.release(connection, false);
          a.controller = undefined;
          if (a.cancelled) return this.#settle(a);
          if (a.forwarding) {
            this.#settle(a);
            this.#x.flags.add('UC');
            return this.#end(() => this.#x.abort('upstream_reset_after_response_started{connection_termination}'));
          }
          this.#failed(a, { kind: 'reset' });
        },
      },
    );
  }

  #headers(a: Attempt, status: number, headers: IncomingHttpHeaders): void {
    if (a.cancelled) return;
    clearTimeout(a.perTry);
    const cluster = this.#cluster;
    cluster.counters.response(status);
    cluster.reportStatus(a.host, status);
    const retriable = headers['x-envoy-overloaded'] === undefined && this.#retriableStatus(status, headers);
    if (retriable) {
      const decision = this.#mayRetry();
      if (decision === 'retry') {
        // The rest of this response is read and dropped; its connection stays in the pool.
        a.cancelled = true;
        return this.#scheduleRetry();
      }
      if (decision === 'exhausted') this.#limitExceeded();
    } else if (this.#retries > 0) {
      cluster.counters.inc('upstream_rq_retry_success');
    }
    a.forwarding = true;
    this.#x.sendHeaders(status, headers, performance.now() - a.sentAt);
  }

  #failed(a: Attempt, failure: Failure): void {
    if (a.cancelled || this.#done) return;
    this.#cancel(a);
    const cluster = this.#cluster;
    const local: LocalOriginFailure = failure.kind === 'per-try-timeout' ? 'timeout' : failure.kind;
    cluster.reportLocalOrigin(a.host, local);
    if (failure.kind === 'per-try-timeout') cluster.counters.inc('upstream_rq_per_try_timeout');
    if (this.#retriableFailure(failure)) {
      const decision = this.#mayRetry();
      if (decision === 'retry') return this.#scheduleRetry();
      if (decision === 'exhausted') this.#limitExceeded();
    }
    const x = this.#x;
    switch (failure.kind) {
      case 'per-try-timeout':
        x.flags.add('UT');
        return this.#end(() => x.localReply(504, TIMEOUT_BODY, 'upstream_per_try_timeout'));
      case 'reset':
        x.flags.add('UC');
        return this.#end(() => x.localReply(503, `${UPSTREAM_RESET_BODY}reset reason: connection termination`, 'upstream_reset_before_response_started{connection_termination}'));
      case 'connect-failure': {
        x.flags.add('UF');
        const f = failure.failure;
        const transport = f?.transport === undefined ? '' : `, transport failure reason: ${f.transport}`;
        const reason = f?.reason === 'connection timeout' ? 'connection timeout' : 'connection failure';
        const details = `upstream_reset_before_response_started{${reason.replace(' ', '_')}${f?.transport === undefined ? '' : `,${f.transport}`}}`;
        return this.#end(() => x.localReply(503, `${UPSTREAM_RESET_BODY}reset reason: ${reason}${transport}`, details));
      }
    }
  }

  #retriableStatus(status: number, headers: IncomingHttpHeaders): boolean {
    const on = this.#retryOn;
    if (on.size === 0) return false;
    if (on.has('5xx') && status >= 500) return true;
    if (on.has('gateway-error') && (status === 502 || status === 503 || status === 504)) return true;
    if (on.has('retriable-4xx') && status === 409) return true;
    if (on.has('retriable-status-codes') && this.#codes.has(status)) return true;
    const grpc = headers['grpc-status'];
    const token = typeof grpc === 'string' ? GRPC_TOKENS[grpc] : undefined;
    return token !== undefined && on.has(token);
  }

  #retriableFailure(failure: Failure): boolean {
    const on = this.#retryOn;
    const resetLike = on.has('5xx') || on.has('gateway-error') || on.has('reset');
    if (failure.kind === 'connect-failure') return resetLike || on.has('connect-failure') || on.has('reset-before-request');
    return resetLike;
  }

  #mayRetry(): 'retry' | 'exhausted' | 'overflow' {
    const retry = this.#retry;
    if (retry === undefined || this.#retries >= retry.numRetries) return 'exhausted';
    if (this.#cluster.retries >= this.#cluster.config.circuitBreakers.maxRetries) {
      this.#cluster.counters.inc('upstream_rq_retry_overflow');
      this.#x.flags.add('UO');
      return 'overflow';
    }
    return 'retry';
  }

  #limitExceeded(): void {
    if (this.#retry === undefined) return;
    this.#x.flags.add('URX');
    this.#cluster.counters.inc('upstream_rq_retry_limit_exceeded');
  }

  #scheduleRetry(): void {
    const retry = this.#retry!;
    this.#retries += 1;
    this.#cluster.retries += 1;
    this.#cluster.counters.inc('upstream_rq_retry');
    const ceiling = Math.min(((1 << Math.min(this.#retries, 20)) - 1) * retry.backoffBaseMs, retry.backoffMaxMs);
    const wait = ceiling <= 0 ? 0 : this.#random.int(0, Math.floor(ceiling));
    this.#backoff = setTimeout(() => {
      this.#backoff = undefined;
      if (this.#done) {
        this.#cluster.retries -= 1;
        return;
      }
      this.#attempt(true);
    }, wait);
  }

  /** Stops an attempt: withdraws it from the pool queue, or aborts its exchange (closing that connection). */
  #cancel(a: Attempt): void {
    if (a.cancelled) return;
    a.cancelled = true;
    clearTimeout(a.perTry);
    a.handle?.cancel();
    const controller = a.controller;
    if (controller === undefined) return this.#settle(a);
    // Its onResponseError settles it (HTTP/1.1: the connection closes).
    a.controller = undefined;
    controller.abort(new Error('attempt cancelled'));
  }

  #settle(a: Attempt): void {
    if (a.settled) return;
    a.settled = true;
    clearTimeout(a.perTry);
    a.host.active -= 1;
    if (a.holdsRetry) this.#cluster.retries -= 1;
  }

  #routeTimeout(): void {
    this.#timer = undefined;
    if (this.#done) return;
    const a = this.#current;
    const started = a?.forwarding === true && !a.cancelled;
    // As Envoy's router (Filter::onResponseTimeout, router.cc): counted for every try still in
    // flight, awaiting its headers or already answering ("in all the cases … where we might have
    // already seen the headers"), not for a request the timeout ends in its retry back-off (no try
    // in flight). This sidecar used to count only a try awaiting its headers, as older Envoys did.
    if (a !== undefined && !a.cancelled && !a.settled) this.#cluster.counters.inc('upstream_rq_timeout');
    if (a !== undefined && !a.cancelled && !a.settled) {
      if (a.connection !== undefined) this.#cluster.reportLocalOrigin(a.host, 'timeout');
      this.#cancel(a);
    }
    this.#x.flags.add('UT');
    if (started) return this.#end(() => this.#x.abort('upstream_response_timeout'));
    this.#end(() => this.#x.localReply(504, TIMEOUT_BODY, 'upstream_response_timeout'));
  }

  #end(reply: () => void): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    if (this.#backoff !== undefined) {
      clearTimeout(this.#backoff);
      this.#backoff = undefined;
      this.#cluster.retries -= 1;
    }
    if (!this.#x.over) reply();
  }

  /** The app went away: stop everything. */
  #stop(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    if (this.#backoff !== undefined) {
      clearTimeout(this.#backoff);
      this.#cluster.retries -= 1;
    }
    if (this.#current !== undefined) this.#cancel(this.#current);
  }
}
