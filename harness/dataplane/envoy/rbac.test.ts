import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { parsePolicies } from '../../model/load-policies.ts';
import type { AuthorizationPolicy } from '../../model/resources.ts';
import { envoyApi } from './envoy-api.ts';
import { checkProtoJson } from './proto-json-check.ts';
import { stringMatcher as irStringMatcher } from '../istiod/authz-matchers.ts';
import { expandTrustDomains, translateAuthorization } from '../istiod/authz-translator.ts';
import { rbacHttpFilters as writeHttp, rbacNetworkFilters as writeNetwork, stringMatcherJson } from './rbac-filters.ts';

const ISTIO = join(import.meta.dirname, 'testdata', 'istio-rbac');
const RBAC_HTTP = 'envoy.extensions.filters.http.rbac.v3.RBAC';
const ctx = { trustDomains: ['cluster.local'] };

/** The one translation (istiod/authz-translator.ts), written as Envoy filters: what both data planes get. */
function rbacHttpFilters(ps: readonly AuthorizationPolicy[], c: { trustDomains: string[] }): Record<string, unknown>[] {
  return writeHttp(translateAuthorization(ps, { protocol: 'http', trustDomains: c.trustDomains, rootNamespace: 'istio-system' }).filters) as Record<string, unknown>[];
}
function rbacNetworkFilters(ps: readonly AuthorizationPolicy[], c: { trustDomains: string[] }): Record<string, unknown>[] {
  return writeNetwork(translateAuthorization(ps, { protocol: 'tcp', trustDomains: c.trustDomains, rootNamespace: 'istio-system' }).filters) as Record<string, unknown>[];
}
const stringMatcher = (value: string, prefix?: string): unknown => stringMatcherJson(irStringMatcher(value, prefix));
const replaceTrustDomainAliases = (ps: string[], bundle: string[]): string[] | undefined => expandTrustDomains(ps, { trustDomains: bundle });

