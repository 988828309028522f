import { expect } from 'chai';
import { BREAKAGES, breakMesh, breakMeshFor, type Breakage } from './breakable-data-plane.ts';
import { seedMesh } from './seed-mesh.ts';

const EXTRA = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-delete, namespace: prod-namespace}
spec:
  selector: {matchLabels: {app: payment-service}}
  action: DENY
  rules: [{to: [{operation: {methods: ["DELETE"]}}], when: [{key: "request.headers[x-a]", values: ["b"]}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: audit-all, namespace: prod-namespace}
spec:
  selector: {matchLabels: {app: payment-service}}
  action: AUDIT
  rules: [{}]
`;

describe('BreakableDataPlane breakages (what the can-fail tests break)', function () {
  const mesh = seedMesh(EXTRA);
  const payment = (m: typeof mesh) => m.workloads.find((w) => w.name === 'payment-service')!;
  const inventory = (m: typeof mesh) => m.workloads.find((w) => w.name === 'inventory-service')!;

  it('strict-as-permissive turns STRICT ports PERMISSIVE and leaves others alone', function () {
    const broken = breakMesh(mesh, 'strict-as-permissive');
    expect(payment(mesh).ports[0]!.mtlsMode).to.equal('STRICT');
    expect(payment(broken).ports[0]!.mtlsMode).to.equal('PERMISSIVE');
    expect(inventory(broken).ports[0]!.mtlsMode).to.equal('PERMISSIVE');
  });

  it('default-strict makes the ports no policy covers STRICT', function () {
    expect(inventory(breakMesh(mesh, 'default-strict')).ports[0]!.mtlsMode).to.equal('STRICT');
    expect(payment(breakMesh(mesh, 'default-strict')).ports[0]!.mtlsMode).to.equal('STRICT');
  });

  it('drops DENY or AUDIT policies, paths of ALLOW rules, and when conditions', function () {
    const actions = (b: Breakage) => payment(breakMesh(mesh, b)).authorizationPolicies.map((p) => p.spec.action ?? 'ALLOW');
    expect(payment(mesh).authorizationPolicies.map((p) => p.spec.action ?? 'ALLOW').sort()).to.deep.equal(['ALLOW', 'AUDIT', 'DENY']);
    expect(actions('drop-deny').sort()).to.deep.equal(['ALLOW', 'AUDIT']);
    expect(actions('drop-audit').sort()).to.deep.equal(['ALLOW', 'DENY']);
    const allow = payment(breakMesh(mesh, 'ignore-paths')).authorizationPolicies.find((p) => p.name === 'restrict-payment-access')!;
    expect(allow.spec.rules?.[0]?.to?.[0]?.operation).to.deep.equal({ methods: ['POST'] });
    const deny = payment(breakMesh(mesh, 'ignore-when')).authorizationPolicies.find((p) => p.name === 'deny-delete')!;
    expect(deny.spec.rules?.[0]?.when).to.equal(undefined);
    expect(payment(mesh).authorizationPolicies.find((p) => p.name === 'deny-delete')!.spec.rules?.[0]?.when).to.have.length(1);
  });

  it("plaintext-to-strict-peer and disable-for-in-mesh: a proxy reads its peers' ports as DISABLE; with the first its own STRICT ports take plaintext", function () {
    const asPayment = { kind: 'workload' as const, workload: payment(mesh), pod: 'payment-service-0.prod-namespace' };
    const asClient = { kind: 'client' as const, client: mesh.clients[0]!, pod: 'client' };
    const modes = (m: typeof mesh) => m.workloads.map((w) => `${w.name}:${w.ports.map((p) => p.mtlsMode).join(',')}`);
    expect(modes(breakMeshFor(mesh, 'plaintext-to-strict-peer', asPayment))).to.deep.equal(mesh.workloads.map((w) => `${w.name}:${w.ports.map(() => (w.name === 'payment-service' ? 'PERMISSIVE' : 'DISABLE')).join(',')}`));
    expect(payment(breakMeshFor(mesh, 'disable-for-in-mesh', asPayment)).ports[0]!.mtlsMode).to.equal('STRICT');
    expect(breakMeshFor(mesh, 'disable-for-in-mesh', asClient).workloads.every((w) => w.ports.every((p) => p.mtlsMode === 'DISABLE'))).to.equal(true);
    expect(breakMeshFor(mesh, 'drop-deny', asClient)).to.equal(mesh);
  });

  it('changes mesh settings for the trust-domain, TLS and normalization breakages', function () {
    expect(breakMesh(mesh, 'trust-foreign-domain').mesh.trustDomainAliases).to.deep.equal(['evil.example']);
    expect(breakMesh(mesh, 'tls13-only').mesh.minTlsVersion).to.equal('TLSv1.3');
    expect(breakMesh(mesh, 'no-path-normalization').mesh.pathNormalization).to.equal('NONE');
  });

  it('describes every breakage, and never changes the mesh it was given', function () {
    const before = JSON.stringify(mesh.workloads.map((w) => [w.ports, w.authorizationPolicies.map((p) => p.spec)]));
    for (const b of Object.keys(BREAKAGES) as Breakage[]) {
      expect(BREAKAGES[b]).to.be.a('string').and.not.equal('');
      breakMesh(mesh, b);
    }
    expect(JSON.stringify(mesh.workloads.map((w) => [w.ports, w.authorizationPolicies.map((p) => p.spec)]))).to.equal(before);
  });
});
