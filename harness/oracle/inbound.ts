/**
 * The inbound oracle: for a request to a workload's port, what the server sidecar must do.
 *
 * Steps, in the order the sidecar applies them:
 * 1. Filter chain and TLS by the port's effective mTLS mode (istio-semantics.md §1);
 * 2. HTTP checks: `%00` and invalid header names → 400, path normalization (§2);
 * 3. RequestAuthentication: a token that is there must be valid, else 401 (request-authentication.ts);
 * 4. AuthorizationPolicy: CUSTOM → DENY → ALLOW (§2).
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import { SPIFFE_PREFIX, parseIdentity } from '../model/identity.ts';
import { findWorkload, type ResolvedMesh, type ResolvedPort, type ResolvedWorkload } from '../model/resolve.ts';
import { policyRef } from '../model/resolve-peer-authentication.ts';
import type { AuthzContext, JwtClaims } from './authz-context.ts';
import type { Basis, DecidingRule, Decision, ExpectedObservation } from './decision.ts';
import { compileAuthorization, evaluateAuthorization, type CompiledAuthorization, type CompiledPolicyRule } from './evaluate-authorization.ts';
import { normalizePath } from './path-normalization.ts';
import { authenticateRequest, jwtDeniedDetails, jwtDeniedStatus, withoutParam } from './request-authentication.ts';
import { trustDomainBundle } from './trust-domain.ts';

export type CertificateProblem = 'no-client-cert' | 'untrusted-ca' | 'expired';

export type RequestSource =
  /** An in-mesh client with its own sidecar (auto mTLS): `identity` is `td/ns/x/sa/y` or its spiffe:// form. */
  | { readonly kind: 'mesh'; readonly identity: string }
  /** A client without a sidecar, speaking plain HTTP/TCP. */
  | { readonly kind: 'plaintext' }
  /**
   * A client doing TLS itself with Istio's ALPN and this certificate (forged-identity and
   * attacker clients). `problem` says what is wrong with the certificate, if anything.
   */
  | { readonly kind: 'certificate'; readonly identity?: string; readonly problem?: CertificateProblem };

export interface InboundRequest {
  readonly source: RequestSource;
  /** Destination workload, `namespace/name`. */
  readonly to: string;
  /** Workload (container) port. Default: the workload's first port. */
  readonly port?: number;
  /** Default GET. */
  readonly method?: string;
  /** Raw request target as sent (query and fragment allowed). Default `/`. */
  readonly path?: string;
  /** Header names in any case; a list keeps repeated headers (merged with `,`, as Envoy does). */
  readonly headers?: Readonly<Record<string, string>> | readonly (readonly [string, string])[];
  /** `:authority`. Default: `<service>:<service port>` of the first service that targets the port (defaultHost). */
  readonly host?: string;
  readonly sourceIp?: string;
  readonly remoteIp?: string;
  readonly destinationIp?: string;
  /** SNI the client sends in its TLS ClientHello; a plaintext connection has none. */
  readonly sni?: string;
  /** When the request is judged, in seconds since the epoch (JWT exp/nbf); default now. */
  readonly now?: number;
  /** How the client speaks. Default: as the port is declared (HTTP/1.1 for http, raw bytes for tcp). */
  readonly protocol?: ClientProtocol;
  /** The highest TLS version a TLS client offers. Default TLSv1.3 (what sidecars offer). */
  readonly tlsVersion?: TlsVersion;
}

export type ClientProtocol = 'http1' | 'http2' | 'grpc' | 'tcp';
export type TlsVersion = 'TLSv1.0' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
const TLS_RANK: Readonly<Record<TlsVersion, number>> = { 'TLSv1.0': 0, 'TLSv1.1': 1, 'TLSv1.2': 2, 'TLSv1.3': 3 };
/** Envoy's httpToGrpcStatus for the local replies the sidecar sends a gRPC client. */
const GRPC_STATUS_FOR_HTTP: Readonly<Record<number, number>> = { 400: 13, 401: 16, 403: 7 };

