/**
 * End-user authentication as the oracle reads it: what a workload's RequestAuthentications make
 * of the JWTs a request carries, before authorization (istio-semantics.md; istiod
 * policy_applier.go convertToEnvoyJwtConfig; Envoy jwt_authn and jwt_verify_lib).
 *
 * - A request with no token at any location the rules look at passes with no request principal.
 * - A token that is there must be valid: well formed, of an issuer a rule names (at that rule's
 *   locations), within exp/nbf (60 s of clock skew), with an audience the rule allows (any, when
 *   the rule lists none), and signed by a key of the rule's JWKS. Otherwise the sidecar answers
 *   401 itself, whatever the AuthorizationPolicies say.
 * - With several rules, istiod asks for any one rule satisfied, or for every rule satisfied
 *   or missing; a token valid for one rule is enough, a token valid for none is refused, and the
 *   401 names what the first rule that is neither satisfied nor missing found.
 * - The refusal is 401, except for an audience the rule does not allow: 403 (Envoy's filter).
 * - A token taken from a query parameter is removed from the path the app receives unless the
 *   rule forwards the original token.
 * - A valid token gives `request.auth.*`: principal `iss/sub`, audiences, presenter (`azp`) and
 *   the claims, where `scope`, `permission` and a rule's spaceDelimitedClaims are split at spaces.
 *
 * Signatures are checked here with node:crypto, on its own: the data planes verify with a JOSE
 * library (the reference sidecar) or with Envoy's jwt_verify_lib, and this reading must not share
 * their code.
 */
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { ResolvedJwtRule } from '../model/resolve.ts';
import type { JwtClaims } from './authz-context.ts';

/** jwt_verify_lib's status texts: what Envoy puts in the 401 body (and, `_` for spaces, in response_code_details). */
export const JWT_STATUS = {
  missing: 'Jwt is missing',
  badFormat: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  expired: 'Jwt is expired',
  notYetValid: 'Jwt not yet valid',
  unknownIssuer: 'Jwt issuer is not configured',
  audience: 'Audiences in Jwt are not allowed',
  verification: 'Jwt verification fails',
  noKey: "Jwks doesn't have key to match kid or alg from Jwt",
} as const;
type Status = 'ok' | (typeof JWT_STATUS)[keyof typeof JWT_STATUS];

/** jwt_verify_lib kClockSkewInSecond. */
const CLOCK_SKEW_S = 60;
/** The claims Istio always treats as space-delimited (buildSpaceDelimitedClaims). */
const SPACE_DELIMITED = ['permission', 'scope'];
const JWT_CHARS = /^[A-Za-z0-9\-_.]*/;

export type AuthnOutcome =
  /** No rule selects the workload, or no token is at any location a rule reads. */
  | { readonly kind: 'no-token' }
  | { readonly kind: 'valid'; readonly claims: JwtClaims; readonly rule: ResolvedJwtRule; readonly removedParam?: string }
  | { readonly kind: 'rejected'; readonly status: string; readonly rule?: ResolvedJwtRule };

export interface AuthnRequest {
  /** Lower-case names, repeated headers merged with `,`. */
  readonly headers: ReadonlyMap<string, string>;
  /** The request target as sent (for query parameters). */
  readonly path: string;
  /** Seconds since the epoch. */
  readonly now: number;
}

interface Found {
  readonly token: string;
  readonly rule: ResolvedJwtRule;
  /** The query parameter it came in, if any. */
  readonly param?: string;
}

/** Tokens at one rule's locations: its fromHeaders/fromParams/fromCookies, or Authorization `Bearer ` and `access_token` when it names none. */
function tokensFor(rule: ResolvedJwtRule, request: AuthnRequest): { token: string; param?: string }[] {
  const r = rule.rule;
  const headers = r.fromHeaders ?? [];
  const params = r.fromParams ?? [];
  const cookies = r.fromCookies ?? [];
  const defaults = headers.length + params.length + cookies.length === 0;
  const out: { token: string; param?: string }[] = [];
  for (const h of defaults ? [{ name: 'authorization', prefix: 'Bearer ' }] : headers) {
    const value = request.headers.get(h.name.toLowerCase());
    if (value === undefined) continue;
    const prefix = h.prefix ?? '';
    const at = prefix === '' ? 0 : value.indexOf(prefix);
    if (at < 0) continue;
    const token = JWT_CHARS.exec(value.slice(at + prefix.length))?.[0] ?? '';
    if (token !== '') out.push({ token });
  }
  const query = new URLSearchParams(request.path.includes('?') ? request.path.slice(request.path.indexOf('?') + 1).split('#')[0] : '');
  for (const p of defaults ? ['access_token'] : params) {
    const value = query.get(p);
    if (value !== null && value !== '') out.push({ token: value, param: p });
  }
  const cookie = request.headers.get('cookie');
  for (const c of cookies) {
    const pair = cookie?.split(';').map((x) => x.trim().split('=')).find(([k]) => k === c);
    if (pair?.[1] !== undefined && pair[1] !== '') out.push({ token: pair[1] });
  }
  return out;
}

