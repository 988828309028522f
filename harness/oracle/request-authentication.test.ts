import { expect } from 'chai';
import { loadPolicies } from '../model/load-policies.ts';
import { resolveMesh } from '../model/resolve.ts';
import { loadTopology } from '../model/topology.ts';
import { JwtIssuer } from '../pki/jwt-issuer.ts';
import { readFileSync } from 'node:fs';
import { InboundOracle } from './inbound.ts';

const mesh = resolveMesh(loadPolicies(['fixtures/security'], { exclude: (f) => f.endsWith('topology.yaml') }), loadTopology('fixtures/security/topology.yaml'));
const oracle = new InboundOracle(mesh);
const key = (f: string) => JSON.parse(readFileSync(`fixtures/security/jwt/${f}`, 'utf8')) as Parameters<typeof JwtIssuer.fromPrivateJwk>[1];

describe('oracle: RequestAuthentication (fixtures/security inventory-service)', function () {
  const ask = (path: string, headers: Record<string, string> = {}) => oracle.decide({ source: { kind: 'plaintext' }, to: 'legacy/inventory-service', path, headers });
  it('no token: no request principal, so notRequestPrincipals ["*"] denies', function () {
    const d = ask('/jwt/alice/1');
    expect(d.outcome).to.equal('denied');
    expect(d.authn).to.deep.equal({ outcome: 'no-token' });
  });
  it('each kind of bad token is refused before authorization, with Envoy status and code', async function () {
    const auth = await JwtIssuer.fromPrivateJwk({ issuer: 'https://auth.meshproof.test' }, key('signing-key.json'));
    const claims = { sub: 'alice', aud: 'inventory' };
    const cases = [
      ['expired', 401, 'Jwt is expired'],
      ['not-yet-valid', 401, 'Jwt not yet valid'],
      ['bad-signature', 401, 'Jwt verification fails'],
      ['wrong-issuer', 401, 'Jwt issuer is not configured'],
      ['wrong-audience', 403, 'Audiences in Jwt are not allowed'],
    ] as const;
    for (const [kind, status, body] of cases) {
      const d = ask('/public/catalog', { authorization: `Bearer ${await auth.mint(claims, kind)}` });
      expect(d.outcome, kind).to.equal('unauthenticated');
      expect(d.expect, kind).to.include({ status, body, appReceives: false, responseCodeDetails: `jwt_authn_access_denied{${body.replaceAll(' ', '_')}}` });
    }
  });
  it('a valid token gives the request principal and claims; a token not forwarded leaves the query', async function () {
    const auth = await JwtIssuer.fromPrivateJwk({ issuer: 'https://auth.meshproof.test' }, key('signing-key.json'));
    const partner = await JwtIssuer.fromPrivateJwk({ issuer: 'https://partner.meshproof.test' }, key('partner-signing-key.json'));
    const alice = await auth.mint({ sub: 'alice', aud: 'inventory', extra: { groups: ['admins'], scope: 'stock:read stock:write' } });
    expect(ask('/jwt/alice/1', { authorization: `Bearer ${alice}` })).to.deep.include({ outcome: 'allowed' });
    expect(ask('/jwt/stock/1', { authorization: `Bearer ${alice}` }).outcome, 'scope is space-delimited').to.equal('allowed');
    expect(ask('/jwt/alice/1', { authorization: `Bearer ${alice}` }).authn?.principal).to.equal('https://auth.meshproof.test/alice');
    const p = await partner.mint({ sub: 'acme' });
    const d = ask(`/jwt/partner/1?x=1&partner_token=${p}`);
    expect(d.outcome).to.equal('allowed');
    expect(d.expect.forwardedPath).to.equal('/jwt/partner/1?x=1');
    expect(ask(`/jwt/alice/1?access_token=${alice}`).expect.forwardedPath, 'forwardOriginalToken keeps it').to.contain('access_token=');
  });
});
