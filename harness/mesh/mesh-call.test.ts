import { MESH_PROBE_ALPN } from '../dataplane/istiod/istio-constants.ts';
import { expect } from 'chai';
import { isMeshproofError } from '../errors.ts';
import { policiesFromYaml } from '../model/load-policies.ts';
import { resolveMesh } from '../model/resolve.ts';
import { topologyFromYaml } from '../model/topology.ts';
import { buildCallRequest, buildSidecarCallRequest, callsThroughSidecar, resolveTarget, type CallDestination } from './mesh-call.ts';
import { findParticipant, planParticipants } from './participants.ts';

const topology = topologyFromYaml(`apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod, legacy]
workloads:
- {name: payment, namespace: prod, serviceAccount: payment-sa, replicas: 2, ports: [{port: 8080, protocol: http}, {port: 9000, protocol: tcp}]}
- {name: order, namespace: prod, serviceAccount: order-sa, ports: [{port: 8080, protocol: http}]}
services:
- {name: payment, namespace: prod, selector: {app: payment}, ports: [{port: 80, targetPort: 8080}, {port: 9000}]}
clients:
- {name: order-client, namespace: prod, serviceAccount: order-sa}
- {name: legacy, namespace: legacy, sidecar: false}
`);
const mesh = resolveMesh(policiesFromYaml(''), topology);
const participants = planParticipants(mesh, ['mallory']);
const creds = { certChainPem: 'CHAIN', keyPem: 'KEY', rootCertPem: 'ROOT' };
const dest = (mode: CallDestination['mode']): CallDestination => ({ ip: '172.18.0.5', port: 8080, identity: 'spiffe://cluster.local/ns/prod/sa/payment-sa', mode });

