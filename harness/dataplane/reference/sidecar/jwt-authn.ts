/**
 * Envoy's jwt_authn filter, as the reference sidecar enforces the istiod translation's config
 * (istiod/jwt-authn.ts). Tokens are verified with `jose` (panva/jose): the key is chosen from the
 * provider's local JWKS by `kid`, `alg` and key type, and the signature checked; the claim checks
 * run first, in jwt_verify_lib's order (issuer, exp/nbf with 60 s skew, audiences), so the 401
 * says what Envoy says (envoy source/extensions/filters/http/jwt_authn/authenticator.cc).
 *
 * Requirements: a provider alone verifies every token at its locations (the first failure ends
 * it); in a `requires_any` holding `allow_missing` its providers accept a request with no token,
 * and on a failure try the next token; `requires_any` is satisfied by one child, `requires_all`
 * by every child. A verified token's payload goes to dynamic metadata (`payload`, space-delimited
 * claims split), and, as configured, its payload to a header, its claims to headers, and the token
 * is taken out of the header it came in unless `forward` is set.
 */
import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, type JWTPayload } from 'jose';
import type { JwtAuthnConfig, JwtProvider, JwtRequirement } from '../../istiod/jwt-authn.ts';

export const JWT_AUTHN_METADATA = 'envoy.filters.http.jwt_authn';

/** jwt_verify_lib status texts (the 401 body). */
const STATUS = {
  missing: 'Jwt is missing',
  badFormat: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  expired: 'Jwt is expired',
  notYetValid: 'Jwt not yet valid',
  unknownIssuer: 'Jwt issuer is not configured',
  audience: 'Audiences in Jwt are not allowed',
  verification: 'Jwt verification fails',
  noKey: "Jwks doesn't have key to match kid or alg from Jwt",
} as const;
const OK = 'OK';
const CLOCK_SKEW_S = 60;
const JWT_CHARS = /^[A-Za-z0-9\-_.]*/;

/** Where a token was found: what `forward: false` removes. */
interface Location {
  readonly token: string;
  readonly header?: string;
  readonly param?: string;
}

export interface JwtRequest {
  /** Header value by lower-case name (repeated headers joined with `,`). */
  readonly header: (name: string) => string | undefined;
  /** The request target as received (for query parameters). */
  readonly target: string;
}

export type JwtResult =
  | {
      readonly ok: true;
      /** Dynamic metadata to add (absent: no token was verified). */
      readonly metadata?: Readonly<Record<string, unknown>>;
      /** Headers to remove from and add to the request forwarded to the app. */
      readonly removeHeaders: readonly string[];
      /** Query parameters to take out of the forwarded path (a token not forwarded). */
      readonly removeParams: readonly string[];
      readonly addHeaders: readonly (readonly [string, string])[];
    }
  | { readonly ok: false; readonly status: string };

interface Verified {
  readonly provider: CompiledProvider;
  readonly location: Location;
  readonly payload: JWTPayload;
  readonly payloadSegment: string;
}

interface Outcome {
  readonly status: string;
  readonly verified: readonly Verified[];
}

interface CompiledProvider {
  readonly name: string;
  readonly config: JwtProvider;
  readonly keys: ReturnType<typeof createLocalJWKSet> | undefined;
}

export class JwtAuthn {
  readonly #providers: ReadonlyMap<string, CompiledProvider>;
  readonly #requires: JwtRequirement;
  readonly #now: () => number;

  constructor(config: JwtAuthnConfig, now: () => number = Date.now) {
    const providers = new Map<string, CompiledProvider>();
    for (const [name, p] of Object.entries(config.providers)) {
      let keys: CompiledProvider['keys'];
      try {
        keys = createLocalJWKSet(JSON.parse(p.localJwks.inlineString) as Parameters<typeof createLocalJWKSet>[0]);
      } catch {
        keys = undefined;
      }
      providers.set(name, { name, config: p, keys });
    }
    this.#providers = providers;
    this.#requires = config.rules[0].requires;
    this.#now = now;
  }

  async verify(request: JwtRequest): Promise<JwtResult> {
    const outcome = await this.#requirement(this.#requires, request, false);
    if (outcome.status !== OK) return { ok: false, status: outcome.status };
    const removeHeaders: string[] = [];
    const removeParams: string[] = [];
    const addHeaders: [string, string][] = [];
    let metadata: Record<string, unknown> | undefined;
    for (const v of outcome.verified) {
      const p = v.provider.config;
      if (p.forwardPayloadHeader !== undefined) addHeaders.push([p.forwardPayloadHeader.toLowerCase(), v.payloadSegment]);
      for (const c of p.claimToHeaders ?? []) {
        const value = v.payload[c.claimName];
        const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
        if (text !== '') addHeaders.push([c.headerName.toLowerCase(), text]);
      }
      if (p.forward !== true && v.location.header !== undefined) removeHeaders.push(v.location.header);
      if (p.forward !== true && v.location.param !== undefined) removeParams.push(v.location.param);
      metadata = { [p.payloadInMetadata]: normalize(v.payload, p.normalizePayloadInMetadata.spaceDelimitedClaims) };
    }
    return { ok: true, ...(metadata === undefined ? {} : { metadata: { [JWT_AUTHN_METADATA]: metadata } }), removeHeaders, removeParams, addHeaders };
  }