const RBAC_DENIED_BODY = 'RBAC: access denied';

/** Token characters of RFC 9110 (header names and methods). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COMMON_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

export class InboundOracle {
  readonly mesh: ResolvedMesh;
  private readonly bundle: readonly string[];
  private readonly compiled = new WeakMap<ResolvedWorkload, { http?: CompiledAuthorization; tcp?: CompiledAuthorization }>();
  private readonly identities = new Map<string, ReturnType<typeof parseIdentity>>();
  /** Mesh trust domain and aliases: a peer outside them fails the handshake. */
  readonly trustedDomains: ReadonlySet<string>;
  private readonly allowSummaries = new Map<CompiledAuthorization, string>();
  private readonly workloads = new Map<string, ResolvedWorkload>();

  constructor(mesh: ResolvedMesh) {
    this.mesh = mesh;
    this.bundle = trustDomainBundle(mesh.mesh.trustDomain, mesh.mesh.trustDomainAliases);
    this.trustedDomains = new Set(this.bundle);
  }

  /** parseIdentity, cached: callers repeat identities. */
  identity(identity: string): ReturnType<typeof parseIdentity> {
    if (this.identities.has(identity)) return this.identities.get(identity);
    const parsed = parseIdentity(identity);
    if (this.identities.size < 10_000) this.identities.set(identity, parsed);
    return parsed;
  }

  /** The compiled policies of a workload for one protocol (cached: the oracle is called a lot). */
  authorizationFor(workload: ResolvedWorkload, protocol: 'http' | 'tcp'): CompiledAuthorization {
    let entry = this.compiled.get(workload);
    if (entry === undefined) {
      entry = {};
      this.compiled.set(workload, entry);
    }
    let c = entry[protocol];
    if (c === undefined) {
      c = compileAuthorization(workload.authorizationPolicies, protocol, this.bundle);
      entry[protocol] = c;
    }
    return c;
  }

  /** describeAllow, computed once per compiled set. */
  allowSummary(compiled: CompiledAuthorization): string {
    let s = this.allowSummaries.get(compiled);
    if (s === undefined) {
      s = describeAllow(compiled);
      this.allowSummaries.set(compiled, s);
    }
    return s;
  }

  decide(request: InboundRequest): Decision {
    let workload = this.workloads.get(request.to);
    if (workload === undefined) {
      workload = findWorkload(this.mesh, request.to);
      this.workloads.set(request.to, workload);
    }
    const port = request.port === undefined ? workload.ports[0] : workload.ports.find((p) => p.port === request.port);
    if (port === undefined) {
      throw new MeshproofError(ErrorCode.BadArgument, `workload ${workload.key} has no port ${request.port}`, { hint: `its ports: ${workload.ports.map((p) => p.port).join(', ')}` });
    }
    return decideForPort(this, workload, port, request);
  }
}

const mtlsCache = new WeakMap<ResolvedPort, Decision['mtls']>();
function mtlsOf(port: ResolvedPort): Decision['mtls'] {
  let m = mtlsCache.get(port);
  if (m === undefined) {
    m = Object.freeze({ port: port.port, mode: port.mtlsMode, steps: port.mtlsSteps });
    mtlsCache.set(port, m);
  }
  return m;
}

function describeMtls(port: ResolvedPort): string {
  const last = port.mtlsSteps.filter((s) => s.mode !== 'UNSET').at(-1);
  if (last === undefined) return `port ${port.port} is ${port.mtlsMode} (no PeerAuthentication: Istio's default)`;
  return `port ${port.port} is ${port.mtlsMode} (${last.scope} PeerAuthentication ${last.policy.namespace}/${last.policy.name})`;
}

function base(port: ResolvedPort): Pick<Decision, 'mtls' | 'audited' | 'dryRunMatches'> {
  return { mtls: mtlsOf(port), audited: [], dryRunMatches: [] };
}

