/**
 * Each data plane in containers (the reference sidecar, and upstream Envoy where it can be had),
 * driven through the mesh environment: the seed's policies, clients of every kind, and real
 * clients no one here wrote (curl, openssl s_client) run from the host against a pod's address.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { awaitConvergence } from '../util/await-convergence.ts';
import { allowed, and, appNeverSaw, denied403, peerIdentity, rejectedBeforeHttp, reset, tlsAlert } from '../conformance/checks.ts';
import { expectCall } from '../conformance/expect-call.ts';
import { subscribe, type EventMap } from '../events.ts';
import { Feature } from '../spec/features.ts';
import { createDataPlane } from '../dataplane/create-data-plane.ts';
import type { DataPlaneAdapter } from '../dataplane/types.ts';
import { readPolicies } from '../model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../model/resolve.ts';
import { topologyFromYaml } from '../model/topology.ts';
import { makeBadCertificate } from '../pki/attacker-kit.ts';
import { MeshCa } from '../pki/mesh-ca.ts';
import { projectRoot } from '../project-root.ts';
import { DockerRuntime } from '../runtime/docker/docker-runtime.ts';
import { MeshEnvironment } from './mesh-environment.ts';

const run = promisify(execFile);
const ORDER_SA = { namespace: 'prod-namespace', serviceAccount: 'order-service-sa' };
const ORDER_ID = 'spiffe://cluster.local/ns/prod-namespace/sa/order-service-sa';

/** The seed's services, one replica each, plus `ledger` whose ports are PERMISSIVE, DISABLE and STRICT. */
const TOPOLOGY = `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod-namespace, legacy]
workloads:
- {name: payment-service, namespace: prod-namespace, serviceAccount: payment-service-sa, labels: {app: payment-service}, ports: [{port: 8080, protocol: http}]}
- {name: ledger, namespace: prod-namespace, serviceAccount: ledger-sa, labels: {app: ledger}, ports: [{port: 9080, protocol: http}, {port: 9081, protocol: http}, {port: 9082, protocol: http}]}
services:
- {name: payment-service, namespace: prod-namespace, selector: {app: payment-service}, ports: [{port: 80, targetPort: 8080}]}
clients:
- {name: order-client, namespace: prod-namespace, serviceAccount: order-service-sa}
- {name: product-client, namespace: prod-namespace, serviceAccount: product-service-sa}
- {name: legacy-client, namespace: legacy, sidecar: false}
`;

const LEDGER_MODES = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ledger, namespace: prod-namespace}
spec:
  selector: {matchLabels: {app: ledger}}
  portLevelMtls:
    "9080": {mode: PERMISSIVE}
    "9081": {mode: DISABLE}
