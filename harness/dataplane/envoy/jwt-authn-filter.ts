/**
 * The istiod translation's jwt_authn config (istiod/jwt-authn.ts) written as Envoy's
 * `envoy.filters.http.jwt_authn` filter: field names in snake_case, nothing decided here.
 */
import type { JwtAuthnConfig, JwtProvider, JwtRequirement } from '../istiod/jwt-authn.ts';
import { typeUrl, type JsonObject } from './json.ts';

export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';
const JWT_AUTHN_TYPE = typeUrl('envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication');

function requirementJson(r: JwtRequirement): JsonObject {
  if ('providerName' in r) return { provider_name: r.providerName };
  if ('allowMissing' in r) return { allow_missing: {} };
  if ('requiresAny' in r) return { requires_any: { requirements: r.requiresAny.requirements.map(requirementJson) } };
  return { requires_all: { requirements: r.requiresAll.requirements.map(requirementJson) } };
}

function providerJson(p: JwtProvider): JsonObject {
  return {
    ...(p.issuer === undefined ? {} : { issuer: p.issuer }),
    ...(p.audiences === undefined ? {} : { audiences: [...p.audiences] }),
    local_jwks: { inline_string: p.localJwks.inlineString },
    ...(p.fromHeaders === undefined ? {} : { from_headers: p.fromHeaders.map((h) => ({ name: h.name, ...(h.valuePrefix === undefined ? {} : { value_prefix: h.valuePrefix }) })) }),
    ...(p.fromParams === undefined ? {} : { from_params: [...p.fromParams] }),
    ...(p.fromCookies === undefined ? {} : { from_cookies: [...p.fromCookies] }),
    ...(p.forward === undefined ? {} : { forward: p.forward }),
    ...(p.forwardPayloadHeader === undefined ? {} : { forward_payload_header: p.forwardPayloadHeader }),
    ...(p.claimToHeaders === undefined ? {} : { claim_to_headers: p.claimToHeaders.map((c) => ({ header_name: c.headerName, claim_name: c.claimName })) }),
    payload_in_metadata: p.payloadInMetadata,
    normalize_payload_in_metadata: { space_delimited_claims: [...p.normalizePayloadInMetadata.spaceDelimitedClaims] },
  };
}

export function jwtAuthnFilter(config: JwtAuthnConfig): JsonObject {
  const providers: Record<string, JsonObject> = {};
  for (const name of Object.keys(config.providers).sort()) providers[name] = providerJson(config.providers[name]!);
  return {
    name: JWT_AUTHN_FILTER,
    typed_config: {
      '@type': JWT_AUTHN_TYPE,
      providers,
      rules: config.rules.map((r) => ({ match: { prefix: r.match.prefix }, requires: requirementJson(r.requires) })),
      bypass_cors_preflight: config.bypassCorsPreflight,
    },
  };
}
