/**
 * Service-account credentials, modelled on Kubernetes' projected service-account tokens.
 *
 * In Istio the agent sends the pod's token (audience `istio-ca`) with its CSR; istiod asks the
 * API server (TokenReview) who it belongs to and gets `system:serviceaccount:<ns>:<sa>`. Here the
 * CA plays the API server too: it mints an HS256 JWT per service account with a secret only it
 * holds, and verifies it when a CSR arrives. The claims are those of a real bound token (`sub`,
 * `aud`, `iss`, `exp`, `kubernetes.io.namespace`, `kubernetes.io.serviceaccount.name`), so a
 * token printed in a report reads like one from a cluster. JWTs are made and checked by `jose`.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { ErrorCode, MeshproofError } from '../errors.ts';
import type { WorkloadRef } from './spiffe.ts';

/** The audience istio-agent's token is requested for. */
export const ISTIO_CA_AUDIENCE = 'istio-ca';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Istio mounts the istio-token with expirationSeconds 43200. */
export const DEFAULT_TOKEN_TTL_MS = 12 * 3_600_000;

interface TokenClaims {
  readonly sub?: string;
  readonly 'kubernetes.io'?: { readonly namespace?: string; readonly serviceaccount?: { readonly name?: string } };
}

export class ServiceAccountTokens {
  readonly #secret: Uint8Array;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#secret = randomBytes(32);
    this.#now = now;
  }

  /** A token naming `ref`, valid for `ttlMs` from now. */
  async mint(ref: WorkloadRef, ttlMs: number = DEFAULT_TOKEN_TTL_MS): Promise<string> {
    const nowSeconds = Math.floor(this.#now() / 1_000);
    return new SignJWT({ 'kubernetes.io': { namespace: ref.namespace, serviceaccount: { name: ref.serviceAccount } } })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(`system:serviceaccount:${ref.namespace}:${ref.serviceAccount}`)
      .setIssuer(ISSUER)
      .setAudience(ISTIO_CA_AUDIENCE)
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds)
      .setExpirationTime(nowSeconds + Math.max(1, Math.ceil(ttlMs / 1_000)))
      .sign(this.#secret);
  }

  /**
   * The service account a token names. Throws MESHPROOF_ERR_CSR_REJECTED when the token is not one
   * this CA minted, has expired, is for another audience, or names no service account.
   */
  async verify(token: string): Promise<WorkloadRef> {
    let claims: TokenClaims;
    try {
      const result = await jwtVerify(token, this.#secret, {
        algorithms: ['HS256'],
        audience: ISTIO_CA_AUDIENCE,
        issuer: ISSUER,
        currentDate: new Date(this.#now()),
      });
      claims = result.payload as TokenClaims;
    } catch (error) {
      throw new MeshproofError(ErrorCode.CsrRejected, `service-account credential refused: ${tokenProblem(error)}`, { cause: error });
    }
    const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub ?? '');
    const namespace = claims['kubernetes.io']?.namespace;
    const serviceAccount = claims['kubernetes.io']?.serviceaccount?.name;
    if (match === null || match[1] !== namespace || match[2] !== serviceAccount || namespace === undefined || serviceAccount === undefined) {
      throw new MeshproofError(ErrorCode.CsrRejected, `service-account credential refused: subject '${claims.sub ?? ''}' does not name a service account consistently with its kubernetes.io claims`);
    }
    return { namespace, serviceAccount };
  }
}

function tokenProblem(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token was not minted by this CA (signature does not verify)';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim '${error.claim}' is not valid: ${error.message}`;
  if (error instanceof joseErrors.JOSEError) return `the token is malformed (${error.code}: ${error.message})`;
  return error instanceof Error ? error.message : String(error);
}
