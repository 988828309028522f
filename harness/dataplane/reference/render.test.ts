import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Feature } from '../../spec/features.ts';
import { loadPolicies } from '../../model/load-policies.ts';
import { findWorkload, resolveMesh, type ResolvedMesh } from '../../model/resolve.ts';
import { loadTopology } from '../../model/topology.ts';
import { projectRoot } from '../../project-root.ts';
import { parseSidecarConfig } from './config.ts';
import { ReferenceDataPlane } from './reference-data-plane.ts';
import { renderSidecarConfig } from './render.ts';

const seedDir = join(projectRoot, 'fixtures/seed');
const seed = (): ResolvedMesh => resolveMesh(loadPolicies([seedDir]), loadTopology(join(seedDir, 'topology.yaml')));

describe('reference render', function () {
  it("renders payment-service from the seed: STRICT on 8080 (mesh-wide and namespace STRICT) and the seed's ALLOW rule", function () {
    const mesh = seed();
    const w = findWorkload(mesh, 'prod-namespace/payment-service');
    const config = renderSidecarConfig(mesh, { kind: 'workload', workload: w, pod: 'payment-service-0.prod-namespace' }, { generation: 7, appPort: 15080 });
    expect(config.generation).to.equal(7);
    expect(config.node).to.include({ pod: 'payment-service-0.prod-namespace', workload: 'payment-service', spiffeId: 'spiffe://cluster.local/ns/prod-namespace/sa/payment-service-sa' });
    expect(config.node.services).to.deep.equal(['payment-service.prod-namespace.svc.cluster.local']);
    expect(config.inbound.ports).to.deep.equal([{ port: 8080, protocol: 'http', mtlsMode: 'STRICT', appPort: 15080 }]);
    expect(config.inbound.rbac.http.map((f) => f.source)).to.deep.equal(['allow']);
    expect(Object.keys(config.inbound.rbac.http[0]?.rules?.policies ?? {})).to.deep.equal(['ns[prod-namespace]-policy[restrict-payment-access]-rule[0]']);
    expect(config.notes[0]).to.match(/^port 8080\/http: STRICT from mesh istio-system\/default-mesh-wide-mtls \(STRICT\) at .* → namespace prod-namespace\/default \(STRICT\)/);
    expect(config.mesh).to.deep.include({ trustDomain: 'cluster.local', pathNormalization: 'BASE', minTlsVersion: 'TLSv1.2' });
    expect(config.sources?.authorizationPolicies).to.have.length(1);
    expect(config.sources?.authorizationPolicies[0]).to.include({ namespace: 'prod-namespace', name: 'restrict-payment-access', action: 'ALLOW' });
    expect(config.sources?.authorizationPolicies[0]?.at).to.match(/authorization-policy\.yaml:\d+$/);
    // What render writes, the sidecar accepts.
    expect(parseSidecarConfig(JSON.stringify(config), 'rendered')).to.deep.equal(config);
  });

  it('renders an in-mesh client with its identity and no inbound listener', function () {
    const mesh = seed();
    const client = mesh.clients.find((c) => c.key === 'prod-namespace/order-client')!;
    const config = renderSidecarConfig(mesh, { kind: 'client', client, pod: 'order-client.prod-namespace' }, { generation: 1, appPort: 15080 });
    expect(config.node.spiffeId).to.equal('spiffe://cluster.local/ns/prod-namespace/sa/order-service-sa');
    expect(config.inbound.ports).to.deep.equal([]);
    const legacy = mesh.clients.find((c) => c.key === 'legacy/legacy-client')!;
    expect(() => renderSidecarConfig(mesh, { kind: 'client', client: legacy, pod: 'legacy-client.legacy' }, { generation: 1, appPort: 15080 })).to.throw(/has no sidecar/);
  });

  it('refuses a workload port that collides with the app or admin port, saying which', function () {
    const mesh = seed();
    const w = findWorkload(mesh, 'prod-namespace/payment-service');
    expect(() => renderSidecarConfig(mesh, { kind: 'workload', workload: w, pod: 'p' }, { generation: 1, appPort: 8080 })).to.throw(/port 8080 collides with the app port/);
  });

  it('matches Istio ALPN on PERMISSIVE ports by default, as istiod; off is an option, noted in the config', function () {
    const mesh = resolveMesh(loadPolicies([join(seedDir, 'authorization-policy.yaml')]), loadTopology(join(seedDir, 'topology.yaml')));
    const w = findWorkload(mesh, 'prod-namespace/payment-service');
    const off = renderSidecarConfig(mesh, { kind: 'workload', workload: w, pod: 'p' }, { generation: 1, appPort: 15080, istioAlpnOnPermissive: false });
    expect(off.inbound.ports[0]).to.deep.equal({ port: 8080, protocol: 'http', mtlsMode: 'PERMISSIVE', appPort: 15080 });
    expect(off.notes.some((n) => n.includes('istioAlpnOnPermissive'))).to.equal(true);
    const on = renderSidecarConfig(mesh, { kind: 'workload', workload: w, pod: 'p' }, { generation: 1, appPort: 15080 });
    expect(on.inbound.ports[0]?.mtlsAlpn).to.deep.equal(['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']);
  });

  describe('as a data-plane adapter', function () {
    it('claims the inbound and client-side features (not CUSTOM), says where the app reaches its outbound side, and writes a config the sidecar parses', async function () {
      const plane = new ReferenceDataPlane();
      const info = await plane.info();
      expect(info).to.include({ name: 'reference', available: true });
      expect(plane.features.has(Feature.MtlsStrict)).to.equal(true);
      expect(plane.features.has(Feature.AuthzCustom)).to.equal(false);
      expect(plane.features.has(Feature.OutlierDetection)).to.equal(true);
      expect(plane.features.has(Feature.IdentitySecureNaming)).to.equal(true);
      const mesh = seed();
      const rendered = await plane.render(mesh, { kind: 'workload', workload: findWorkload(mesh, 'prod-namespace/payment-service'), pod: 'payment-service-0.prod-namespace' }, { generation: 3 });
      expect(rendered.container).to.deep.include({ image: 'sidecar' });
      expect(rendered.appPort).to.equal(15080);
      expect([...rendered.inboundPorts]).to.deep.equal([[8080, 8080]]);
      expect(rendered.outbound?.http.get(80)).to.equal(15001);
      expect(rendered.responseFlagsHeader).to.equal('x-meshproof-response-flags');
      const dir = mkdtempSync(join(tmpdir(), 'meshproof-render-'));
      try {
        await rendered.write(dir);
        expect(parseSidecarConfig(readFileSync(join(dir, 'sidecar.json'), 'utf8'), 'sidecar.json').generation).to.equal(3);
        expect(await plane.liveReload.appliedGeneration(dir), 'no sidecar answers in this folder').to.equal(undefined);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
