/**
 * What the oracle says must happen to one inbound request, and why.
 */
import type { MtlsStep, PolicyRef } from '../model/resolve-peer-authentication.ts';
import type { AuthorizationAction } from '../model/resources.ts';

export type DecisionOutcome =
  /** The request reaches the app (HTTP), or the connection is proxied (TCP). */
  | 'allowed'
  /** Authorization denied it: HTTP 403 `RBAC: access denied`; TCP: the connection is closed. */
  | 'denied'
  /** A JWT the request carries is invalid (RequestAuthentication): 401 from the sidecar, before authorization. */
  | 'unauthenticated'
  /** Rejected by the HTTP codec or path checks: 400 (e.g. `%00`). */
  | 'bad-request'
  /** No filter chain for the connection (plaintext under STRICT): closed with no response. */
  | 'connection-reset'
  /** The TLS handshake fails (no client certificate, untrusted CA, foreign trust domain, …). */
  | 'handshake-failed'
  /** The outcome depends on something meshproof does not model (CUSTOM/ext_authz, Envoy metadata). */
  | 'not-supported';

/** How firmly the semantics reference backs this expectation. */
export type Basis = 'confirmed' | 'derived' | 'unconfirmed';

/** What the client and the app must observe. */
export interface ExpectedObservation {
  /** `response`: an HTTP response; `reset`: closed/reset with no response; `tls-error`: handshake failure; `connected`: TCP proxied. */
  readonly client: 'response' | 'reset' | 'tls-error' | 'connected' | 'unknown';
  /** Set for responses the sidecar itself sends (403, 400). Absent when the app answers. */
  readonly status?: number;
  /** For a gRPC client: the grpc-status of the sidecar's own reply (7 PERMISSION_DENIED, 13 INTERNAL). */
  readonly grpcStatus?: number;
  readonly body?: string;
  /** Whether the app sees the request at all. */
  readonly appReceives: boolean;
  /** The path the app receives (normalized, query kept), when it receives the request. */
  readonly forwardedPath?: string;
  /** Server-side access log `response_code_details`, where Istio/Envoy define it. */
  readonly responseCodeDetails?: string;
  /** Server-side access log response flags, where defined (`NR` for no filter chain). */
  readonly responseFlags?: string;
}

export interface DecidingRule {
  /** `namespace/name/rules[i]`. */
  readonly id: string;
  /** Envoy's RBAC policy name, `ns[..]-policy[..]-rule[i]`. */
  readonly envoyName: string;
  readonly action: AuthorizationAction;
  readonly policy: PolicyRef;
}

export interface Decision {
  readonly outcome: DecisionOutcome;
  readonly expect: ExpectedObservation;
  /** One sentence: what happens and which policy/rule made it so. */
  readonly reason: string;
  readonly rule?: DecidingRule;
  /** The effective mTLS mode of the destination port and the PeerAuthentication chain behind it. */
  readonly mtls: { readonly port: number; readonly mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'; readonly steps: readonly MtlsStep[] };
  /**
   * End-user authentication, when a RequestAuthentication selects the workload: the token was
   * valid (and whose it is), refused (Envoy's status text), or there was none (no request principal).
   */
  readonly authn?: {
    readonly outcome: 'valid' | 'rejected' | 'no-token';
    readonly principal?: string;
    readonly audiences?: readonly string[];
    readonly presenter?: string;
    readonly status?: string;
    readonly rule?: { readonly policy: PolicyRef; readonly index: number; readonly issuer: string };
  };
  /** Whether the connection reached authorization as mTLS (with a peer identity). */
  readonly peer?: string;
  /** The path authorization matched (normalized, no query). */
  readonly matchedPath?: string;
  readonly audited: readonly string[];
  readonly dryRunMatches: readonly { readonly id: string; readonly action: AuthorizationAction }[];
  readonly basis: Basis;
  /** Readings chosen where the reference is [derived] or [unconfirmed], and other caveats. */
  readonly notes: readonly string[];
}
