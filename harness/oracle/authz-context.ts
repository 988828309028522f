/**
 * The facts about one request (or TCP connection) that authorization reads, after mTLS and
 * path normalization. Built by the inbound oracle; tests may build it directly.
 */

export interface JwtClaims {
  /** `iss/sub` of the JWT RequestAuthentication verified (request-authentication.ts). */
  readonly principal: string;
  readonly audiences?: readonly string[];
  readonly presenter?: string;
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface AuthzContext {
  readonly protocol: 'http' | 'tcp';
  /** Peer certificate URI SAN (`spiffe://td/ns/x/sa/y`) when the connection is mTLS; else undefined. */
  readonly peer: string | undefined;
  readonly sourceIp?: string;
  readonly remoteIp?: string;
  readonly destinationIp?: string;
  /** The port the workload receives on (container port). */
  readonly destinationPort: number;
  readonly sni?: string;
  /** HTTP only. */
  readonly method?: string;
  /** Normalized path without query or fragment (Envoy url_path). */
  readonly urlPath?: string;
  /** `:authority`. */
  readonly host?: string;
  /** Lower-case names; repeated headers already merged with `,`. */
  readonly headers?: ReadonlyMap<string, string>;
  readonly jwt?: JwtClaims;
}

/** Three-valued result: a rule that reads something the oracle cannot know gives UNKNOWN. */
export const NO = 0;
export const YES = 1;
export const UNKNOWN = 2;
export type Tri = typeof NO | typeof YES | typeof UNKNOWN;

export function and(values: readonly Tri[]): Tri {
  let unknown = false;
  for (const v of values) {
    if (v === NO) return NO;
    if (v === UNKNOWN) unknown = true;
  }
  return unknown ? UNKNOWN : YES;
}

export function not(v: Tri): Tri {
  return v === UNKNOWN ? UNKNOWN : v === YES ? NO : YES;
}
