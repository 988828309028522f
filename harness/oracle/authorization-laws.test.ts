/**
 * Laws of AuthorizationPolicy that must hold for any policies and requests (fast-check):
 * no policy allows; an empty ALLOW policy denies all; a matching DENY always wins; principals
 * never match a plaintext request.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { policiesFromYaml } from '../model/load-policies.ts';
import { resolveMesh } from '../model/resolve.ts';
import { topologyFromYaml } from '../model/topology.ts';
import { InboundOracle, type InboundRequest } from './inbound.ts';

const topology = topologyFromYaml(`apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [foo, bar]
workloads:
- {name: app, namespace: foo, labels: {app: app}, ports: [{port: 8080, protocol: http}]}
`);

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
const segment = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const path = fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => `/${s.join('/')}`);
const namespace = fc.constantFrom('foo', 'bar', 'baz');
const sa = fc.constantFrom('a', 'b', 'client');
const meshSource = fc.tuple(namespace, sa).map(([ns, s]) => ({ kind: 'mesh' as const, identity: `cluster.local/ns/${ns}/sa/${s}` }));
const source = fc.oneof(meshSource, fc.constant({ kind: 'plaintext' as const }));
const request = fc.record({ source, method: fc.constantFrom(...METHODS), path }).map((r): InboundRequest => ({ ...r, to: 'foo/app', port: 8080 }));

const pattern = (value: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(value, value.map((v) => `${v}*`), value.map((v) => `*${v}`), fc.constant('*'));
const operation = fc.record(
  { methods: fc.array(fc.constantFrom(...METHODS), { minLength: 1, maxLength: 2 }), paths: fc.array(pattern(path), { minLength: 1, maxLength: 2 }), notPaths: fc.array(pattern(path), { minLength: 1, maxLength: 2 }) },
  { requiredKeys: [] },
);
const principal = fc.tuple(namespace, sa).map(([ns, s]) => `cluster.local/ns/${ns}/sa/${s}`);
const src = fc.record({ principals: fc.array(pattern(principal), { minLength: 1, maxLength: 2 }), namespaces: fc.array(namespace, { minLength: 1, maxLength: 2 }), notNamespaces: fc.array(namespace, { minLength: 1, maxLength: 2 }) }, { requiredKeys: [] });
const rule = fc.record({ from: fc.array(src.filter((s) => Object.keys(s).length > 0).map((s) => ({ source: s })), { minLength: 1, maxLength: 2 }), to: fc.array(operation.filter((o) => Object.keys(o).length > 0).map((o) => ({ operation: o })), { minLength: 1, maxLength: 2 }) }, { requiredKeys: [] });
const policy = (action: 'ALLOW' | 'DENY' | 'AUDIT'): fc.Arbitrary<Record<string, unknown>> => fc.array(rule, { minLength: 1, maxLength: 3 }).map((rules) => ({ action, rules }));

function oracleFor(specs: readonly Record<string, unknown>[]): InboundOracle {
  const docs = specs.map((spec, i) => JSON.stringify({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: `p${i}`, namespace: 'foo' }, spec }));
  const yaml = docs.length === 0 ? 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}' : docs.join('\n---\n');
  return new InboundOracle(resolveMesh(policiesFromYaml(yaml), topology));
}

const runs = { numRuns: 300, seed: 4 };

describe('authorization laws (property tests)', function () {
  it('no policy allows every request', function () {
    const o = oracleFor([]);
    fc.assert(fc.property(request, (r) => o.decide(r).outcome === 'allowed'), runs);
  });

  it('an empty ALLOW policy denies every request, whatever else allows', function () {
    fc.assert(
      fc.property(fc.array(policy('AUDIT'), { maxLength: 2 }), request, (audits, r) => oracleFor([{ action: 'ALLOW' }, ...audits]).decide(r).outcome === 'denied'),
      runs,
    );
  });

  it('a matching DENY always wins over any ALLOW policies', function () {
    fc.assert(
      fc.property(fc.array(policy('ALLOW'), { maxLength: 3 }), request, (allows, r) => {
        const deny = { action: 'DENY', rules: [{ to: [{ operation: { methods: [r.method], paths: [r.path] } }] }] };
        const d = oracleFor([...allows, deny, { action: 'ALLOW', rules: [{}] }]).decide(r);
        return d.outcome === 'denied' && d.rule?.action === 'DENY';
      }),
      runs,
    );
  });

  it('principals never match a plaintext request (ALLOW by principals denies it; DENY by principals never fires)', function () {
    fc.assert(
      fc.property(fc.array(pattern(principal), { minLength: 1, maxLength: 3 }), request, (principals, r) => {
        const plain: InboundRequest = { ...r, source: { kind: 'plaintext' } };
        const allow = oracleFor([{ action: 'ALLOW', rules: [{ from: [{ source: { principals } }] }] }]).decide(plain);
        const deny = oracleFor([{ action: 'DENY', rules: [{ from: [{ source: { principals } }] }] }]).decide(plain);
        return allow.outcome === 'denied' && deny.outcome === 'allowed';
      }),
      runs,
    );
  });

  it('the laws can fail: a DENY that does not match leaves the ALLOW-all decision', function () {
    const d = oracleFor([{ action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] }, { action: 'ALLOW', rules: [{}] }]).decide({ source: { kind: 'plaintext' }, to: 'foo/app', method: 'GET', path: '/' });
    expect(d.outcome).to.equal('allowed');
  });
});
