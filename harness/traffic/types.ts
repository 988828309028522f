/**
 * What a probe asks for (CallRequest) and what came back (Observation).
 *
 * Both are plain JSON, so the same values travel from the harness to an agent inside a client
 * container and back, and into the report as evidence. A call is executed by one sender per
 * protocol (see caller.ts); timing, recording and faults wrap senders rather than add flags.
 */

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** Client-side TLS for a call: certificate material travels as PEM text, never as paths. */
export interface ClientTls {
  /** Client certificate chain (leaf first) and its key; absent for "TLS without a client certificate". */
  readonly certChainPem?: string;
  readonly keyPem?: string;
  /** Roots the client trusts for the server's certificate; absent = do not verify the server. */
  readonly caPem?: string;
  readonly servername?: string;
  /**
   * Secure naming: the server certificate's URI SAN must be exactly this SPIFFE id. Mesh TLS never
   * checks DNS host names; with `caPem` and no expected identity only the chain is verified.
   */
  readonly expectServerIdentity?: string;
  readonly minVersion?: TlsVersion;
  readonly maxVersion?: TlsVersion;
  readonly alpn?: readonly string[];
}

export type CallProtocol =
  /** HTTP/1.1 over plain TCP. */
  | 'http'
  /** HTTP/1.1 over TLS (mTLS when a client certificate is given). */
  | 'https'
  /** A TLS handshake only, then close: for alerts and certificate chains. */
  | 'tls-handshake'
  /** Raw TCP: send `body`, read until the peer closes or `timeoutMs`. */
  | 'tcp';

export interface CallRequest {
  readonly protocol: CallProtocol;
  readonly host: string;
  readonly port: number;
  /** HTTP method, sent exactly as given (case included). Default GET. */
  readonly method?: string;
  /**
   * Request target, sent byte for byte as given: no normalization, no encoding, fragments kept.
   * Path-normalization probes depend on this. Default `/`.
   */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly tls?: ClientTls;
  /** Per-call limit; the default comes from timeouts.probe. */
  readonly timeoutMs?: number;
}

/** How the call ended, from the client's point of view. */
export type Outcome =
  /** An HTTP response arrived (any status). */
  | 'response'
  /** The handshake completed (protocol tls-handshake) or the TCP peer answered (tcp). */
  | 'connected'
  /** The connection was refused (nothing listening, or a closed port). */
  | 'refused'
  /** The peer reset or closed the connection before any response. */
  | 'reset'
  /** The TLS handshake failed (alert received or certificate rejected). */
  | 'tls-error'
  /** No answer within the call's timeout. */
  | 'timeout'
  /** Anything else (DNS failure, unreachable host, …); `error` says what. */
  | 'error';

export interface PeerCertificate {
  readonly subject: string;
  readonly issuer: string;
  /** URI SANs, e.g. `spiffe://cluster.local/ns/prod/sa/payment`. */
  readonly uriSans: readonly string[];
  readonly fingerprint256: string;
  readonly validFrom: string;
  readonly validTo: string;
  /** PEM of this certificate. */
  readonly pem: string;
}

export interface TlsObservation {
  readonly protocol: string | undefined;
  readonly cipher: string | undefined;
  readonly alpn: string | undefined;
  /** The server's chain as presented, leaf first. */
  readonly peerChain: readonly PeerCertificate[];
  /** When the handshake failed: the alert or OpenSSL reason, e.g. `certificate required`. */
  readonly alert?: string;
}

/** What the echo app reported about a request it received (the server's end of the call). */
export interface EchoReport {
  readonly pod: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Peer identity the sidecar vouched for (from x-forwarded-client-cert), if any. */
  readonly peerIdentity?: string;
  readonly protocol: string;
  /** The app's own request counter: lets a check prove "the app never saw it". */
  readonly requestId: number;
}

export interface Observation {
  readonly request: CallRequest;
  readonly outcome: Outcome;
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Response body (HTTP) or bytes read (tcp), truncated to 64 KiB. */
  readonly body?: string;
  /** The echo app's report, when the body is one. */
  readonly echo?: EchoReport;
  readonly tls?: TlsObservation;
  /** Low-level reason for refused/reset/tls-error/timeout/error: the errno or library code and message. */
  readonly error?: { readonly code: string; readonly message: string };
  /** Milliseconds since the epoch when the call started, and its duration. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** Which client made the call (pod name), filled in by the agent. */
  readonly from?: string;
}