function identityToUri(identity: string): string {
  return identity.startsWith(SPIFFE_PREFIX) ? identity : `${SPIFFE_PREFIX}${identity}`;
}

const ruleCache = new WeakMap<CompiledPolicyRule, DecidingRule>();
function decidingRule(rule: CompiledPolicyRule): DecidingRule {
  let r = ruleCache.get(rule);
  if (r === undefined) {
    r = Object.freeze({ id: rule.id, envoyName: rule.envoyName, action: rule.action, policy: policyRef(rule.policy) });
    ruleCache.set(rule, r);
  }
  return r;
}

function mergeHeaders(headers: InboundRequest['headers']): { map: Map<string, string>; badName?: string } {
  const map = new Map<string, string>();
  let badName: string | undefined;
  const entries = headers === undefined ? [] : Array.isArray(headers) ? (headers as readonly (readonly [string, string])[]) : Object.entries(headers as Record<string, string>);
  for (const [name, value] of entries) {
    if (!TOKEN.test(name)) badName ??= name;
    const key = name.toLowerCase();
    const prior = map.get(key);
    map.set(key, prior === undefined ? value : `${prior},${value}`);
  }
  return badName === undefined ? { map } : { map, badName };
}

function decideForPort(oracle: InboundOracle, workload: ResolvedWorkload, port: ResolvedPort, request: InboundRequest): Decision {
  const notes: string[] = [];
  let basis: Basis = 'confirmed';
  const mode = port.mtlsMode;
  const src = request.source;

  // ---- 1. Filter chain and TLS.
  let peer: string | undefined;
  let tls = false;
  if (src.kind === 'plaintext') {
    if (mode === 'STRICT') {
      return {
        ...base(port),
        outcome: 'connection-reset',
        expect: { client: 'reset', appReceives: false, responseFlags: 'NR', responseCodeDetails: 'filter_chain_not_found' },
        reason: `plaintext is refused: ${describeMtls(port)} has no plaintext filter chain, so the connection is closed with no response`,
        basis,
        notes,
      };
    }
  } else {
    const identity = src.identity;
    const problem = src.kind === 'certificate' ? src.problem : undefined;
    const parsed = identity === undefined ? undefined : oracle.identity(identity);
    const sendsTls = src.kind === 'certificate' || mode !== 'DISABLE';
    if (src.kind === 'mesh' && mode === 'DISABLE') {
      notes.push('[derived] auto mTLS: the client sidecar sends plaintext to a DISABLE port, so the request carries no peer identity');
      basis = 'derived';
    }
    if (sendsTls) {
      const minimum = oracle.mesh.mesh.minTlsVersion;
      if (request.tlsVersion !== undefined && TLS_RANK[request.tlsVersion] < TLS_RANK[minimum] && mode !== 'DISABLE') {
        return {
          ...base(port),
          outcome: 'handshake-failed',
          expect: { client: 'tls-error', appReceives: false },
          reason: `the TLS handshake fails: the sidecar accepts ${minimum} to TLSv1.3 (meshMTLS.minProtocolVersion) and the client offers at most ${request.tlsVersion} (${describeMtls(port)})`,
          basis,
          notes,
        };
      }
      tls = true;
      if (mode === 'DISABLE') {
        return {
          ...base(port),
          outcome: 'handshake-failed',
          expect: { client: 'tls-error', appReceives: false },
          reason: `${describeMtls(port)}: the sidecar has only plaintext filter chains, so a TLS client cannot complete a handshake`,
          basis: 'derived',
          notes: [...notes, '[derived] a TLS ClientHello to a plaintext-only listener fails on the client side'],
        };
      }
      const why =
        problem === 'no-client-cert'
          ? 'the client presents no certificate and the sidecar requires one'
          : problem === 'untrusted-ca'
            ? 'the client certificate is not signed by the mesh root of trust'
            : problem === 'expired'
              ? 'the client certificate has expired'
              : identity === undefined || parsed === undefined
                ? 'the client certificate carries no SPIFFE identity of the mesh'
                : !oracle.trustedDomains.has(parsed.trustDomain)
                  ? `the client's trust domain '${parsed.trustDomain}' is neither the mesh trust domain nor an alias (${[...oracle.trustedDomains].join(', ')})`
                  : undefined;
      if (why !== undefined) {
        const derived = problem === undefined && parsed !== undefined;
        return {
          ...base(port),
          outcome: 'handshake-failed',
          expect: { client: 'tls-error', appReceives: false },
          reason: `the TLS handshake fails: ${why} (${describeMtls(port)})`,
          basis: derived ? 'derived' : basis,
          notes: derived ? [...notes, '[derived] the server matches the client SAN against spiffe://<trust domain or alias>/'] : notes,
        };
      }
      peer = identity === undefined ? undefined : identityToUri(identity);
    }
  }

  // ---- 2. HTTP checks.
  const { map: headers, badName } = mergeHeaders(request.headers);
  const isHttp = port.protocol === 'http';
  const grpc = isHttp && request.protocol === 'grpc';
  if (grpc && request.method !== undefined && request.method !== 'POST') {
    throw new MeshproofError(ErrorCode.BadArgument, `a gRPC call is always POST, found method ${request.method}`, { hint: 'drop the method, or ask with another protocol' });
  }
  const method = request.method ?? (grpc ? 'POST' : 'GET');
  if (isHttp && request.protocol === 'tcp') {
    return {
      ...base(port),
      outcome: 'bad-request',
      expect: { client: 'response', status: 400, appReceives: false },
      reason: `port ${port.port} is declared HTTP, so the sidecar parses the connection as HTTP/1.1: bytes that are not HTTP get 400 and the connection is closed (${describeMtls(port)})`,
      basis: 'derived',
      notes: [...notes, "[derived] Envoy's HTTP/1 codec answers a protocol error with 400 Bad Request and closes; authorization never runs"],
      ...(peer === undefined ? {} : { peer }),
    };
  }
  if (!isHttp && request.protocol !== undefined && request.protocol !== 'tcp') {
    notes.push(`port ${port.port} is TCP: the sidecar proxies bytes, so the ${request.protocol} request is judged as a TCP connection (HTTP-only policy fields are not seen)`);
  }
  if (request.protocol === 'http2') notes.push('HTTP/2 is judged as HTTP/1.1: the same path normalization and authorization (:authority is the host)');
  let urlPath: string | undefined;
  let forwarded: string | undefined;
  if (isHttp) {
    const badRequest = (reason: string, b: Basis, extra: string[] = []): Decision => ({
      ...base(port),
      outcome: 'bad-request',
      expect: grpc ? { client: 'response', status: 200, grpcStatus: GRPC_STATUS_FOR_HTTP[400], appReceives: false } : { client: 'response', status: 400, appReceives: false },
      reason,
      basis: b,
      notes: [...notes, ...extra, ...(grpc ? ['[derived] to a gRPC client Envoy sends the 400 as a trailers-only response: HTTP 200, grpc-status 13 (INTERNAL)'] : [])],
      ...(peer === undefined ? {} : { peer }),
    });
    if (badName !== undefined) return badRequest(`header name '${badName}' is not a valid token (whitespace or separators), so the request is rejected with 400`, 'confirmed');
    if (!COMMON_METHODS.has(method) && !TOKEN.test(method)) return badRequest(`method '${method}' is not a valid HTTP token, so the request is rejected with 400`, 'confirmed');
    if (!COMMON_METHODS.has(method) && method !== method.toUpperCase()) {
      return badRequest(`method '${method}' is not upper-case; Istio's normalization doc says such requests get 400`, 'unconfirmed', [
        '[unconfirmed] reading chosen: a non-upper-case method is rejected with 400 (istio-semantics.md §2 step 10); method matching is case-sensitive either way',
      ]);
    }
    const normalized = normalizePath(request.path ?? '/', oracle.mesh.mesh.pathNormalization);
    if (!normalized.ok) return badRequest(`${normalized.reason}: 400`, 'confirmed');
    urlPath = normalized.urlPath;
    forwarded = normalized.forwarded;
  }

  // ---- 3. End-user authentication (jwt_authn runs before RBAC in the HTTP chain).
  let jwt: JwtClaims | undefined;
  let authn: Decision['authn'];
  if (isHttp && workload.jwtRules.length > 0) {
    const result = authenticateRequest(workload.jwtRules, { headers, path: request.path ?? '/', now: request.now ?? Math.floor(Date.now() / 1000) });
    const ruleOf = (r: (typeof workload.jwtRules)[number] | undefined): NonNullable<Decision['authn']>['rule'] => (r === undefined ? undefined : { policy: r.policy, index: r.index, issuer: r.rule.issuer ?? '' });
    if (result.kind === 'rejected') {
      const rule = ruleOf(result.rule);
      const body = result.status;
      return {
        ...base(port),
        outcome: 'unauthenticated',
        expect: grpc
          ? { client: 'response', status: 200, grpcStatus: GRPC_STATUS_FOR_HTTP[jwtDeniedStatus(body)], appReceives: false, responseCodeDetails: jwtDeniedDetails(body) }
          : { client: 'response', status: jwtDeniedStatus(body), body, appReceives: false, responseCodeDetails: jwtDeniedDetails(body) },
        reason: `${method} ${urlPath ?? ''} carries a JWT the sidecar refuses (${body}): a RequestAuthentication selects ${workload.key} (${workload.jwtRules.map((r) => `${r.policy.namespace}/${r.policy.name} issuer ${r.rule.issuer ?? '(any)'}`).join(', ')}), and the sidecar's jwt_authn answers a token it refuses with ${jwtDeniedStatus(body) === 403 ? '403 (its answer to an audience it does not allow; 401 otherwise)' : '401'} before any AuthorizationPolicy is read`,
        basis,
        notes,
        authn: { outcome: 'rejected', status: body, ...(rule === undefined ? {} : { rule }) },
        ...(peer === undefined ? {} : { peer }),
      };
    }
    if (result.kind === 'valid') {
      jwt = result.claims;
      if (result.removedParam !== undefined && forwarded !== undefined) forwarded = withoutParam(forwarded, result.removedParam);
      authn = { outcome: 'valid', principal: result.claims.principal, ...(result.claims.audiences === undefined ? {} : { audiences: result.claims.audiences }), ...(result.claims.presenter === undefined ? {} : { presenter: result.claims.presenter }), rule: ruleOf(result.rule) };
    } else {
      authn = { outcome: 'no-token' };
    }
  }

  // ---- 4. Authorization.
  const ctx: AuthzContext = {
    protocol: isHttp ? 'http' : 'tcp',
    peer,
    destinationPort: port.port,
    sourceIp: request.sourceIp,
    remoteIp: request.remoteIp,
    destinationIp: request.destinationIp,
    // A plaintext connection carries no SNI (Envoy's requested_server_name is empty).
    sni: tls ? request.sni : undefined,
    ...(jwt === undefined ? {} : { jwt }),
    method: isHttp ? method : undefined,
    urlPath,
    host: isHttp ? (request.host ?? cachedDefaultHost(oracle.mesh, workload, port.port)) : undefined,
    headers: isHttp ? headers : undefined,
  };
  const compiled = oracle.authorizationFor(workload, ctx.protocol);
  const result = evaluateAuthorization(compiled, ctx);
  const common = {
    ...base(port),
    ...(authn === undefined ? {} : { authn }),
    audited: result.audited,
    dryRunMatches: result.dryRunMatches,
    ...(peer === undefined ? {} : { peer }),
    ...(urlPath === undefined ? {} : { matchedPath: urlPath }),
    ...(result.rule === undefined ? {} : { rule: decidingRule(result.rule) }),
  };
  const who = peer === undefined ? 'a plaintext request (no peer identity)' : peer;
  const what = isHttp ? `${method} ${urlPath ?? ''}` : `TCP port ${port.port}`;
  if (result.verdict === 'unknown') {
    const why = result.basis === 'custom-matched' ? 'a CUSTOM (external authorization) policy matches, and meshproof does not model ext_authz' : 'a matching rule reads Envoy metadata the oracle cannot know';
    return { ...common, outcome: 'not-supported', expect: { client: 'unknown', appReceives: false }, reason: `${what} from ${who}: ${why} (${result.rule?.id ?? ''})`, basis, notes };
  }
  if (result.verdict === 'deny') {
    const details = result.responseCodeDetails === undefined ? {} : { responseCodeDetails: result.responseCodeDetails };
    const expect: ExpectedObservation = grpc
      ? { client: 'response', status: 200, grpcStatus: GRPC_STATUS_FOR_HTTP[403], body: RBAC_DENIED_BODY, appReceives: false, ...details }
      : isHttp
        ? { client: 'response', status: 403, body: RBAC_DENIED_BODY, appReceives: false, ...details }
        : { client: 'reset', appReceives: false };
    if (grpc) notes.push('[derived] to a gRPC client Envoy sends its local reply as a trailers-only response: HTTP 200, grpc-status 7 (PERMISSION_DENIED), grpc-message "RBAC: access denied"');
    const reason =
      result.basis === 'deny-matched'
        ? `${what} from ${who} is denied: DENY rule ${result.rule?.id} matches`
        : `${what} from ${who} is denied: ALLOW policies select ${workload.key} and none of their rules matches (${oracle.allowSummary(compiled)})`;
    return { ...common, outcome: 'denied', expect, reason, basis, notes };
  }
  const expect: ExpectedObservation = isHttp ? { client: 'response', appReceives: true, ...(forwarded === undefined ? {} : { forwardedPath: forwarded }) } : { client: 'connected', appReceives: true };
  const reason =
    result.basis === 'allow-matched'
      ? `${what} from ${who} is allowed: ALLOW rule ${result.rule?.id} matches`
      : `${what} from ${who} is allowed: no ALLOW policy selects ${workload.key}, and no DENY rule matches`;
  return { ...common, outcome: 'allowed', expect, reason, basis, notes };
}

