/**
 * A test JWT issuer: a signing key, its public JWKS (what a RequestAuthentication's `jwks` or
 * `jwksUri` gives the sidecar), and tokens of every kind a conformance case needs: valid, expired,
 * not yet valid, of another issuer, for another audience, and signed by a key the JWKS does not
 * hold (same `kid`, so only the signature tells). Keys and tokens are made by `jose`.
 */
import { SignJWT, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const JWT_TOKEN_KINDS = ['valid', 'expired', 'not-yet-valid', 'wrong-issuer', 'wrong-audience', 'bad-signature'] as const;
export type JwtTokenKind = (typeof JWT_TOKEN_KINDS)[number];

export function isJwtTokenKind(value: string): value is JwtTokenKind {
  return (JWT_TOKEN_KINDS as readonly string[]).includes(value);
}

export interface JwtIssuerOptions {
  /** `iss` of the tokens, and the issuer a RequestAuthentication names. */
  readonly issuer: string;
  /** Default RS256 (what most identity providers sign with); ES256 also works. */
  readonly algorithm?: 'RS256' | 'ES256';
  readonly kid?: string;
}

export interface TokenClaims {
  readonly sub: string;
  /** One audience or several. */
  readonly aud?: string | readonly string[];
  /** Authorized party (`request.auth.presenter`). */
  readonly azp?: string;
  /** Any other claims (`groups`, `scope`, nested objects). */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Lifetime of a valid token; default 1 h. */
  readonly ttlSeconds?: number;
}

export class JwtIssuer {
  readonly issuer: string;
  readonly algorithm: 'RS256' | 'ES256';
  readonly kid: string;
  readonly #key: CryptoKey;
  /** A key of the same type and `kid` that the JWKS does not hold: its signatures fail. */
  readonly #stranger: CryptoKey;
  readonly #publicJwk: JWK;
  readonly #privateJwk: JWK;
  readonly #now: () => number;

  private constructor(options: Required<JwtIssuerOptions>, key: CryptoKey, stranger: CryptoKey, publicJwk: JWK, privateJwk: JWK, now: () => number) {
    this.issuer = options.issuer;
    this.algorithm = options.algorithm;
    this.kid = options.kid;
    this.#key = key;
    this.#stranger = stranger;
    this.#publicJwk = publicJwk;
    this.#privateJwk = privateJwk;
    this.#now = now;
  }

  static async create(options: JwtIssuerOptions, now: () => number = Date.now): Promise<JwtIssuer> {
    const algorithm = options.algorithm ?? 'RS256';
    const kid = options.kid ?? 'meshproof-test-key';
    const pair = await generateKeyPair(algorithm, { extractable: true });
    return JwtIssuer.fromPrivateJwk(options, { ...(await exportJWK(pair.privateKey)), kid, alg: algorithm }, now);
  }

  /** An issuer whose signing key is a saved private JWK (a fixture's, or one `pki jwt` wrote). */
  static async fromPrivateJwk(options: JwtIssuerOptions, privateJwk: JWK, now: () => number = Date.now): Promise<JwtIssuer> {
    const algorithm = (privateJwk.alg as 'RS256' | 'ES256' | undefined) ?? options.algorithm ?? 'RS256';
    const kid = privateJwk.kid ?? options.kid ?? 'meshproof-test-key';
    const key = (await importJWK(privateJwk, algorithm)) as CryptoKey;
    const stranger = await generateKeyPair(algorithm);
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = privateJwk;
    const publicJwk = { ...publicPart, kid, alg: algorithm, use: 'sig' };
    return new JwtIssuer({ issuer: options.issuer, algorithm, kid }, key, stranger.privateKey, publicJwk, { ...privateJwk, kid, alg: algorithm }, now);
  }

  /** The private signing key as a JWK (a test key: keep it with the fixtures, never with real keys). */
  privateJwk(): JWK {
    return { ...this.#privateJwk };
  }

  /** The public JWK Set, as JSON text (what `jwks:` holds, or a jwksUri serves). */
  jwks(): string {
    return JSON.stringify({ keys: [this.#publicJwk] });
  }

  /** A token of `kind` with these claims. */
  async mint(claims: TokenClaims, kind: JwtTokenKind = 'valid'): Promise<string> {
    const now = Math.floor(this.#now() / 1000);
    const ttl = claims.ttlSeconds ?? 3600;
    const payload: JWTPayload = { ...(claims.extra ?? {}), sub: claims.sub };
    if (claims.azp !== undefined) payload['azp'] = claims.azp;
    const aud = kind === 'wrong-audience' ? 'not-this-audience' : claims.aud;
    const times = kind === 'expired' ? { iat: now - 2 * 3600, exp: now - 3600 } : kind === 'not-yet-valid' ? { iat: now, nbf: now + 3600, exp: now + 2 * 3600 } : { iat: now, exp: now + ttl };
    let jwt = new SignJWT({ ...payload, ...times })
      .setProtectedHeader({ alg: this.algorithm, kid: this.kid, typ: 'JWT' })
      .setIssuer(kind === 'wrong-issuer' ? `${this.issuer}.other` : this.issuer);
    if (aud !== undefined) jwt = jwt.setAudience(typeof aud === 'string' ? aud : [...aud]);
    return jwt.sign(kind === 'bad-signature' ? this.#stranger : this.#key);
  }

  /** One token of every kind, for the same claims. */
  async mintAll(claims: TokenClaims): Promise<Record<JwtTokenKind, string>> {
    const out = {} as Record<JwtTokenKind, string>;
    for (const kind of JWT_TOKEN_KINDS) out[kind] = await this.mint(claims, kind);
    return out;
  }
}