function policies(yaml: string): AuthorizationPolicy[] {
  const { set, issues } = parsePolicies(yaml, 'test.yaml');
  expect(issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
  return [...set.authorizationPolicies];
}

/** Hand-built policy, for inputs Istio's tests use that meshproof's validation refuses. */
function policy(name: string, spec: AuthorizationPolicy['spec'], annotations: Record<string, string> = {}): AuthorizationPolicy {
  return { kind: 'AuthorizationPolicy', apiVersion: 'security.istio.io/v1', name, namespace: 'foo', labels: {}, annotations, origin: { location: { file: 'inline' }, order: 0 }, spec };
}

/** The RBAC config of a filter, canonical (proto names, defaults dropped), so camelCase and snake_case compare. */
function canonical(filter: unknown): unknown {
  const config = (filter as { typed_config?: object; typedConfig?: object }).typed_config ?? (filter as { typedConfig: object }).typedConfig;
  const { '@type': _t, ...rest } = config as Record<string, unknown>;
  const result = checkProtoJson(envoyApi(), RBAC_HTTP, rest);
  expect(result.problems).to.deep.equal([]);
  return result.canonical;
}

function istioFilter(file: string): unknown {
  return parse(readFileSync(join(ISTIO, file), 'utf8'));
}

describe('istiod translation → Envoy RBAC filters, as istiod builds them', function () {
  this.timeout(20_000);

  it("renders Istio's deny-and-allow testdata: a DENY filter, then an ALLOW filter, each equal to istiod's output", function () {
    const input = parseAllDocuments(readFileSync(join(ISTIO, 'deny-and-allow-in.yaml'), 'utf8')).map((d) => d.toJS() as { metadata: { name: string }; spec: AuthorizationPolicy['spec'] });
    const filters = rbacHttpFilters(input.map((d) => policy(d.metadata.name, d.spec)), ctx);
    expect(filters.map((f) => f['name'])).to.deep.equal(['envoy.filters.http.rbac', 'envoy.filters.http.rbac']);
    expect(canonical(filters[0])).to.deep.equal(canonical(istioFilter('deny-and-allow-out1.yaml')));
    expect(canonical(filters[1])).to.deep.equal(canonical(istioFilter('deny-and-allow-out2.yaml')));
  });

  it("renders Istio's allow-path testdata (exact, prefix, suffix, *, path templates, notPaths) equal to istiod's output", function () {
    const input = parse(readFileSync(join(ISTIO, 'allow-path-in.yaml'), 'utf8')) as { metadata: { name: string }; spec: AuthorizationPolicy['spec'] };
    const [filter] = rbacHttpFilters([policy(input.metadata.name, input.spec)], ctx);
    expect(canonical(filter)).to.deep.equal(canonical(istioFilter('allow-path-out.yaml')));
  });

  it('the comparison can fail: a rendering with one path changed differs from istiod', function () {
    const input = parse(readFileSync(join(ISTIO, 'allow-path-in.yaml'), 'utf8')) as { spec: { rules: { to: { operation: { paths: string[] } }[] }[] } };
    const op = input.spec.rules[0]?.to[0]?.operation;
    if (op !== undefined) op.paths = op.paths.map((p) => (p === '/exact' ? '/exact2' : p));
    const [filter] = rbacHttpFilters([policy('httpbin-1', input.spec as AuthorizationPolicy['spec'])], ctx);
    expect(canonical(filter)).to.not.deep.equal(canonical(istioFilter('allow-path-out.yaml')));
  });

  it('orders filters AUDIT (LOG), DENY, ALLOW, with bad CUSTOM first, and leaves out actions no policy uses', function () {
    const ps = policies(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: a-allow, namespace: foo}
spec: {rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: b-audit, namespace: foo}
spec: {action: AUDIT, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: c-custom, namespace: foo}
spec: {action: CUSTOM, provider: {name: ext}, rules: [{to: [{operation: {paths: ["/x"]}}]}]}
`);
    const actions = rbacHttpFilters(ps, ctx).map((f) => ((f['typed_config'] as Record<string, Record<string, unknown>>)['rules'] ?? {})['action']);
    expect(actions).to.deep.equal(['DENY', 'LOG', 'ALLOW']);
    const custom = rbacHttpFilters(ps, ctx)[0]?.['typed_config'] as { rules: { policies: Record<string, unknown> } };
    // istiod (master, per-provider CUSTOM rule sets) names the provider in the policy name.
    expect(Object.keys(custom.rules.policies)).to.deep.equal(['istio-ext-authz-ext-ns[foo]-policy[c-custom]-rule[0]-deny-due-to-bad-CUSTOM-action']);
    expect(rbacHttpFilters(ps.slice(0, 1), ctx)).to.have.length(1);
  });

  it('writes a policy with no rules as one that never matches, and rules: [{}] as any/any', function () {
    const [none] = rbacHttpFilters([policy('allow-nothing', {})], ctx);
    expect((none?.['typed_config'] as Record<string, any>)['rules'].policies['ns[foo]-policy[allow-nothing]-rule[0]']).to.deep.equal({ permissions: [{ not_rule: { any: true } }], principals: [{ not_id: { any: true } }] });
    const [all] = rbacHttpFilters([policy('allow-all', { rules: [{}] })], ctx);
    expect((all?.['typed_config'] as Record<string, any>)['rules'].policies['ns[foo]-policy[allow-all]-rule[0]']).to.deep.equal({ permissions: [{ and_rules: { rules: [{ any: true }] } }], principals: [{ and_ids: { ids: [{ any: true }] } }] });
  });

  it('moves a dry-run policy to shadow_rules, with the deny prefix for a DENY', function () {
    const [f] = rbacHttpFilters([policy('dry', { action: 'DENY', rules: [{}] }, { 'istio.io/dry-run': 'true' })], ctx);
    const config = f?.['typed_config'] as Record<string, unknown>;
    expect(config['rules']).to.equal(undefined);
    expect((config['shadow_rules'] as Record<string, unknown>)['action']).to.equal('DENY');
    expect(config['shadow_rules_stat_prefix']).to.equal('istio_dry_run_deny_');
  });

  it('on TCP drops an ALLOW rule that uses an HTTP-only field, but only the field from a DENY rule', function () {
    const allow = rbacNetworkFilters([policy('a', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }, { to: [{ operation: { ports: ['9000'] } }] }] })], ctx);
    const allowConfig = allow[0]?.['typed_config'] as Record<string, any>;
    expect(Object.keys(allowConfig['rules'].policies)).to.deep.equal(['ns[foo]-policy[a]-rule[1]']);
    expect(allowConfig['stat_prefix']).to.equal('tcp.');
    const deny = rbacNetworkFilters([policy('d', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] })], ctx);
    expect((deny[0]?.['typed_config'] as Record<string, any>)['rules'].policies['ns[foo]-policy[d]-rule[0]'].permissions).to.deep.equal([{ and_rules: { rules: [{ any: true }] } }]);
    const onlyHttp = rbacNetworkFilters([policy('h', { rules: [{ to: [{ operation: { paths: ['/x'] } }] }] })], ctx);
    expect((onlyHttp[0]?.['typed_config'] as Record<string, any>)['rules']).to.deep.equal({ action: 'ALLOW', policies: {} });
  });

  it('translates values as istiod: spiffe:// prefix, regex suffixes, namespaces, service accounts, not* forms, conditions', function () {
    expect(stringMatcher('cluster.local/ns/a/sa/b', 'spiffe://')).to.deep.equal({ exact: 'spiffe://cluster.local/ns/a/sa/b' });
    expect(stringMatcher('*-suffix', 'spiffe://')).to.deep.equal({ safe_regex: { regex: 'spiffe://.*-suffix' } });
    expect(stringMatcher('*-suffix')).to.deep.equal({ suffix: '-suffix' });
    expect(stringMatcher('prefix*', 'spiffe://')).to.deep.equal({ prefix: 'spiffe://prefix' });
    expect(stringMatcher('*', 'spiffe://')).to.deep.equal({ safe_regex: { regex: '.+' } });
    const [f] = rbacHttpFilters(
      [
        policy('p', {
          rules: [
            {
              from: [{ source: { namespaces: ['ns-1'], notPrincipals: ['cluster.local/ns/x/sa/y'], serviceAccounts: ['sa-only'] } }],
              to: [{ operation: { methods: ['*'], notPaths: ['/private'] } }],
              when: [{ key: 'request.headers[x-team]', values: ['blue'] }, { key: 'destination.port', values: ['8080'] }],
            },
          ],
        }),
      ],
      ctx,
    );
    const p = (f?.['typed_config'] as Record<string, any>)['rules'].policies['ns[foo]-policy[p]-rule[0]'];
    expect(p.principals[0].and_ids.ids).to.deep.equal([
      { not_id: { or_ids: { ids: [{ authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/x/sa/y' } } }] } } },
      { or_ids: { ids: [{ authenticated: { principal_name: { safe_regex: { regex: 'spiffe://.+/ns/foo/(.+/|)sa/sa-only(/.+)?' } } } }] } },
      { or_ids: { ids: [{ authenticated: { principal_name: { safe_regex: { regex: '.*/ns/ns-1/.*' } } } }] } },
      { or_ids: { ids: [{ header: { name: 'x-team', string_match: { exact: 'blue' } } }] } },
    ]);
    expect(p.permissions[0].and_rules.rules).to.deep.equal([
      { or_rules: { rules: [{ header: { name: ':method', present_match: true } }] } },
      { not_rule: { or_rules: { rules: [{ url_path: { path: { exact: '/private' } } }] } } },
      { or_rules: { rules: [{ destination_port: 8080 }] } },
    ]);
  });

  it('expands principals over the trust-domain bundle as istiod does', function () {
    const bundle = ['new.td', 'old.td'];
    expect(replaceTrustDomainAliases(['cluster.local/ns/a/sa/b'], bundle)).to.deep.equal(['new.td/ns/a/sa/b', 'old.td/ns/a/sa/b']);
    expect(replaceTrustDomainAliases(['old.td/ns/a/sa/b'], bundle)).to.deep.equal(['new.td/ns/a/sa/b', 'old.td/ns/a/sa/b']);
    expect(replaceTrustDomainAliases(['other.td/ns/a/sa/b', '*/ns/a/sa/b'], bundle)).to.deep.equal(['other.td/ns/a/sa/b', '*/ns/a/sa/b']);
  });
});