interface Decoded {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly signed: Buffer;
  readonly signature: Buffer;
}

function decode(token: string): Decoded | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const json = (part: string): Record<string, unknown> => {
      const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      return v as Record<string, unknown>;
    };
    return { header: json(parts[0] ?? ''), payload: json(parts[1] ?? ''), signed: Buffer.from(`${parts[0]}.${parts[1]}`), signature: Buffer.from(parts[2] ?? '', 'base64url') };
  } catch {
    return undefined;
  }
}

const audiencesOf = (payload: Record<string, unknown>): string[] => {
  const aud = payload['aud'];
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
};

/** Which key types and verify options an algorithm needs. */
const ALGORITHMS: Readonly<Record<string, { kty: string; hash: string | null; pss?: boolean; ec?: boolean }>> = {
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
  ES256: { kty: 'EC', hash: 'sha256', ec: true },
  ES384: { kty: 'EC', hash: 'sha384', ec: true },
  ES512: { kty: 'EC', hash: 'sha512', ec: true },
  EdDSA: { kty: 'OKP', hash: null },
};

function keysOf(jwks: string | undefined): Record<string, unknown>[] {
  if (jwks === undefined) return [];
  try {
    const raw = JSON.parse(jwks) as Record<string, unknown>;
    const keys = Array.isArray(raw['keys']) ? raw['keys'] : [raw];
    return keys.filter((k): k is Record<string, unknown> => k !== null && typeof k === 'object');
  } catch {
    return [];
  }
}

/** The signature against the rule's keys: a key whose kid, alg and type fit must verify it. */
function signatureStatus(d: Decoded, jwks: string | undefined): Status {
  const alg = typeof d.header['alg'] === 'string' ? d.header['alg'] : '';
  const kid = typeof d.header['kid'] === 'string' ? d.header['kid'] : undefined;
  const spec = ALGORITHMS[alg];
  if (spec === undefined) return JWT_STATUS.verification;
  const candidates = keysOf(jwks).filter((k) => k['kty'] === spec.kty && (kid === undefined || k['kid'] === undefined || k['kid'] === kid) && (k['alg'] === undefined || k['alg'] === alg));
  if (candidates.length === 0) return JWT_STATUS.noKey;
  for (const jwk of candidates) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as never, format: 'jwk' });
    } catch {
      continue;
    }
    const options = spec.pss === true ? { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: Number(spec.hash?.slice(3)) / 8 } : spec.ec === true ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
    try {
      if (verifySignature(spec.hash, d.signed, options, d.signature)) return 'ok';
    } catch {
      // a key that cannot check this signature (size, curve) is no match
    }
  }
  return JWT_STATUS.verification;
}

/** One token against one rule, in jwt_verify_lib's order: format, issuer, time, audience, signature. */
function verifyToken(token: string, rule: ResolvedJwtRule, now: number): { status: Status; payload?: Record<string, unknown> } {
  const d = decode(token);
  if (d === undefined) return { status: JWT_STATUS.badFormat };
  const issuer = rule.rule.issuer ?? '';
  if (issuer !== '' && d.payload['iss'] !== issuer) return { status: JWT_STATUS.unknownIssuer };
  const exp = d.payload['exp'];
  const nbf = d.payload['nbf'];
  if (typeof nbf === 'number' && now + CLOCK_SKEW_S < nbf) return { status: JWT_STATUS.notYetValid };
  if (typeof exp === 'number' && now - CLOCK_SKEW_S > exp) return { status: JWT_STATUS.expired };
  const allowed = rule.rule.audiences ?? [];
  if (allowed.length > 0 && !audiencesOf(d.payload).some((a) => allowed.includes(a))) return { status: JWT_STATUS.audience };
  const signature = signatureStatus(d, rule.jwks);
  return signature === 'ok' ? { status: 'ok', payload: d.payload } : { status: signature };
}

