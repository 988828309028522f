import { expect } from 'chai';
import { loadPolicies, policiesFromYaml } from '../model/load-policies.ts';
import { resolveMesh } from '../model/resolve.ts';
import { loadTopology, topologyFromYaml } from '../model/topology.ts';
import { generateProbes, ruleCoverage } from './probe-generator.ts';

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
});
