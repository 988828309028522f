/**
 * End-user authentication on inventory-service (fixtures/security/inventory-request-authentication.yaml):
 * two JWT issuers, one with keys from a jwksUri (read from jwt/jwks.json in istiod's place) at the
 * default location, one with inline keys at x-partner-token and ?partner_token=. Tokens are minted
 * here from the fixtures' test signing keys, of every kind `pki jwt` makes.
 *
 * What Istio promises, row by row: a request with no token passes authentication with no request
 * principal (so `notRequestPrincipals: ["*"]` denies it); an invalid, expired, not-yet-valid,
 * wrongly-addressed or wrongly-signed token gets 401 from the sidecar whatever the
 * AuthorizationPolicies say, even on a path they allow to everyone; a valid one gives
 * `requestPrincipals`, `request.auth.principal`, `.audiences`, `.presenter` and `.claims[...]`
 * (a list claim, and the space-delimited `scope`). And what the app receives: the original token
 * and its payload header where the rule forwards them, no partner token where it does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Feature, JwtIssuer, type ConformanceCase, type JwtTokenKind } from '../../../harness/index.ts';
import { FIXTURES_DIR } from '../../shared/fixtures-dir.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { runSpecTable, type SpecRow } from '../../shared/spec-table.ts';
import { AUTHZ_MANIFESTS, INVENTORY } from './common.ts';

export const JWT_MANIFESTS: readonly string[] = [...AUTHZ_MANIFESTS, '../../fixtures/security/inventory-request-authentication.yaml'];

const AUTH = 'https://auth.meshproof.test';
const PARTNER = 'https://partner.meshproof.test';

async function issuer(iss: string, keyFile: string): Promise<JwtIssuer> {
  return JwtIssuer.fromPrivateJwk({ issuer: iss }, JSON.parse(readFileSync(join(FIXTURES_DIR, 'security/jwt', keyFile), 'utf8')) as Parameters<typeof JwtIssuer.fromPrivateJwk>[1]);
}

const bearer = (token: string): Readonly<Record<string, string>> => ({ authorization: `Bearer ${token}` });

async function rows(): Promise<SpecRow[]> {
  const auth = await issuer(AUTH, 'signing-key.json');
  const partner = await issuer(PARTNER, 'partner-signing-key.json');
  const alice = { sub: 'alice', aud: 'inventory', azp: 'reporting-ui', extra: { groups: ['admins', 'dev'], scope: 'stock:read stock:write' } };
  const bob = { sub: 'bob', aud: ['inventory', 'billing'], azp: 'cli', extra: { groups: 'dev', scope: 'stock:write' } };
  const a = (kind: JwtTokenKind = 'valid'): Promise<string> => auth.mint(alice, kind);
  const b = await auth.mint(bob);
  const p = (kind: JwtTokenKind = 'valid', sub = 'acme'): Promise<string> => partner.mint({ sub }, kind);
  const r = (from: string, path: string, headers: Readonly<Record<string, string>> | undefined, expect: SpecRow['expect'], why: string): SpecRow => ({ from, method: 'GET', path, ...(headers === undefined ? {} : { headers }), expect, why });
  return [
    r('legacy-client', '/jwt/alice/1', undefined, 'deny', 'no token: no request principal, so DENY notRequestPrincipals ["*"] matches'),
    r('legacy-client', '/jwt/alice/1', bearer(await a()), 'allow', 'a valid token of alice: requestPrincipals https://auth.meshproof.test/alice'),
    r('order-client', '/jwt/alice/1', bearer(await a()), 'allow', 'the same over mTLS: the request principal does not depend on the peer'),
    r('legacy-client', '/jwt/alice/1', bearer(await a('expired')), 'unauthenticated', 'an expired token: 401 from jwt_authn, before any AuthorizationPolicy'),
    r('legacy-client', '/jwt/alice/1', bearer(await a('not-yet-valid')), 'unauthenticated', 'nbf an hour ahead (beyond the 60 s clock skew): 401'),
    r('legacy-client', '/jwt/alice/1', bearer(await a('wrong-audience')), 'unauthenticated', 'the rule allows audience inventory only: 401'),
    r('legacy-client', '/jwt/alice/1', bearer(await a('bad-signature')), 'unauthenticated', 'signed by a key the JWKS does not hold (same kid): 401'),
    r('legacy-client', '/jwt/alice/1', bearer(await a('wrong-issuer')), 'unauthenticated', 'an issuer no rule names, at the first rule\'s location: 401'),
    r('legacy-client', '/public/catalog', bearer(await a('expired')), 'unauthenticated', 'a path the AuthorizationPolicies allow to anyone: the invalid token still gets 401'),
    r('legacy-client', '/public/catalog', undefined, 'allow', 'no token is fine where no policy asks for one'),
    r('legacy-client', `/jwt/alice/1?access_token=${await a()}`, undefined, 'allow', 'the default locations include the access_token query parameter'),
    r('legacy-client', '/jwt/alice/1', bearer(b), 'deny', 'bob is a valid user, but not the principal the rule names'),
    r('legacy-client', '/jwt/admin/users', bearer(await a()), 'allow', 'request.auth.claims[groups] holds admins (a list claim)'),
    r('legacy-client', '/jwt/admin/users', bearer(b), 'deny', "bob's groups claim is the string dev"),
    r('legacy-client', '/jwt/reports/q3', bearer(await a()), 'allow', 'request.auth.audiences inventory and request.auth.presenter reporting-ui'),
    r('legacy-client', '/jwt/reports/q3', bearer(b), 'deny', "bob's presenter is cli (his audiences list holds inventory)"),
    r('legacy-client', '/jwt/stock/7', bearer(await a()), 'allow', 'scope "stock:read stock:write" is space-delimited: it holds stock:read'),
    r('legacy-client', '/jwt/stock/7', bearer(b), 'deny', 'scope stock:write only'),
    r('legacy-client', '/jwt/partner/1', { 'x-partner-token': await p() }, 'allow', 'the partner issuer, from its own header: requestPrincipals https://partner.meshproof.test/*'),
    r('legacy-client', `/jwt/partner/1?partner_token=${await p()}`, undefined, 'allow', 'the partner issuer, from its query parameter'),
    r('legacy-client', '/jwt/partner/1', { 'x-partner-token': await p('valid', 'blocked') }, 'deny', 'request.auth.principal notValues excludes the blocked subject'),
    r('legacy-client', '/jwt/partner/1', { 'x-partner-token': await p('bad-signature') }, 'unauthenticated', 'a bad partner token at the partner location: 401'),
    r('legacy-client', '/jwt/partner/1', bearer(await p()), 'unauthenticated', 'a partner token where only the first issuer looks (Authorization): unknown issuer there, 401'),
  ];
}

export const requestAuthenticationCase: ConformanceCase<SecurityEnv> = {
  shortName: 'request-authentication-jwt',
  description:
    'inventory-service with a RequestAuthentication of two issuers: no token means no request principal; an expired, not-yet-valid, wrong-audience, wrong-issuer or badly signed token gets 401 whatever the AuthorizationPolicies say; valid tokens give requestPrincipals and request.auth.principal, audiences, presenter and claims (a list, and the space-delimited scope); the app receives the forwarded token and its payload header, and never the partner token the rule does not forward.',
  area: 'authz',
  features: [Feature.AuthnJwt, Feature.AuthzAllow, Feature.AuthzDeny, Feature.AuthzConditions],
  manifests: JWT_MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    await env.use(JWT_MANIFESTS);
    const results = await runSpecTable(ctx, { to: INVENTORY, rows: await rows(), what: 'RequestAuthentication on inventory-service' });
    const header = (r: (typeof results)[number], name: string): string | undefined => {
      const seen = r.evidence.serverSaw?.[0];
      return seen === undefined ? undefined : Object.entries(seen.headers).find(([k]) => k.toLowerCase() === name)?.[1];
    };
    const alice = results[1];
    if (alice !== undefined) {
      const payload = header(alice, 'x-jwt-payload');
      const claims = payload === undefined ? undefined : (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>);
      ctx.verify('forwardOriginalToken: the app receives the Authorization header it was sent', header(alice, 'authorization')?.startsWith('Bearer ') === true ? undefined : new Error(`the app saw authorization ${header(alice, 'authorization') ?? '(none)'}`));
      ctx.verify('outputPayloadToHeader: the app receives the verified payload in x-jwt-payload (base64url JSON, sub alice)', claims?.['sub'] === 'alice' ? undefined : new Error(`the app saw x-jwt-payload ${payload ?? '(none)'}`));
    }
    const partnerRow = results.find((r) => r.requestLabel.includes('/jwt/partner/1') && r.observed === 'allow' && r.probe.headers?.['x-partner-token'] !== undefined);
    if (partnerRow !== undefined) {
      ctx.verify('the partner rule does not forward its token: the app never sees x-partner-token', header(partnerRow, 'x-partner-token') === undefined ? undefined : new Error('the app saw x-partner-token'));
    }
  },
};