  async #requirement(r: JwtRequirement, request: JwtRequest, allowMissing: boolean): Promise<Outcome> {
    if ('providerName' in r) {
      const p = this.#providers.get(r.providerName);
      if (p === undefined) return { status: STATUS.unknownIssuer, verified: [] };
      return this.#authenticate(p, request, allowMissing);
    }
    if ('allowMissing' in r) return { status: allowMissing ? OK : STATUS.missing, verified: [] };
    if ('requiresAll' in r) {
      const verified: Verified[] = [];
      for (const child of r.requiresAll.requirements) {
        const o = await this.#requirement(child, request, false);
        if (o.status !== OK) return { status: o.status, verified: [] };
        verified.push(...o.verified);
      }
      return { status: OK, verified };
    }
    // Envoy's AnyVerifier: the regular children in order, then one by-pass child (allow_missing)
    // over the providers this list names; satisfied by the first child that is, else it ends with
    // the last child's status.
    const regular = r.requiresAny.requirements.filter((c) => !('allowMissing' in c));
    let last: Outcome = { status: STATUS.missing, verified: [] };
    for (const child of regular) {
      last = await this.#requirement(child, request, false);
      if (last.status === OK) return last;
    }
    if (regular.length < r.requiresAny.requirements.length) {
      const named = regular.flatMap((c) => ('providerName' in c ? [this.#providers.get(c.providerName)] : [])).filter((p): p is CompiledProvider => p !== undefined);
      const results = await Promise.all(named.map((p) => this.#authenticate(p, request, true)));
      const failed = results.find((o) => o.status !== OK);
      return failed ?? { status: OK, verified: results.flatMap((o) => o.verified) };
    }
    return last;
  }

  /** Envoy's AuthenticatorImpl for one provider: tokens last-found first. */
  async #authenticate(p: CompiledProvider, request: JwtRequest, allowMissing: boolean): Promise<Outcome> {
    const tokens = locate(p.config, request);
    if (tokens.length === 0) return { status: allowMissing ? OK : STATUS.missing, verified: [] };
    let last: Outcome = { status: STATUS.missing, verified: [] };
    for (const location of [...tokens].reverse()) {
      const result = await this.#verifyToken(p, location);
      last = result;
      if (result.status !== OK && !allowMissing) return result;
    }
    return last;
  }

  async #verifyToken(p: CompiledProvider, location: Location): Promise<Outcome> {
    const fail = (status: string): Outcome => ({ status, verified: [] });
    let payload: JWTPayload;
    try {
      decodeProtectedHeader(location.token);
      payload = decodeJwt(location.token);
    } catch {
      return fail(STATUS.badFormat);
    }
    const c = p.config;
    if (c.issuer !== undefined && payload.iss !== c.issuer) return fail(STATUS.unknownIssuer);
    const now = Math.floor(this.#now() / 1000);
    if (typeof payload.nbf === 'number' && now + CLOCK_SKEW_S < payload.nbf) return fail(STATUS.notYetValid);
    if (typeof payload.exp === 'number' && now - CLOCK_SKEW_S > payload.exp) return fail(STATUS.expired);
    if ((c.audiences ?? []).length > 0) {
      const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
      if (!aud.some((a) => c.audiences?.includes(a))) return fail(STATUS.audience);
    }
    if (p.keys === undefined) return fail(STATUS.noKey);
    try {
      await compactVerify(location.token, p.keys);
    } catch (error) {
      return fail(error instanceof errors.JWKSNoMatchingKey ? STATUS.noKey : STATUS.verification);
    }
    return { status: OK, verified: [{ provider: p, location, payload, payloadSegment: location.token.split('.')[1] ?? '' }] };
  }
}

/** The provider's locations: its headers, query parameters and cookies, or Envoy's defaults when it names none. */
function locate(p: JwtProvider, request: JwtRequest): Location[] {
  const headers = p.fromHeaders ?? [];
  const params = p.fromParams ?? [];
  const cookies = p.fromCookies ?? [];
  const defaults = headers.length + params.length + cookies.length === 0;
  const out: Location[] = [];
  for (const h of defaults ? [{ name: 'authorization', valuePrefix: 'Bearer ' }] : headers) {
    const name = h.name.toLowerCase();
    const value = request.header(name);
    if (value === undefined) continue;
    const prefix = h.valuePrefix ?? '';
    const at = prefix === '' ? 0 : value.indexOf(prefix);
    if (at < 0) continue;
    const token = JWT_CHARS.exec(value.slice(at + prefix.length))?.[0] ?? '';
    if (token !== '') out.push({ token, header: name });
  }
  const q = request.target.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : request.target.slice(q + 1).split('#')[0]);
  for (const name of defaults ? ['access_token'] : params) {
    const value = query.get(name);
    if (value !== null && value !== '') out.push({ token: value, param: name });
  }
  const cookieHeader = request.header('cookie') ?? '';
  for (const name of cookies) {
    for (const part of cookieHeader.split(';')) {
      const [k, v] = part.trim().split('=');
      if (k === name && v !== undefined && v !== '') out.push({ token: v });
    }
  }
  return out;
}

/** normalize_payload_in_metadata: the listed claims, when strings, become lists split at spaces. */
function normalize(payload: JWTPayload, spaceDelimited: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...payload };
  for (const claim of spaceDelimited) {
    const v = out[claim];
    if (typeof v === 'string') out[claim] = v.split(' ').filter((x) => x !== '');
  }
  return out;
}