function describeAllow(compiled: CompiledAuthorization): string {
  const ids = compiled.rules.ALLOW.filter((r) => !r.dryRun).map((r) => r.id + (r.dropped === undefined ? '' : ' [dropped on TCP]'));
  return ids.length === 0 ? 'an ALLOW policy without rules matches nothing' : `rules: ${ids.join(', ')}`;
}

const hostCache = new WeakMap<ResolvedWorkload, Map<number, string>>();
function cachedDefaultHost(mesh: ResolvedMesh, workload: ResolvedWorkload, port: number): string {
  let byPort = hostCache.get(workload);
  if (byPort === undefined) {
    byPort = new Map();
    hostCache.set(workload, byPort);
  }
  let host = byPort.get(port);
  if (host === undefined) {
    host = defaultHost(mesh, workload, port);
    byPort.set(port, host);
  }
  return host;
}

/** `<service>:<service port>` of the first service that targets this port, else `<workload>:<port>`. */
export function defaultHost(mesh: ResolvedMesh, workload: ResolvedWorkload, port: number): string {
  for (const d of mesh.destinations) {
    if (!d.workloads.includes(workload.key)) continue;
    const p = d.ports.find((x) => x.targetPort === port);
    if (p !== undefined) return `${d.name}:${p.port}`;
  }
  return `${workload.name}:${port}`;
}