/** One rule required: every token at its locations must be valid; none there is "missing". */
function requireRule(rule: ResolvedJwtRule, tokens: readonly { token: string; param?: string }[], now: number, allowMissing: boolean): { status: Status; valid?: Found & { payload: Record<string, unknown> } } {
  if (tokens.length === 0) return { status: allowMissing ? 'ok' : JWT_STATUS.missing };
  let last: { status: Status; valid?: Found & { payload: Record<string, unknown> } } = { status: JWT_STATUS.missing };
  // Envoy verifies the tokens last-found first; without allow_missing the first failure ends it.
  for (const { token, param } of [...tokens].reverse()) {
    const r = verifyToken(token, rule, now);
    last = r.status === 'ok' && r.payload !== undefined ? { status: 'ok', valid: { token, rule, payload: r.payload, ...(param === undefined ? {} : { param }) } } : { status: r.status };
    if (r.status !== 'ok' && !allowMissing) return last;
  }
  return last;
}

function claimsOf(payload: Record<string, unknown>, rule: ResolvedJwtRule): JwtClaims {
  const split = new Set([...SPACE_DELIMITED, ...(rule.rule.spaceDelimitedClaims ?? [])]);
  const claims: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) claims[k] = split.has(k) && typeof v === 'string' ? v.split(' ').filter((x) => x !== '') : v;
  const iss = typeof payload['iss'] === 'string' ? payload['iss'] : '';
  const sub = typeof payload['sub'] === 'string' ? payload['sub'] : '';
  return {
    principal: `${iss}/${sub}`,
    audiences: audiencesOf(payload),
    ...(typeof payload['azp'] === 'string' ? { presenter: payload['azp'] } : {}),
    claims,
  };
}

/**
 * The jwt_authn requirement istiod writes: one rule → that rule or missing; several → any one
 * rule, or all rules each satisfied or missing. A failed requirement is a 401 with the most telling
 * status (a missing token or an unknown issuer tells least).
 */
export function authenticateRequest(rules: readonly ResolvedJwtRule[], request: AuthnRequest): AuthnOutcome {
  if (rules.length === 0) return { kind: 'no-token' };
  const found = rules.map((rule) => tokensFor(rule, request));
  if (found.every((t) => t.length === 0)) return { kind: 'no-token' };
  if (rules.length === 1) {
    const r = requireRule(rules[0]!, found[0]!, request.now, true);
    if (r.valid !== undefined) return valid(r.valid);
    return r.status === 'ok' ? { kind: 'no-token' } : { kind: 'rejected', status: r.status, rule: rules[0]! };
  }
  const each = rules.map((rule, i) => requireRule(rule, found[i]!, request.now, false));
  const hit = each.find((r) => r.valid !== undefined)?.valid;
  if (hit !== undefined) return valid(hit);
  // No rule alone is satisfied: every rule must then be satisfied or have no token, and the first
  // rule that is neither says why (Envoy ends a requires_any with its last child's status: here the
  // requires_all, which ends at its first failing child).
  for (const [i, rule] of rules.entries()) {
    const optional = requireRule(rule, found[i]!, request.now, true);
    if (optional.status !== 'ok') return { kind: 'rejected', status: optional.status, rule };
  }
  return { kind: 'no-token' };
}

/** A verified token; one that came in a query parameter leaves it unless the rule forwards the token. */
function valid(v: Found & { payload: Record<string, unknown> }): AuthnOutcome {
  const removed = v.param !== undefined && v.rule.rule.forwardOriginalToken !== true ? { removedParam: v.param } : {};
  return { kind: 'valid', claims: claimsOf(v.payload, v.rule), rule: v.rule, ...removed };
}

/** Envoy answers 403 for an audience it does not allow, 401 for every other refusal (jwt_authn filter.cc). */
export function jwtDeniedStatus(status: string): 401 | 403 {
  return status === JWT_STATUS.audience ? 403 : 401;
}

/** The path the app receives when the token's query parameter is taken out: Envoy rebuilds the query without it. */
export function withoutParam(path: string, param: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const kept = path.slice(q + 1).split('&').filter((pair) => decodeURIComponent(pair.split('=')[0] ?? '') !== param);
  return kept.length === 0 ? path.slice(0, q) : `${path.slice(0, q)}?${kept.join('&')}`;
}

/** Envoy's response_code_details for a jwt_authn 401: `jwt_authn_access_denied{Jwt_is_expired}`. */
export function jwtDeniedDetails(status: string): string {
  return `jwt_authn_access_denied{${status.replaceAll(' ', '_')}}`;
}