describe('mesh participants and calls', function () {
  it('names one pod per replica, one per client and one per attacker, with what each is', function () {
    expect(participants.map((p) => `${p.pod} ${p.kind} ${p.sidecar ? 'sidecar' : '-'}`)).to.deep.equal([
      'payment-0.prod workload sidecar',
      'payment-1.prod workload sidecar',
      'order-0.prod workload sidecar',
      'order-client.prod mesh-client sidecar',
      'legacy.legacy plaintext-client -',
      'mallory attacker -',
    ]);
    expect(findParticipant(participants, 'payment').pod).to.equal('payment-0.prod');
    expect(findParticipant(participants, 'prod/order-client').serviceAccount).to.equal('order-sa');
    expect(() => findParticipant(participants, 'nobody')).to.throw(/no workload, client, attacker or pod named 'nobody'/);
  });

  it('a service means every replica behind it, on the target port of the service port', function () {
    expect(resolveTarget(mesh, participants, { to: 'payment' })).to.deep.equal({
      candidates: ['payment-0.prod', 'payment-1.prod'],
      workloadPort: 8080,
      display: 'payment:80',
      service: { host: 'payment.prod.svc.cluster.local', name: 'payment', namespace: 'prod', port: 80, protocol: 'http' },
    });
    expect(resolveTarget(mesh, participants, { to: 'prod/payment', port: 9000 })).to.include({ workloadPort: 9000, display: 'payment:9000' });
    expect(resolveTarget(mesh, participants, { to: 'payment-1.prod' })).to.include({ pod: 'payment-1.prod', workloadPort: 8080 });
    expect(resolveTarget(mesh, participants, { to: 'order', port: 8080 })).to.include({ display: 'order:8080' });
    try {
      resolveTarget(mesh, participants, { to: 'payment', port: 81 });
      expect.fail('port 81 does not exist');
    } catch (error) {
      expect(isMeshproofError(error)).to.equal(true);
      expect((error as Error).message).to.match(/no port 81/);
    }
  });

  it('an in-mesh source uses mutual TLS with its certificate and checks the server identity (auto mTLS)', function () {
    const r = buildCallRequest({ participant: findParticipant(participants, 'order-client'), credentials: creds }, dest('STRICT'), { to: 'payment', method: 'POST', path: '/pay/1' }, 5000);
    expect(r).to.deep.equal({
      protocol: 'https',
      host: '172.18.0.5',
      port: 8080,
      method: 'POST',
      path: '/pay/1',
      tls: { certChainPem: 'CHAIN', keyPem: 'KEY', caPem: 'ROOT', expectServerIdentity: 'spiffe://cluster.local/ns/prod/sa/payment-sa', alpn: [...MESH_PROBE_ALPN] },
      timeoutMs: 5000,
    });
    expect(buildCallRequest({ participant: findParticipant(participants, 'order-client'), credentials: creds }, dest('DISABLE'), { to: 'payment' }, 5000).protocol).to.equal('http');
  });

  it('plaintext clients and attackers send plaintext unless a case hands them TLS', function () {
    expect(buildCallRequest({ participant: findParticipant(participants, 'legacy') }, dest('STRICT'), { to: 'payment' }, 5000)).to.include({ protocol: 'http' });
    const forged = buildCallRequest({ participant: findParticipant(participants, 'mallory') }, dest('STRICT'), { to: 'payment', tls: { certChainPem: 'X', keyPem: 'Y' } }, 5000);
    expect(forged).to.deep.include({ protocol: 'https', tls: { certChainPem: 'X', keyPem: 'Y', alpn: [...MESH_PROBE_ALPN] } });
    // A case that sets its own ALPN keeps it (a plain TLS client, not a sidecar).
    expect(buildCallRequest({ participant: findParticipant(participants, 'mallory') }, dest('STRICT'), { to: 'payment', tls: { alpn: ['h2'] } }, 5000).tls).to.deep.equal({ alpn: ['h2'] });
    expect(buildCallRequest({ participant: findParticipant(participants, 'mallory') }, dest('STRICT'), { to: 'payment', protocol: 'tls-handshake' }, 5000)).to.deep.include({ protocol: 'tls-handshake', tls: { alpn: [...MESH_PROBE_ALPN] } });
    expect(() => buildCallRequest({ participant: findParticipant(participants, 'order-client'), credentials: creds }, dest('STRICT'), { to: 'payment', protocol: 'tcp' }, 5000)).to.throw(/plaintext only/);
  });

  describe('through the source\'s own sidecar', function () {
    const outbound = { http: new Map([[80, 15001], [8080, 15002]]), tcp: new Map([['payment.prod.svc.cluster.local:9000', 15003]]) };
    const order = findParticipant(participants, 'order-client');
    const service = (port: number) => resolveTarget(mesh, participants, { to: 'payment', port }).service!;

    it('is the path of in-mesh sources whose data plane has an outbound side, unless the case hands them TLS or wants a bare handshake', function () {
      expect(callsThroughSidecar(order, outbound, { to: 'payment' })).to.equal(true);
      expect(callsThroughSidecar(order, undefined, { to: 'payment' })).to.equal(false);
      expect(callsThroughSidecar(order, outbound, { to: 'payment', protocol: 'tls-handshake' })).to.equal(false);
      expect(callsThroughSidecar(order, outbound, { to: 'payment', tls: false })).to.equal(false);
      expect(callsThroughSidecar(findParticipant(participants, 'legacy'), outbound, { to: 'payment' })).to.equal(false);
      expect(callsThroughSidecar(findParticipant(participants, 'mallory'), outbound, { to: 'payment' })).to.equal(false);
    });

    it('sends plaintext to the listener of the port called, with the destination in the Host header as an app would write it', function () {
      expect(buildSidecarCallRequest(order, outbound, { kind: 'service', service: service(80) }, { to: 'payment', method: 'POST', path: '/pay/1' }, 5000)).to.deep.equal({
        protocol: 'http',
        host: '127.0.0.1',
        port: 15001,
        method: 'POST',
        path: '/pay/1',
        headers: { host: 'payment:80' },
        timeoutMs: 5000,
      });
      const fromOtherNamespace = { ...order, namespace: 'shop' };
      expect(buildSidecarCallRequest(fromOtherNamespace, outbound, { kind: 'service', service: service(80) }, { to: 'payment' }, 5000).headers).to.deep.equal({ host: 'payment.prod:80' });
      expect(buildSidecarCallRequest(order, outbound, { kind: 'pod', pod: 'payment-1.prod', port: 8080, protocol: 'http' }, { to: 'payment-1.prod' }, 5000)).to.include({ port: 15002 });
      expect(buildSidecarCallRequest(order, outbound, { kind: 'service', service: service(80) }, { to: 'payment', headers: { Host: 'custom' } }, 5000).headers).to.deep.equal({ Host: 'custom' });
    });

    it('uses the per-destination listener of a TCP port, and says when the sidecar has none', function () {
      expect(buildSidecarCallRequest(order, outbound, { kind: 'service', service: service(9000) }, { to: 'payment', port: 9000 }, 5000)).to.include({ protocol: 'http', port: 15003 });
      expect(buildSidecarCallRequest(order, outbound, { kind: 'service', service: service(9000) }, { to: 'payment', port: 9000, protocol: 'tcp', body: 'x' }, 5000)).to.include({ protocol: 'tcp', port: 15003 });
      expect(() => buildSidecarCallRequest(order, { http: new Map(), tcp: new Map() }, { kind: 'service', service: service(80) }, { to: 'payment' }, 5000)).to.throw(/no outbound listener for payment.prod.svc.cluster.local:80/);
    });
  });
});
