/**
 * The rule index must change no decision: for any policies and any request, evaluation through
 * the index gives what a scan of every rule gives (fast-check), aliases, wildcards, several `from`
 * entries, dry-run rules and TCP-dropped rules included.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { policiesFromYaml } from '../model/load-policies.ts';
import type { AuthzContext } from './authz-context.ts';
import { compileAuthorization, evaluateAuthorization, type CompiledAuthorization } from './evaluate-authorization.ts';
import { buildRuleIndex, candidates, peerKeys } from './rule-index.ts';

const BUNDLE = ['cluster.local', 'old.example'];
const namespace = fc.constantFrom('foo', 'bar');
const sa = fc.constantFrom('a', 'b', 'c');
const td = fc.constantFrom('cluster.local', 'old.example', 'other.example');
const principal = fc.tuple(td, namespace, sa).map(([t, n, s]) => `${t}/ns/${n}/sa/${s}`);
const principalPattern = fc.oneof(
  { weight: 4, arbitrary: principal },
  { weight: 1, arbitrary: principal.map((p) => `${p.slice(0, -1)}*`) },
  { weight: 1, arbitrary: principal.map((p) => `*${p.slice(p.indexOf('/'))}`) },
  { weight: 1, arbitrary: fc.constant('*') },
);
const source = fc.record(
  { principals: fc.array(principalPattern, { minLength: 1, maxLength: 3 }), notPrincipals: fc.array(principal, { minLength: 1, maxLength: 1 }), namespaces: fc.array(namespace, { minLength: 1, maxLength: 1 }) },
  { requiredKeys: [] },
);
const operation = fc.record({ methods: fc.array(fc.constantFrom('GET', 'POST'), { minLength: 1, maxLength: 1 }), ports: fc.constant(['9000']) }, { requiredKeys: [] });
const rule = fc.record(
  {
    from: fc.array(source.filter((s) => Object.keys(s).length > 0).map((s) => ({ source: s })), { minLength: 1, maxLength: 2 }),
    to: fc.array(operation.filter((o) => Object.keys(o).length > 0).map((o) => ({ operation: o })), { minLength: 1, maxLength: 1 }),
  },
  { requiredKeys: [] },
);
const policy = fc.record({ action: fc.constantFrom('ALLOW', 'DENY', 'AUDIT'), rules: fc.array(rule, { minLength: 1, maxLength: 4 }), dryRun: fc.boolean() });
const ctx = fc.record({
  protocol: fc.constantFrom('http' as const, 'tcp' as const),
  peer: fc.option(principal.map((p) => `spiffe://${p}`), { nil: undefined }),
  method: fc.constantFrom('GET', 'POST'),
  destinationPort: fc.constantFrom(8080, 9000),
});

function compile(policies: readonly { action: string; rules: unknown[]; dryRun: boolean }[], protocol: 'http' | 'tcp'): CompiledAuthorization {
  const yaml = policies
    .map((p, i) => JSON.stringify({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: `p${i}`, namespace: 'foo', ...(p.dryRun && p.action !== 'AUDIT' ? { annotations: { 'istio.io/dry-run': 'true' } } : {}) }, spec: { action: p.action, rules: p.rules } }))
    .join('\n---\n');
  return compileAuthorization(policiesFromYaml(yaml).authorizationPolicies, protocol, BUNDLE);
}

/** The same compiled rules with an index that lets every rule in: a scan of all of them. */
function unindexed(c: CompiledAuthorization): CompiledAuthorization {
  const all = (n: number) => buildRuleIndex(Array.from({ length: n }, () => undefined));
  return { ...c, index: { ALLOW: all(c.rules.ALLOW.length), DENY: all(c.rules.DENY.length), AUDIT: all(c.rules.AUDIT.length), CUSTOM: all(c.rules.CUSTOM.length) } };
}

describe('rule index', function () {
  it('keys a rule only by exact principals, expanded to every trust domain of the bundle', function () {
    expect([...(peerKeys({ from: [{ source: { principals: ['cluster.local/ns/foo/sa/a'] } }] }, BUNDLE) ?? [])]).to.deep.equal(['spiffe://cluster.local/ns/foo/sa/a', 'spiffe://old.example/ns/foo/sa/a']);
    expect(peerKeys({ from: [{ source: { principals: ['cluster.local/ns/foo/sa/*'] } }] }, BUNDLE)).to.equal(undefined);
    expect(peerKeys({ from: [{ source: { principals: ['cluster.local/ns/foo/sa/a'] } }, { source: { namespaces: ['bar'] } }] }, BUNDLE)).to.equal(undefined);
    expect(peerKeys({ to: [{ operation: { methods: ['GET'] } }] }, BUNDLE)).to.equal(undefined);
  });

  it('gives candidates in evaluation order, keyed and unkeyed merged', function () {
    const index = buildRuleIndex([new Set(['x']), undefined, new Set(['y']), new Set(['x']), undefined]);
    expect(candidates(index, 'x')).to.deep.equal([0, 1, 3, 4]);
    expect(candidates(index, undefined)).to.deep.equal([1, 4]);
    expect(candidates(index, 'z')).to.deep.equal([1, 4]);
  });

  it('changes no decision: evaluation through the index equals a scan of every rule', function () {
    fc.assert(
      fc.property(fc.array(policy, { minLength: 1, maxLength: 5 }), ctx, (policies, c) => {
        const compiled = compile(policies, c.protocol);
        const context: AuthzContext = { ...c, ...(c.protocol === 'tcp' ? { method: undefined } : {}) };
        const fast = evaluateAuthorization(compiled, context);
        const slow = evaluateAuthorization(unindexed(compiled), context);
        expect({ verdict: fast.verdict, basis: fast.basis, rule: fast.rule?.id, audited: fast.audited, dry: fast.dryRunMatches }).to.deep.equal({
          verdict: slow.verdict,
          basis: slow.basis,
          rule: slow.rule?.id,
          audited: slow.audited,
          dry: slow.dryRunMatches,
        });
      }),
      { numRuns: 400, seed: 20 },
    );
  });
});
