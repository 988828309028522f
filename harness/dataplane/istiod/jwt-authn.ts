/**
 * RequestAuthentication → Envoy's `jwt_authn` filter, as istiod builds it for a sidecar's inbound
 * HTTP chain (pilot/pkg/security/authn/policy_applier.go convertToEnvoyJwtConfig, Istio 1.30.3),
 * in proto-JSON form (camelCase). Both data planes consume it: the Envoy writer as the filter,
 * the reference sidecar by verifying tokens the same way.
 *
 * - One provider per JWT rule, named `origins-<i>` in issuer order, with the payload written to
 *   dynamic metadata under `payload` (RBAC reads `request.auth.*` there since Istio 1.22) and
 *   `scope`, `permission` and the rule's spaceDelimitedClaims split at spaces.
 * - Keys always inline (`local_jwks`): istiod fetches a jwksUri itself and inlines the result; when
 *   it cannot, it inlines a public key whose private half was discarded, so no token verifies.
 * - Requirement: one provider → it, or no token (`allow_missing`); several → any one provider, or
 *   every provider satisfied or missing. A token that is there and fails is a 401; none is fine.
 */
import type { ResolvedJwtRule } from '../../model/resolve.ts';

export type JwtRequirement =
  | { readonly providerName: string }
  | { readonly allowMissing: Record<string, never> }
  | { readonly requiresAny: { readonly requirements: readonly JwtRequirement[] } }
  | { readonly requiresAll: { readonly requirements: readonly JwtRequirement[] } };

/** `envoy.extensions.filters.http.jwt_authn.v3.JwtProvider`, the fields istiod sets. */
export interface JwtProvider {
  readonly issuer?: string;
  readonly audiences?: readonly string[];
  /** The JWKS JSON, inline. */
  readonly localJwks: { readonly inlineString: string };
  /** Absent: Envoy's defaults, `Authorization: Bearer` and the `access_token` query parameter. */
  readonly fromHeaders?: readonly { readonly name: string; readonly valuePrefix?: string }[];
  readonly fromParams?: readonly string[];
  readonly fromCookies?: readonly string[];
  /** Keep the token in the request forwarded to the app (istio forwardOriginalToken). */
  readonly forward?: boolean;
  readonly forwardPayloadHeader?: string;
  readonly claimToHeaders?: readonly { readonly headerName: string; readonly claimName: string }[];
  readonly payloadInMetadata: string;
  readonly normalizePayloadInMetadata: { readonly spaceDelimitedClaims: readonly string[] };
}

export interface JwtAuthnConfig {
  readonly providers: Readonly<Record<string, JwtProvider>>;
  /** One rule, matching every path (`prefix: /`). */
  readonly rules: readonly [{ readonly match: { readonly prefix: '/' }; readonly requires: JwtRequirement }];
  readonly bypassCorsPreflight: true;
}

/** istiod model.PublicOnlyJwks: the key pushed when a jwksUri cannot be fetched; nobody holds its private half. */
export const PUBLIC_ONLY_JWKS = JSON.stringify({
  keys: [
    {
      kty: 'RSA',
      e: 'AQAB',
      n: '0xObjM0UvS_oaazjpEYlAbwctEJ4L8pH3OuTb7qth7gUwqet-EzQB4dgFdvSdMgrLnSncQGRjpEYz3F3viIbH-3EN3TxSlPNviHxeOdyiBVfumN8dMxbLvVJUpfNOnvmMxJcl-8NNjAwcOjk4otSALaYgYYyOPyvKtgVdrQr-FoubWX4yrjxW-MJ2-7OBeepUUNOsVwGV23YX03sVkkyvY3otRflkBcY3_HKpBxJl9wk2GyOShN4_PNUF9-vwfnvOXMbCDX-w4PTef4geeb_GiT40YCKHTKMSPVanGRn5GExIWmki-mmqh94-mPTJyBR74ShspL3BxPZitDL574T1w',
    },
  ],
});

/** buildSpaceDelimitedClaims: `permission` and `scope`, plus the rule's own, sorted. */
function spaceDelimited(extra: readonly string[] | undefined): string[] {
  return [...new Set([...(extra ?? []), 'permission', 'scope'])].sort();
}

export function translateJwtAuthn(rules: readonly ResolvedJwtRule[]): JwtAuthnConfig | undefined {
  if (rules.length === 0) return undefined;
  const providers: Record<string, JwtProvider> = {};
  const inner: JwtRequirement[] = [];
  const outer: JwtRequirement[] = [];
  rules.forEach(({ rule, jwks }, i) => {
    const name = `origins-${i}`;
    providers[name] = {
      ...(rule.issuer === undefined || rule.issuer === '' ? {} : { issuer: rule.issuer }),
      ...((rule.audiences ?? []).length === 0 ? {} : { audiences: [...(rule.audiences ?? [])] }),
      localJwks: { inlineString: jwks ?? PUBLIC_ONLY_JWKS },
      ...((rule.fromHeaders ?? []).length === 0 ? {} : { fromHeaders: (rule.fromHeaders ?? []).map((h) => ({ name: h.name, ...(h.prefix === undefined || h.prefix === '' ? {} : { valuePrefix: h.prefix }) })) }),
      ...((rule.fromParams ?? []).length === 0 ? {} : { fromParams: [...(rule.fromParams ?? [])] }),
      ...((rule.fromCookies ?? []).length === 0 ? {} : { fromCookies: [...(rule.fromCookies ?? [])] }),
      ...(rule.forwardOriginalToken === true ? { forward: true } : {}),
      ...(rule.outputPayloadToHeader === undefined || rule.outputPayloadToHeader === '' ? {} : { forwardPayloadHeader: rule.outputPayloadToHeader }),
      ...((rule.outputClaimToHeaders ?? []).length === 0 ? {} : { claimToHeaders: (rule.outputClaimToHeaders ?? []).map((c) => ({ headerName: c.header, claimName: c.claim })) }),
      payloadInMetadata: 'payload',
      normalizePayloadInMetadata: { spaceDelimitedClaims: spaceDelimited(rule.spaceDelimitedClaims) },
    };
    inner.push({ requiresAny: { requirements: [{ providerName: name }, { allowMissing: {} }] } });
    outer.push({ providerName: name });
  });
  const requires: JwtRequirement = inner.length === 1 ? inner[0]! : { requiresAny: { requirements: [...outer, { requiresAll: { requirements: inner } }] } };
  return { providers, rules: [{ match: { prefix: '/' }, requires }], bypassCorsPreflight: true };
}
