import { expect } from 'chai';
import { MeshCa, makeBadCertificate, type CallEvidence, type InboundRequest } from '../../harness/index.ts';
import { authority, kitSource, notRunnableLive, serviceInFront, servingPod, shortIdentity } from './live-prober.ts';
import { seedMesh } from './testing/seed-mesh.ts';

describe('live prober helpers', function () {
  const mesh = seedMesh();
  const payment = mesh.workloads.find((w) => w.name === 'payment-service')!;
  const inventory = mesh.workloads.find((w) => w.name === 'inventory-service')!;

  it('finds the service in front of a workload port, and names it as an app in a namespace would', function () {
    const front = serviceInFront(mesh, payment, 8080)!;
    expect(front).to.deep.equal({ key: 'prod-namespace/payment-service', name: 'payment-service', namespace: 'prod-namespace', port: 80 });
    expect(authority('prod-namespace', front)).to.equal('payment-service:80');
    expect(authority('legacy', front)).to.equal('payment-service.prod-namespace:80');
    expect(authority(undefined, front)).to.equal('payment-service:80');
    expect(serviceInFront(mesh, inventory, 9080)).to.equal(undefined);
  });

  it('takes the serving pod from the destination sidecar log, else from the app that received the request', function () {
    const base: CallEvidence = { label: '', from: '', to: '', observation: { request: { protocol: 'http', host: 'x', port: 1 }, outcome: 'reset', startedAt: 0, durationMs: 0 } };
    const inbound = { time: '', direction: 'inbound' as const, status: 200, responseFlags: '-', durationMs: 1 };
    expect(servingPod({ ...base, accessLog: [{ ...inbound, pod: 'order-client.prod-namespace', direction: 'outbound' }, { ...inbound, pod: 'payment-service-0.prod-namespace' }] }, payment)).to.equal('payment-service-0.prod-namespace');
    expect(servingPod({ ...base, serverSaw: [{ pod: 'payment-service-0.prod-namespace', method: 'GET', path: '/', headers: {}, protocol: 'HTTP/1.1', requestId: 1 }] }, payment)).to.equal('payment-service-0.prod-namespace');
    expect(servingPod({ ...base, accessLog: [{ ...inbound, pod: 'inventory-service-0.legacy' }] }, payment)).to.equal(undefined);
  });

  it('refuses to send live what it cannot send faithfully, and says why', function () {
    const req: InboundRequest = { source: { kind: 'plaintext' }, to: 'prod-namespace/payment-service', path: '/pay/1' };
    expect(notRunnableLive(req)).to.equal(undefined);
    expect(notRunnableLive({ ...req, path: '%2Fprobe' })).to.contain("does not start with '/'");
    expect(notRunnableLive({ ...req, remoteIp: '10.0.0.1' })).to.contain('remote.ip');
    expect(notRunnableLive({ ...req, source: { kind: 'certificate', problem: 'expired' } })).to.contain('attacker kit');
  });

  it('tells the oracle what each attacker-kit certificate is', async function () {
    const ca = await MeshCa.create();
    const target = { namespace: 'prod-namespace', serviceAccount: 'order-service-sa' };
    expect(kitSource(await makeBadCertificate(ca, 'rogue-ca', target))).to.deep.equal({ kind: 'certificate', identity: 'spiffe://cluster.local/ns/prod-namespace/sa/order-service-sa', problem: 'untrusted-ca' });
    expect(kitSource(await makeBadCertificate(ca, 'not-yet-valid', target))).to.include({ problem: 'expired' });
    expect(kitSource(await makeBadCertificate(ca, 'foreign-trust-domain', target))).to.deep.equal({ kind: 'certificate', identity: 'spiffe://evil.example/ns/prod-namespace/sa/order-service-sa' });
    expect(kitSource(await makeBadCertificate(ca, 'impersonation', target))).to.deep.equal({ kind: 'certificate', identity: 'spiffe://cluster.local/ns/prod-namespace/sa/impostor' });
    expect(kitSource(await makeBadCertificate(ca, 'no-uri-san', target))).to.deep.equal({ kind: 'certificate' });
  });

  it('shortens identities of the default trust domain only', function () {
    expect(shortIdentity('spiffe://cluster.local/ns/prod-namespace/sa/order-service-sa')).to.equal('prod-namespace/order-service-sa');
    expect(shortIdentity('evil.example/ns/prod-namespace/sa/order-service-sa')).to.equal('evil.example/ns/prod-namespace/sa/order-service-sa');
    expect(shortIdentity('not-an-identity')).to.equal('not-an-identity');
  });
});