`;

for (const plane of ['reference', 'envoy'] as const) {
describe(`mesh environment with the ${plane} data plane (containers)`, function () {
  this.timeout(300_000);
  let dataPlane: DataPlaneAdapter;
  let startedAt = 0;
  let runtime: DockerRuntime;
  let env: MeshEnvironment;
  let ca: MeshCa;
  let dir: string;
  let mesh: ResolvedMesh;

  const seed = (file: string): string => join(projectRoot, 'fixtures/seed', file);
  const load = (extra: string): ResolvedMesh => {
    writeFileSync(join(dir, 'extra.yaml'), extra);
    const { set, issues } = readPolicies([seed('peer-authentication.yaml'), seed('authorization-policy.yaml'), seed('service-account.yaml'), join(dir, 'extra.yaml')]);
    expect(issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
    return resolveMesh(set, topologyFromYaml(TOPOLOGY));
  };

  before(async function () {
    dataPlane = createDataPlane(plane);
    const info = await dataPlane.info();
    if (!info.available) {
      process.stdout.write(`      skipped: ${info.unavailableReason ?? `${plane} unavailable`}\n`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'meshproof-mesh-test-'));
    runtime = await DockerRuntime.start();
    ca = await MeshCa.create();
    mesh = load(LEDGER_MODES);
    env = await MeshEnvironment.start({ runtime, mesh, dataPlane, ca, attackers: ['mallory'], timeouts: runtime.timeouts });
    startedAt = performance.now();
  });

  after(async function () {
    await env?.close();
    await runtime?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('STRICT (prod-namespace)', function () {
    it('closes a plaintext call without a response; the app never sees it; the sidecar logs NR', async function () {
      const e = await env.call('legacy-client', { to: 'payment-service', method: 'POST', path: '/pay/1' });
      expectCall(e, and(reset(), appNeverSaw()));
      expect(e.accessLog?.map((l) => [l.responseFlags, l.responseCodeDetails])).to.deep.equal([['NR', 'filter_chain_not_found']]);
    });

    it('refuses TLS without a client certificate with the handshake alert', async function () {
      const e = await env.call('mallory', { to: 'payment-service', protocol: 'tls-handshake' });
      expectCall(e, and(tlsAlert(/certificate required/), appNeverSaw()));
    });

    for (const kind of ['rogue-ca', 'expired', 'foreign-trust-domain'] as const) {
      it(`refuses a ${kind} certificate before any request reaches the app`, async function () {
        const bad = await makeBadCertificate(ca, kind, ORDER_SA);
        const e = await env.call('mallory', { to: 'payment-service', method: 'POST', path: '/pay/1', tls: { certChainPem: bad.certChainPem, keyPem: bad.keyPem } });
        expectCall(e, and(rejectedBeforeHttp(), appNeverSaw()));
      });
    }

    it('refuses a TLS 1.1-only client', async function () {
      const order = env.credentialsOf('order-client');
      const e = await env.call('mallory', { to: 'payment-service', path: '/pay/1', tls: { certChainPem: order.certChainPem, keyPem: order.keyPem, maxVersion: 'TLSv1.1' } });
      expectCall(e, and(tlsAlert(), appNeverSaw()));
    });
  });

  describe("the seed's AuthorizationPolicy: payment-service takes POST /pay/* from order-service-sa only", function () {
    const rows: [from: string, method: string, path: string, allow: boolean][] = [
      ['order-client', 'POST', '/pay/1', true],
      ['order-client', 'POST', '/pay/2?amount=3', true],
      ['order-client', 'GET', '/pay/1', false],
      ['order-client', 'POST', '/refund/1', false],
      ['order-client', 'POST', '/pay', false],
      ['product-client', 'POST', '/pay/1', false],
    ];
    for (const [from, method, path, allow] of rows) {
      it(`${from} ${method} ${path} → ${allow ? '200' : '403'}`, async function () {
        const e = await env.call(from, { to: 'payment-service', method, path });
        if (allow) {
          expectCall(e, and(allowed(), peerIdentity(ORDER_ID)));
          expect(e.serverSaw?.map((r) => `${r.method} ${r.path}`)).to.deep.equal([`${method} ${path}`]);
        } else {
          expectCall(e, and(denied403(), appNeverSaw()));
          expect(e.accessLog?.[0]).to.include({ status: 403, responseCodeDetails: 'rbac_access_denied_matched_policy[none]', connectionSecurity: 'mutual_tls' });
        }
      });
    }

    it("counts the denials in Envoy's metrics, and in Istio's where the data plane has them (never made up where not)", async function () {
      const m = await env.metrics('payment-service');
      expect(m.value('envoy_http_rbac_denied', { http_conn_manager_prefix: 'inbound_8080' })).to.equal(4);
      expect(m.value('envoy_listener_ssl_fail_verify_no_cert')).to.be.greaterThan(0);
      if (dataPlane.features.has(Feature.IstioMetrics)) {
        expect(m.value('istio_requests_total', { response_code: '403', destination_principal: 'spiffe://cluster.local/ns/prod-namespace/sa/payment-service-sa', connection_security_policy: 'mutual_tls' })).to.equal(4);
        expect(m.value('istio_requests_total', { response_code: '200', source_principal: ORDER_ID })).to.equal(2);
      } else {
        expect(m.names().filter((n) => n.startsWith('istio_'))).to.deep.equal([]);
      }
    });
  });

  describe('PERMISSIVE and DISABLE ports (ledger)', function () {
    it('PERMISSIVE takes plaintext (no identity) and mTLS (with identity) on the same port', async function () {
      expectCall(await env.call('legacy-client', { to: 'ledger', port: 9080, path: '/plain' }), and(allowed(), peerIdentity(undefined)));
      expectCall(await env.call('order-client', { to: 'ledger', port: 9080, path: '/mtls' }), and(allowed(), peerIdentity(ORDER_ID)));
    });

    it('DISABLE refuses TLS and takes plaintext (an in-mesh client sends plaintext there, as auto mTLS does)', async function () {
      const order = env.credentialsOf('order-client');
      expectCall(await env.call('mallory', { to: 'ledger', port: 9081, tls: { certChainPem: order.certChainPem, keyPem: order.keyPem } }), and(tlsAlert(), appNeverSaw()));
      expectCall(await env.call('order-client', { to: 'ledger', port: 9081 }), and(allowed(), peerIdentity(undefined)));
    });
  });

  describe('clients no one here wrote, from the host', function () {
    let pemDir: string;
    before(function () {
      pemDir = mkdtempSync(join(tmpdir(), 'meshproof-curl-'));
      const order = env.credentialsOf('order-client');
      writeFileSync(join(pemDir, 'cert.pem'), order.certChainPem);
      writeFileSync(join(pemDir, 'key.pem'), order.keyPem, { mode: 0o600 });
      writeFileSync(join(pemDir, 'root.pem'), ca.rootCertPem);
    });
    after(function () {
      rmSync(pemDir, { recursive: true, force: true });
    });
    const curl = async (args: string[]): Promise<{ code: number; out: string }> => {
      try {
        const r = await run('curl', ['-sS', '--max-time', '5', ...args]);
        return { code: 0, out: r.stdout + r.stderr };
      } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        return { code: e.code ?? -1, out: (e.stdout ?? '') + (e.stderr ?? '') };
      }
    };

    it('curl, plaintext to STRICT: empty reply or reset (exit 52/56), and the app never sees it', async function () {
      const before = (await env.pod('payment-service').agent.received()).length;
      const r = await curl([`http://${env.pod('payment-service').pod.ip}:8080/pay/1`, '-X', 'POST']);
      expect(r.code, r.out).to.be.oneOf([52, 56]);
      expect((await env.pod('payment-service').agent.received()).length).to.equal(before);
    });

    it("curl with order-service's mesh certificate: 200 and the echo app reports the identity", async function () {
      const r = await curl(['-k', '--cert', join(pemDir, 'cert.pem'), '--key', join(pemDir, 'key.pem'), '-X', 'POST', `https://${env.pod('payment-service').pod.ip}:8080/pay/curl`, '-w', '\\n%{http_code}']);
      expect(r.code, r.out).to.equal(0);
      expect(r.out.trim().split('\n').at(-1)).to.equal('200');
      expect(JSON.parse(r.out.trim().split('\n')[0]!)).to.include({ peerIdentity: ORDER_ID, path: '/pay/curl' });
    });

    // A known difference (harness/dataplane/known-differences.ts, http2-inbound), held here so that it stays known.
    it(`curl --http2 with a mesh certificate: ${plane === 'envoy' ? 'Envoy speaks HTTP/2 (ALPN h2)' : 'the reference sidecar falls back to HTTP/1.1'}`, async function () {
      const r = await curl(['--http2', '-k', '--cert', join(pemDir, 'cert.pem'), '--key', join(pemDir, 'key.pem'), '-X', 'POST', `https://${env.pod('payment-service').pod.ip}:8080/pay/h2`, '-o', '/dev/null', '-w', '%{http_code} %{http_version}']);
      expect(r.code, r.out).to.equal(0);
      expect(r.out.trim()).to.equal(plane === 'envoy' ? '200 2' : '200 1.1');
    });

    it(`curl --http2-prior-knowledge (h2c) to a PERMISSIVE port: ${plane === 'envoy' ? 'Envoy answers over HTTP/2' : 'the reference sidecar cannot'}`, async function () {
      const r = await curl(['--http2-prior-knowledge', `http://${env.pod('ledger').pod.ip}:9080/h2c`, '-o', '/dev/null', '-w', '%{http_code} %{http_version}']);
      if (plane === 'envoy') expect(r.out.trim(), r.out).to.equal('200 2');
      else expect(r.code, r.out).to.not.equal(0);
    });

    it('openssl s_client without a client certificate gets a handshake alert', async function () {
      let out = '';
      try {
        const r = await run('openssl', ['s_client', '-connect', `${env.pod('payment-service').pod.ip}:8080`, '-CAfile', join(pemDir, 'root.pem')], { timeout: 10_000 });
        out = r.stdout + r.stderr;
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string };
        out = (e.stdout ?? '') + (e.stderr ?? '');
      }
      expect(out).to.match(/alert certificate required|alert handshake failure/);
    });
  });

  describe('hostile input, from the host', function () {
    it('malformed HTTP, oversized headers, TLS garbage and a slowloris client leave the sidecar serving', async function () {
      const { connect } = await import('node:net');
      const ledger = env.pod('ledger').pod.ip;
      const payment = env.pod('payment-service').pod.ip;
      const send = (host: string, port: number, bytes: string | Buffer): Promise<string> =>
        new Promise((resolve) => {
          const s = connect(port, host, () => s.write(bytes));
          let data = '';
          s.on('data', (d: Buffer) => (data += d.toString('latin1')));
          s.on('close', () => resolve(data));
          s.on('error', () => undefined);
          setTimeout(() => s.destroy(), 3_000);
        });
      expect(await send(ledger, 9080, 'NOT HTTP AT ALL\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
      expect(await send(ledger, 9080, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`)).to.match(/^HTTP\/1\.1 431/);
      expect(await send(payment, 8080, Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), Buffer.alloc(64, 0x7a)]))).to.not.match(/HTTP/);
      const slow = connect(9080, ledger);
      slow.on('error', () => undefined);
      slow.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => slow.write('X-A: b\r\n'), 100);
      try {
        expectCall(await env.call('order-client', { to: 'payment-service', method: 'POST', path: '/pay/after-abuse', timeoutMs: 2_000 }), allowed());
        expectCall(await env.call('legacy-client', { to: 'ledger', port: 9080, path: '/after-abuse', timeoutMs: 2_000 }), allowed());
      } finally {
        clearInterval(drip);
        slow.destroy();
      }
      expect(await env.pod('payment-service').pod.sidecar!.isRunning()).to.equal(true);
      expect(await env.pod('ledger').pod.sidecar!.isRunning()).to.equal(true);
    });
  });

  describe('HTTP/1 edges on a PERMISSIVE port, as Envoy 1.40 under istiod answers them (measured live)', function () {
    // [request bytes, status line, access-log line [status, flags, details, method, path, authority], what the app saw]
    const EDGES: [name: string, bytes: string, status: string, log: [number, string, string, string, string, string], app: string | undefined][] = [
      ['HTTP/1.0 is refused by the codec (istiod leaves accept_http_10 off)', 'GET /edge/a HTTP/1.0\r\nHost: ledger:9080\r\n\r\n', 'HTTP/1.1 426 Upgrade Required', [426, 'DPE', 'low_version', '', '', ''], undefined],
      ['HTTP/1.0 without Host likewise', 'GET /edge/b HTTP/1.0\r\n\r\n', 'HTTP/1.1 426 Upgrade Required', [426, 'DPE', 'low_version', '', '', ''], undefined],
      ['HTTP/0.9 (no version) likewise', 'GET /edge/c\r\n\r\n', 'HTTP/1.1 426 Upgrade Required', [426, 'DPE', 'low_version', '', '', ''], undefined],
      ['HTTP/1.1 without Host: 400, logged with its method and path', 'GET /edge/d HTTP/1.1\r\nConnection: close\r\n\r\n', 'HTTP/1.1 400 Bad Request', [400, '-', 'missing_host_header', 'GET', '/edge/d', ''], undefined],
      ['absolute-form: the authority comes from the URI, not Host', 'POST http://other.example/edge/e HTTP/1.1\r\nHost: ledger:9080\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'HTTP/1.1 200 OK', [200, '-', 'via_upstream', 'POST', '/edge/e', 'other.example'], 'POST /edge/e other.example'],
      ['an unknown method token is a codec error', 'FOO /edge/f HTTP/1.1\r\nHost: ledger:9080\r\nConnection: close\r\n\r\n', 'HTTP/1.1 400 Bad Request', [400, 'DPE', 'http1.codec_error', '', '', ''], undefined],
      ['a lower-case method is a codec error', 'get /edge/g HTTP/1.1\r\nHost: ledger:9080\r\nConnection: close\r\n\r\n', 'HTTP/1.1 400 Bad Request', [400, 'DPE', 'http1.codec_error', '', '', ''], undefined],
    ];
    for (const [name, bytes, status, log, app] of EDGES) {
      it(name, async function () {
        const e = await env.call('legacy-client', { to: 'ledger', port: 9080, protocol: 'tcp', body: bytes, timeoutMs: 3_000 });
        const reply = e.observation.body ?? '';
        expect(reply.split('\r\n')[0], reply).to.equal(status);
        expect(reply, 'the server header istiod sets').to.match(/\r\nserver: istio-envoy\r\n/i);
        // Only this call's lines: the hostile-input test's slowloris (from the host) is logged DC when it goes.
        const from = env.pod('legacy-client').pod.ip;
        const lines = (e.accessLog ?? []).filter((l) => l.direction === 'inbound' && l.downstreamAddress?.startsWith(`${from}:`) === true);
        expect(lines.map((l) => [l.status, l.responseFlags, l.responseCodeDetails ?? '', l.method ?? '', l.path ?? '', l.authority ?? ''])).to.deep.equal([log]);
        expect((e.serverSaw ?? []).map((r) => `${r.method} ${r.path} ${String(r.headers['host'])}`)).to.deep.equal(app === undefined ? [] : [app]);
      });
    }
  });

  describe('at run time', function () {
    it('a new certificate for payment-service is what the next handshake presents', async function () {
      const next = await env.rotateCertificates('payment-service');
      await awaitConvergence(
        async () => {
          const e = await env.call('order-client', { to: 'payment-service', protocol: 'tls-handshake' });
          const seen = e.observation.tls?.peerChain[0]?.fingerprint256;
          return seen === next.fingerprint256 ? undefined : new Error(`server still presents ${seen}`);
        },
        { name: 'rotated certificate in use', timeoutMs: 10_000, intervalMs: 100, consecutiveSuccesses: 1 },
      );
    });

    it('apply(): prod-namespace PERMISSIVE lets plaintext in, where the authorization policy then denies it (403, not reset)', async function () {
      const permissive = load(`${LEDGER_MODES}---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: prod-permissive, namespace: prod-namespace, creationTimestamp: "2020-01-01T00:00:00Z"}
spec: {mtls: {mode: PERMISSIVE}}
`);
      expect(permissive.workloads.find((w) => w.name === 'payment-service')?.mtlsMode).to.equal('PERMISSIVE');
      const applied: EventMap['mesh:applied'][] = [];
      const unsubscribe = subscribe('mesh:applied', (m) => applied.push(m));
      try {
        await env.apply(permissive);
      } finally {
        unsubscribe();
      }
      expect(env.generation).to.equal(2);
      expect(applied.map((a) => [a.generation, a.sidecars])).to.deep.equal([[2, 4]]);
      // The same sidecar processes, changed in place as istiod pushes.
      expect(await env.pod('payment-service').pod.sidecar!.isRunning()).to.equal(true);
      // Envoy's uptime counts from before the first test: the process was not restarted to take the change.
      // (The gauge is refreshed at each stats flush, every 5 s: it may read up to that much behind.)
      if (plane === 'envoy') expect((await env.metrics('payment-service')).value('envoy_server_uptime')).to.be.at.least(Math.floor((performance.now() - startedAt) / 1000) - 6);
      expectCall(await env.call('legacy-client', { to: 'payment-service', method: 'POST', path: '/pay/1' }), and(denied403(), appNeverSaw()));
      expectCall(await env.call('order-client', { to: 'payment-service', method: 'POST', path: '/pay/1' }), allowed());
    });
  });
});
}
