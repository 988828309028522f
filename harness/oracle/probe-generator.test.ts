import { expect } from 'chai';
import { loadPolicies, policiesFromYaml } from '../model/load-policies.ts';
import { resolveMesh } from '../model/resolve.ts';
import { loadTopology, topologyFromYaml } from '../model/topology.ts';
import { InboundOracle } from './inbound.ts';
import { generateProbes, generateWorkloadProbes, ruleCoverage } from './probe-generator.ts';

describe('probe generation', function () {
  const mesh = resolveMesh(loadPolicies(['fixtures/seed']), loadTopology('fixtures/seed/topology.yaml'));
  const probes = generateProbes(mesh);
  const byId = new Map(probes.map((p) => [p.id.slice(p.id.indexOf('#') + 1), p]));
  const rule = 'prod-namespace/restrict-payment-access/rules[0]';

  it('covers every rule and gives stable ids', function () {
    expect(ruleCoverage(mesh, probes)).to.deep.equal({ covered: [rule], uncovered: [] });
    expect(generateProbes(mesh).map((p) => p.id)).to.deep.equal(probes.map((p) => p.id));
    expect(new Set(probes.map((p) => p.id)).size).to.equal(probes.length);
  });

  it('the matching probe is allowed by the rule; each field miss is denied', function () {
    expect(byId.get('match')?.expected).to.deep.include({ outcome: 'allowed' });
    expect(byId.get('match')?.expected.rule?.id).to.equal(rule);
    for (const miss of ['miss:principals', 'miss:methods', 'miss:paths']) {
      const p = byId.get(miss);
      expect(p?.ruleId, miss).to.equal(rule);
      expect(p?.expected.outcome, miss).to.equal('denied');
    }
    expect(byId.get('miss:paths')?.request.path).to.equal('/pay');
  });

  it('plaintext and normalization variants carry the expected outcome', function () {
    expect(byId.get('plaintext')?.expected.outcome).to.equal('connection-reset');
    expect(byId.get('path://')?.expected.outcome).to.equal('allowed');
    expect(byId.get('path:%2F')?.expected.outcome).to.equal('denied');
    expect(byId.get('path:case')?.expected.outcome).to.equal('denied');
    expect(byId.get('path:#')?.expected.expect.forwardedPath).to.equal('/pay/probe');
    expect(byId.get('path:%00')?.expected.expect.status).to.equal(400);
  });

  it('notX values become edge probes that the rule does not match', function () {
    const m = resolveMesh(
      policiesFromYaml('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: foo}\nspec:\n  rules:\n  - to:\n    - operation: {paths: ["/api/*"], notPaths: ["/api/admin"], notMethods: ["DELETE"]}'),
      topologyFromYaml('apiVersion: meshproof.dev/v1alpha1\nkind: Topology\nnamespaces: [foo]\nworkloads:\n- {name: app, namespace: foo, labels: {app: app}, ports: [{port: 80, protocol: http}]}\n'),
    );
    const edges = generateProbes(m).filter((p) => p.kind === 'not-edge');
    expect(edges.map((p) => [p.request.method, p.request.path, p.expected.outcome])).to.deep.equal([
      ['DELETE', '/api/probe', 'denied'],
      ['GET', '/api/admin', 'denied'],
    ]);
  });

  describe('with alternatives (what meshproof diff asks)', function () {
    const topology = topologyFromYaml('apiVersion: meshproof.dev/v1alpha1\nkind: Topology\nnamespaces: [foo]\nworkloads:\n- {name: app, namespace: foo, labels: {app: app}, ports: [{port: 80, protocol: http}, {port: 81, protocol: http}]}\n');
    const alternativesOf = (yaml: string): { id: string; method?: string; path?: string; from: string; outcome: string }[] => {
      const m = resolveMesh(policiesFromYaml(yaml), topology);
      const w = m.workloads[0]!;
      return generateWorkloadProbes(m, new InboundOracle(m), w, { alternatives: true })
        .filter((p) => p.id.includes('#match:'))
        .map((p) => ({ id: p.id.slice(p.id.indexOf('#') + 1), ...(p.request.method === undefined ? {} : { method: p.request.method }), ...(p.request.path === undefined ? {} : { path: p.request.path }), from: p.request.source.kind === 'mesh' ? p.request.source.identity : p.request.source.kind, outcome: p.expected.outcome }));
    };

    it('gives a match probe through each further value and entry of a rule, none without the option', function () {
      const yaml = 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: foo}\nspec:\n  rules:\n  - from:\n    - source: {principals: ["cluster.local/ns/foo/sa/a", "cluster.local/ns/foo/sa/b"]}\n    to:\n    - operation: {methods: ["GET", "PUT"], paths: ["/x"]}\n    - operation: {paths: ["/y/*"]}';
      expect(alternativesOf(yaml)).to.deep.equal([
        { id: 'match:from[0].principals[1]', method: 'GET', path: '/x', from: 'cluster.local/ns/foo/sa/b', outcome: 'allowed' },
        { id: 'match:to[0].methods[1]', method: 'PUT', path: '/x', from: 'cluster.local/ns/foo/sa/a', outcome: 'allowed' },
        { id: 'match:to[1]', method: 'GET', path: '/y/probe', from: 'cluster.local/ns/foo/sa/a', outcome: 'allowed' },
      ]);
      const m = resolveMesh(policiesFromYaml(yaml), topology);
      expect(generateProbes(m).some((p) => p.id.includes('#match:'))).to.equal(false);
    });

    it('probes a DENY rule where each ALLOW rule would let its request through', function () {
      const yaml = [
        'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow, namespace: foo}\nspec:\n  rules:\n  - from:\n    - source: {principals: ["cluster.local/ns/foo/sa/a"]}\n    to:\n    - operation: {methods: ["POST"], paths: ["/pay/*"]}',
        'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny, namespace: foo}\nspec:\n  action: DENY\n  rules:\n  - to:\n    - operation: {paths: ["/pay/admin/*"], ports: ["80"]}',
      ].join('\n---\n');
      expect(alternativesOf(yaml)).to.deep.equal([{ id: 'match:where foo/allow/rules[0] allows', method: 'POST', path: '/pay/admin/probe', from: 'cluster.local/ns/foo/sa/a', outcome: 'denied' }]);
    });
  });
});