/**
 * One line of a sidecar's access log (JSON lines), in Envoy's terms. Both data planes produce it;
 * checks read response flags and the matched RBAC policy from it.
 */
export interface AccessLogEntry {
  /** ISO-8601 time the request or connection started. */
  readonly time: string;
  readonly direction: 'inbound' | 'outbound';
  /** The pod whose sidecar wrote the line. */
  readonly pod: string;
  /** `ip:port` of the downstream (the caller). */
  readonly downstreamAddress?: string;
  /** The downstream's verified SPIFFE id, when it presented one. */
  readonly downstreamPrincipal?: string;
  readonly method?: string;
  /** The path as received, before normalization. */
  readonly path?: string;
  readonly authority?: string;
  /** HTTP status, or 0 when no response was sent (reset, closed). */
  readonly status: number;
  /** Envoy response flags (`UO`, `UH`, `NR`, `UT`, `URX`, `FI`, `DI`, `UF`, `UC`, `DC`, …) or `-`. */
  readonly responseFlags: string;
  /** Envoy response code details, e.g. `rbac_access_denied_matched_policy[ns[prod]-policy[x]-rule[0]]`. */
  readonly responseCodeDetails?: string;
  /** The upstream endpoint that served it (outbound), `ip:port` or pod name. */
  readonly upstreamHost?: string;
  readonly connectionSecurity?: 'mutual_tls' | 'none';
  /**
   * Envoy's `access_log_hint` (dynamic metadata `envoy.common`) set by a LOG (Istio AUDIT) RBAC
   * filter: true when an AUDIT rule matched the request, false when one ran and none matched. It is
   * how an AUDIT policy shows: Envoy 1.40 counts no `rbac.logged` statistic.
   */
  readonly auditHint?: boolean;
  readonly durationMs: number;
}

/**
 * Many calls from inside a pod through its own sidecar: the in-mesh client every suite uses
 * (Istio's echo "forwarder"). Results come back compact, one per call, in the order they started.
 */
export interface ForwardRequest {
  /** The call to repeat; for an in-mesh client, plaintext HTTP to the pod's own sidecar. */
  readonly request: CallRequest;
  readonly count: number;
  /** Calls in flight at once (default 1). */
  readonly concurrency?: number;
  /** Starts at most this many calls per second (default: as fast as concurrency allows). */
  readonly ratePerSecond?: number;
  /** Reuse connections (default true); false opens a connection per call. */
  readonly keepAlive?: boolean;
}

export interface ForwardResult {
  readonly index: number;
  /** Milliseconds after the forward began. */
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly outcome: Outcome;
  readonly status?: number;
  /** The echo pod that answered, when the answer came from an echo app. */
  readonly servedBy?: string;
  /** Response headers named x-envoy-* or x-meshproof-*. */
  readonly headers?: Readonly<Record<string, string>>;
  /** First 200 bytes of a body that is not an echo answer (a sidecar's local reply). */
  readonly body?: string;
  readonly errorCode?: string;
}

export interface ForwardResponse {
  readonly from: string;
  /** Epoch milliseconds when the forward began. */
  readonly startedAt: number;
  readonly results: readonly ForwardResult[];
}

/** Fault modes of the echo app, switched through its control socket. */
export type EchoMode =
  | { readonly mode: 'normal' }
  /** Answer every request with this status (default 503). */
  | { readonly mode: 'fail'; readonly status?: number }
  /** Reset every connection without answering. */
  | { readonly mode: 'reset' }
  /** Accept requests and never answer. */
  | { readonly mode: 'hang' }
  /** Answer normally after this delay. */
  | { readonly mode: 'slow'; readonly delayMs: number }
  /** Answer with a seeded mix of statuses, `503:20,200:80` (as ?codes=, but for every request to this replica). */
  | { readonly mode: 'mix'; readonly codes: string };
