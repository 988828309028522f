/**
 * The reference sidecar's outbound side, in this process: a client sidecar in front of four
 * echo replicas, each behind its own reference sidecar with its own mesh certificate, rendered
 * from DestinationRules and VirtualServices at time scale 0.02 (interval 10s → 200 ms, base
 * ejection 30s → 600 ms). Several services select the same four replicas, one per policy under
 * test, so each keeps its own cluster state. Both ends are observed: what the client's app got
 * (status, flags header, replica) and what the apps received.
 */
import { expect } from 'chai';
import { Client } from 'undici';
import { MeshCa } from '../../../../pki/mesh-ca.ts';
import type { EchoMode } from '../../../../traffic/types.ts';
import { LocalMesh, type LocalResponse } from '../../testing/local-mesh.ts';

const SCALE = 0.02;
const INTERVAL = 10_000 * SCALE;
const BASE = 30_000 * SCALE;
const REPLICAS = ['payment-0.prod', 'payment-1.prod', 'payment-2.prod', 'payment-3.prod'];

const services = ['payment', 'pay-cap', 'pay-all', 'pay-panic', 'pay-pool', 'pay-retry', 'pay-noretry', 'pay-timeout', 'pay-pertry', 'pay-fault', 'pay-delay'];
const TOPOLOGY = `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod]
workloads:
- {name: payment, namespace: prod, serviceAccount: payment-sa, labels: {app: payment}, replicas: 4, ports: [{port: 18080, protocol: http}, {port: 18090, protocol: tcp}]}
- {name: impostor, namespace: prod, serviceAccount: impostor-sa, labels: {app: impostor}, ports: [{port: 18080, protocol: http}]}
- {name: ledger, namespace: prod, serviceAccount: ledger-sa, labels: {app: ledger}, ports: [{port: 19090, protocol: http}]}
services:
${services.map((s) => `- {name: ${s}, namespace: prod, selector: {app: payment}, ports: [{port: 80, targetPort: 18080}]}`).join('\n')}
- {name: pay-tcp, namespace: prod, selector: {app: payment}, ports: [{port: 9000, targetPort: 18090}]}
- {name: ledger, namespace: prod, selector: {app: ledger}, ports: [{port: 80, targetPort: 19090}]}
clients:
- {name: order-client, namespace: prod, serviceAccount: order-sa}
`;

const dr = (host: string, trafficPolicy: string): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${host}, namespace: prod}
spec:
  host: ${host}
  trafficPolicy: ${trafficPolicy}
`;
const vs = (host: string, route: string): string => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${host}, namespace: prod}
spec:
  hosts: [${host}]
  http:
  - route: [{destination: {host: ${host}}}]
    ${route}
`;
const SEED_OUTLIER = '{outlierDetection: {consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}}';
const POLICIES = [
  `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: prod}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ledger, namespace: prod}
spec: {selector: {matchLabels: {app: ledger}}, mtls: {mode: DISABLE}}
`,
  // Round robin stated where a test counts on it: Istio's default is LEAST_REQUEST.
  dr('payment', '{loadBalancer: {simple: ROUND_ROBIN}, outlierDetection: {consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}}'),
  dr('pay-cap', SEED_OUTLIER),
  dr('pay-all', '{outlierDetection: {consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100}}'),
  dr('pay-panic', '{outlierDetection: {consecutive5xxErrors: 1, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100, minHealthPercent: 50}}'),
  dr('pay-pool', '{connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}}'),
  // Istio's circuit-breaking task: 1 connection, 1 pending request, 1 request per connection (one replica).
  dr('ledger', '{connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}}}'),
  vs('pay-retry', 'retries: {attempts: 3, retryOn: 5xx}'),
  vs('pay-noretry', 'retries: {attempts: 0}'),
  vs('pay-timeout', 'timeout: 5s'),
  dr('pay-timeout', '{loadBalancer: {simple: ROUND_ROBIN}}'),
  vs('pay-pertry', 'retries: {attempts: 2, perTryTimeout: 2.5s, retryOn: "5xx"}'),
  vs('pay-fault', 'fault: {abort: {httpStatus: 418, percentage: {value: 50}}}'),
  vs('pay-delay', 'timeout: 1s\n    fault: {delay: {fixedDelay: 5s, percentage: {value: 100}}}'),
].join('');

describe('reference sidecar, outbound (in-process, four replicas)', function () {
  this.timeout(30_000);
  let ca: MeshCa;
  let mesh: LocalMesh;

  const setMode = (pods: readonly string[], mode: EchoMode): void => {
    for (const p of pods) mesh.replica(p).echo.setMode(mode);
  };
  const received = (pods: readonly string[] = REPLICAS): number => pods.reduce((n, p) => n + mesh.replica(p).echo.lastRequestId(), 0);
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const text = await mesh.admin('/stats/prometheus');
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  };
  const cluster = (service: string): string => `outbound|80||${service}.prod.svc.cluster.local`;
  const ejected = async (service: string): Promise<string[]> => {
    const json = JSON.parse(await mesh.admin('/clusters?format=json')) as { cluster_statuses: { name: string; host_statuses: { hostname: string; health_status: { failed_outlier_check?: boolean } }[] }[] };
    const c = json.cluster_statuses.find((x) => x.name === cluster(service));
    return (c?.host_statuses ?? []).filter((h) => h.health_status.failed_outlier_check === true).map((h) => h.hostname);
  };
  const byAddress = (address: string): string => REPLICAS.find((p) => mesh.address(p) === address) ?? address;
  /** `count` sequential requests. */
  const requests = async (service: string, count: number): Promise<LocalResponse[]> => {
    const out: LocalResponse[] = [];
    for (let i = 0; i < count; i++) out.push(await mesh.request(`${service}:80`, '/n'));
    return out;
  };
  /** Sequential requests for `ms`, one every `spacing` ms: time, replica and status of each. */
  const drive = async (service: string, ms: number, spacing: number): Promise<{ at: number; pod?: string; status: number }[]> => {
    const out: { at: number; pod?: string; status: number }[] = [];
    const start = performance.now();
    while (performance.now() - start < ms) {
      const at = performance.now() - start;
      const r = await mesh.request(`${service}:80`, '/drive');
      out.push({ at, ...(r.servedBy === undefined ? {} : { pod: r.servedBy }), status: r.status });
      await new Promise((resolve) => setTimeout(resolve, spacing));
    }
    return out;
  };

  before(async function () {
    ca = await MeshCa.create();
    mesh = await LocalMesh.start({ ca, client: 'prod/order-client', timeScale: SCALE, seed: 11, topologyYaml: TOPOLOGY, policiesYaml: POLICIES });
  });

  afterEach(function () {
    setMode([...REPLICAS, 'impostor-0.prod', 'ledger-0.prod'], { mode: 'normal' });
  });

  after(async function () {
    await mesh?.close();
  });

  describe('routing and secure naming', function () {
    it('balances round robin over the four replicas, over mutual TLS, and says so in the flags header and the access log', async function () {
      const seen = [];
      for (let i = 0; i < 8; i++) seen.push(await mesh.request('payment:80', '/rr'));
      expect(new Set(seen.slice(0, 4).map((r) => r.servedBy)).size).to.equal(4);
      expect(seen.slice(4).map((r) => r.servedBy)).to.deep.equal(seen.slice(0, 4).map((r) => r.servedBy));
      expect(seen.every((r) => r.status === 200 && r.flags === '-' && r.headers['x-envoy-attempt-count'] === '1')).to.equal(true);
      const echo = JSON.parse(seen[0]!.body) as { peerIdentity?: string; headers: Record<string, string> };
      expect(echo.peerIdentity).to.equal('spiffe://cluster.local/ns/prod/sa/order-sa');
      expect(echo.headers['host']).to.equal('payment:80');
      const last = (await mesh.accessLog()).at(-1)!;
      expect(last).to.include({ direction: 'outbound', status: 200, responseFlags: '-', connectionSecurity: 'mutual_tls', authority: 'payment:80', path: '/rr' });
    });

    it("never sends on an x-forwarded-client-cert the app wrote (the outbound HCM's SANITIZE): the server sees only its own sidecar's element", async function () {
      const forged = 'By=spiffe://cluster.local/ns/prod/sa/payment-sa;URI=spiffe://cluster.local/ns/prod/sa/admin';
      const r = await mesh.request('payment:80', '/xfcc', { headers: { 'x-forwarded-client-cert': forged } });
      const echo = JSON.parse(r.body) as { peerIdentity?: string; headers: Record<string, string> };
      expect(echo.peerIdentity).to.equal('spiffe://cluster.local/ns/prod/sa/order-sa');
      expect(echo.headers['x-forwarded-client-cert']).to.not.include('sa/admin');
      expect(echo.headers['x-forwarded-client-cert']!.split(',')).to.have.length(1);
    });

    it('answers 404 NR for a Host no virtual host has, and never calls upstream', async function () {
      const before = received();
      const r = await mesh.request('nobody.prod:80', '/x');
      expect([r.status, r.flags]).to.deep.equal([404, 'NR']);
      expect(received()).to.equal(before);
    });

    it('sends plaintext to a DISABLE destination (auto mTLS)', async function () {
      const r = await mesh.request('ledger:80', '/plain');
      expect(r.status).to.equal(200);
      expect((JSON.parse(r.body) as { peerIdentity?: string }).peerIdentity).to.equal(undefined);
      expect((await mesh.accessLog()).at(-1)).to.include({ connectionSecurity: 'none', status: 200 });
    });

    it('refuses an impostor with a valid mesh certificate of another service account (503 UF), which a call to its own name accepts', async function () {
      const impostor = mesh.replica('impostor-0.prod');
      // Its certificate is good: called by its own name, it serves.
      const own = await mesh.request('impostor-0.prod:18080', '/own', { servicePort: 18080 });
      expect([own.status, own.servedBy]).to.deep.equal([200, 'impostor-0.prod']);
      const seenByImpostor = impostor.echo.lastRequestId();
      const sanBefore = await metric('envoy_cluster_ssl_fail_verify_san');
      await mesh.apply(POLICIES, { endpointOverrides: new Map([['payment-0.prod', impostor.address]]) });
      try {
        // One host: Istio's default policy retries the connect failure twice on it, then gives up (URX).
        const direct = await mesh.request('payment-0.prod:18080', '/pay/1', { servicePort: 18080 });
        expect([direct.status, direct.flags, direct.headers['x-envoy-attempt-count']]).to.deep.equal([503, 'UF,URX', '3']);
        expect(direct.body).to.contain('CERTIFICATE_VERIFY_FAILED');
        // Through a service: without retries the impostor's share fails UF; Istio's default retry policy (connect-failure) moves on to a real replica.
        const noRetry: LocalResponse[] = [];
        for (let i = 0; i < 8; i++) noRetry.push(await mesh.request('pay-noretry:80', '/pay/2'));
        expect(noRetry.filter((r) => r.status !== 200).map((r) => [r.status, r.flags])).to.deep.equal([[503, 'UF'], [503, 'UF']]);
        for (let i = 0; i < 8; i++) {
          const r = await mesh.request('pay-timeout:80', '/pay/3');
          expect([r.status, r.flags]).to.deep.equal([200, '-']);
          expect(r.servedBy).to.be.oneOf(REPLICAS.slice(1));
        }
        expect(impostor.echo.lastRequestId()).to.equal(seenByImpostor);
        expect(await metric('envoy_cluster_ssl_fail_verify_san')).to.be.greaterThan(sanBefore);
      } finally {
        await mesh.apply(POLICIES);
      }
    });

    it('proxies a TCP service port over mutual TLS', async function () {
      const l = mesh.outbound.listeners.find((x) => x.protocol === 'tcp' && x.name.includes('pay-tcp'))!;
      const client = new Client(`http://${mesh.outboundAddress}:${l.port}`);
      try {
        const r = await client.request({ method: 'GET', path: '/tcp' });
        expect(r.statusCode).to.equal(200);
        expect((await r.body.json()) as { pod: string }).to.have.property('pod').that.is.oneOf(REPLICAS);
      } finally {
        await client.destroy();
      }
      // A TCP line is written when the connection closes.
      const logged = async (): Promise<boolean> => (await mesh.accessLog()).some((e) => e.responseFlags === '-' && e.connectionSecurity === 'mutual_tls' && e.status === 0);
      for (let i = 0; i < 50 && !(await logged()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await logged()).to.equal(true);
    });
  });

  describe('outlier detection (consecutive5xxErrors 3, interval 10s, baseEjectionTime 30s, maxEjectionPercent 50)', function () {
    it('ejects a failing replica after 3 consecutive 5xx, sends it nothing until the ejection ends, and the second ejection lasts twice as long', async function () {
      await requests('payment', 4); // connections up, so that timing below is the policy's
      setMode(['payment-1.prod'], { mode: 'fail' });
      const samples = await drive('payment', 3 * BASE + 2 * INTERVAL + 150, 3);
      const failing = samples.filter((s) => s.pod === 'payment-1.prod');
      expect(failing.every((s) => s.status === 503)).to.equal(true);
      // Bursts of 3 failures separated by ejections.
      const gaps = failing.slice(1).map((s, i) => ({ after: i + 1, ms: s.at - failing[i]!.at })).filter((g) => g.ms > INTERVAL);
      expect(gaps.map((g) => g.after)).to.deep.equal([3, 6]);
      const [first, second] = gaps as unknown as [{ ms: number }, { ms: number }];
      expect(first.ms).to.be.within(BASE, BASE + INTERVAL + 100);
      expect(second.ms).to.be.within(2 * BASE, 2 * BASE + INTERVAL + 100);
      // Between the bursts, the other replicas served everything.
      expect(samples.filter((s) => s.pod !== 'payment-1.prod').every((s) => s.status === 200)).to.equal(true);
      // Every third failure ejected it: the counter agrees with the traffic.
      expect(await metric('envoy_cluster_outlier_detection_ejections_enforced_consecutive_5xx', { cluster_name: cluster('payment') })).to.equal(Math.floor(failing.length / 3)).and.to.be.at.least(2);
    });

    it('shows the ejection in /clusters and ejections_active while it lasts', async function () {
      setMode(['payment-2.prod'], { mode: 'fail' });
      await requests('pay-cap', 12);
      expect((await ejected('pay-cap')).map(byAddress)).to.deep.equal(['payment-2.prod']);
      expect(await metric('envoy_cluster_outlier_detection_ejections_active', { cluster_name: cluster('pay-cap') })).to.equal(1);
      setMode(['payment-2.prod'], { mode: 'normal' });
      const start = performance.now();
      while ((await ejected('pay-cap')).length > 0 && performance.now() - start < 5_000) await new Promise((r) => setTimeout(r, 20));
      expect(performance.now() - start).to.be.below(BASE + INTERVAL + 200);
      expect(await metric('envoy_cluster_outlier_detection_ejections_active', { cluster_name: cluster('pay-cap') })).to.equal(0);
    });

    it('with 3 of 4 failing ejects at most 2 (Envoy ≥ 1.28: 100 × (ejected + 1) / 4 ≤ 50), counting the third as overflow', async function () {
      setMode(['payment-1.prod', 'payment-2.prod', 'payment-3.prod'], { mode: 'fail' });
      const overflowBefore = await metric('envoy_cluster_outlier_detection_ejections_overflow', { cluster_name: cluster('pay-cap') });
      let most = 0;
      const start = performance.now();
      while (performance.now() - start < BASE / 2) {
        await mesh.request('pay-cap:80', '/cap');
        most = Math.max(most, (await ejected('pay-cap')).length);
      }
      expect(most).to.equal(2);
      expect(await metric('envoy_cluster_outlier_detection_ejections_active', { cluster_name: cluster('pay-cap') })).to.equal(2);
      expect(await metric('envoy_cluster_outlier_detection_ejections_overflow', { cluster_name: cluster('pay-cap') })).to.be.greaterThan(overflowBefore);
    });

    it('with every replica ejected and no panic threshold, answers 503 UH without calling any app', async function () {
      setMode(REPLICAS, { mode: 'fail' });
      await requests('pay-all', 12);
      expect(await ejected('pay-all')).to.have.length(4);
      const before = received();
      const r = await mesh.request('pay-all:80', '/uh');
      expect([r.status, r.flags, r.body]).to.deep.equal([503, 'UH', 'no healthy upstream']);
      expect(received()).to.equal(before);
    });

    it('below minHealthPercent routes to every host, ejected ones included (panic)', async function () {
      setMode(['payment-1.prod', 'payment-2.prod', 'payment-3.prod'], { mode: 'fail' });
      await requests('pay-panic', 8);
      expect(await ejected('pay-panic')).to.have.length(3);
      const samples = (await requests('pay-panic', 12)).map((r) => ({ status: r.status, pod: r.servedBy }));
      expect(samples.every((s) => s.status !== 503 || s.pod !== undefined)).to.equal(true);
      expect(new Set(samples.map((s) => s.pod)).size).to.equal(4);
      expect(await metric('envoy_cluster_lb_healthy_panic', { cluster_name: cluster('pay-panic') })).to.be.greaterThan(0);
    });
  });

  describe('connection pool, retries, timeouts, faults', function () {
    it('overflows a pool of 1 connection and 1 pending request under concurrent load: 503 UO, x-envoy-overloaded, and the counter agrees', async function () {
      setMode(REPLICAS, { mode: 'slow', delayMs: 60 });
      const appsBefore = received();
      const overflowBefore = await metric('envoy_cluster_upstream_rq_pending_overflow', { cluster_name: cluster('pay-pool') });
      const results = await mesh.load('pay-pool:80', 40, 10);
      const overflowed = results.filter((r) => r.status === 503);
      expect(overflowed.length).to.be.greaterThan(0);
      expect(overflowed.every((r) => r.flags === 'UO' && r.headers['x-envoy-overloaded'] === 'true')).to.equal(true);
      expect((await metric('envoy_cluster_upstream_rq_pending_overflow', { cluster_name: cluster('pay-pool') })) - overflowBefore).to.equal(overflowed.length);
      expect(received() - appsBefore).to.equal(results.filter((r) => r.status === 200).length);
      // The same load on a service without limits overflows nothing.
      const unlimited = await mesh.load('pay-noretry:80', 40, 10);
      expect(unlimited.filter((r) => r.status !== 200)).to.deep.equal([]);
    });

    it("with 1 request per connection, the next request's connection opens while the last one's request is in flight (Envoy's draining list)", async function () {
      // Envoy moves a connection carrying its last allowed request to its draining list, and a host
      // with no ready, busy or connecting connection opens one whatever max_connections says. So
      // the second of two concurrent requests does not wait for the first to finish.
      const delayMs = 400;
      setMode(['ledger-0.prod'], { mode: 'slow', delayMs });
      // The first request is on its connection (and in the app) before the second is sent.
      const first = mesh.load('ledger:80', 1, 1, '/first');
      await new Promise((resolve) => setTimeout(resolve, delayMs / 4));
      const second = (await mesh.load('ledger:80', 1, 1, '/second'))[0]!;
      expect([(await first)[0]!.status, second.status]).to.deep.equal([200, 200]);
      // Waiting for the first to finish would take it past 1.75 delays; a fresh connection takes milliseconds.
      expect(second.durationMs).to.be.lessThan(delayMs * 1.5);
    });

    it('retries absorb a seeded 20% 503 rate with attempts 3 on 5xx, where no retries let it through', async function () {
      setMode(REPLICAS, { mode: 'mix', codes: '503:20,200:80' });
      const count = 200;
      const appsBefore = received();
      const retriesBefore = await metric('envoy_cluster_upstream_rq_retry', { cluster_name: cluster('pay-retry') });
      const withRetries: LocalResponse[] = [];
      for (let i = 0; i < count; i++) withRetries.push(await mesh.request('pay-retry:80', '/r'));
      const failed = withRetries.filter((r) => r.status !== 200).length;
      const retries = (await metric('envoy_cluster_upstream_rq_retry', { cluster_name: cluster('pay-retry') })) - retriesBefore;
      expect(failed).to.be.at.most(3);
      expect(retries).to.be.within(15, 80);
      expect(received() - appsBefore).to.equal(count + retries);
      const noRetries: LocalResponse[] = [];
      for (let i = 0; i < count; i++) noRetries.push(await mesh.request('pay-noretry:80', '/n'));
      expect(noRetries.filter((r) => r.status === 503).length).to.be.within(20, 65);
    });

    it('gives up after the last retry with URX, having tried four different replicas', async function () {
      setMode(REPLICAS, { mode: 'fail' });
      const before = REPLICAS.map((p) => mesh.replica(p).echo.lastRequestId());
      const r = await mesh.request('pay-retry:80', '/urx');
      expect([r.status, r.flags, r.headers['x-envoy-attempt-count']]).to.deep.equal([503, 'URX', '4']);
      expect(REPLICAS.map((p, i) => mesh.replica(p).echo.lastRequestId() - before[i]!)).to.deep.equal([1, 1, 1, 1]);
    });

    it('answers 504 UT when a slow replica passes the route timeout (5s × 0.02), and counts upstream_rq_timeout', async function () {
      setMode(['payment-2.prod'], { mode: 'slow', delayMs: 500 });
      const before = await metric('envoy_cluster_upstream_rq_timeout', { cluster_name: cluster('pay-timeout') });
      const results: LocalResponse[] = [];
      for (let i = 0; i < 8; i++) results.push(await mesh.request('pay-timeout:80', '/t'));
      const timedOut = results.filter((r) => r.status === 504);
      expect(timedOut).to.have.length(2);
      expect(timedOut.every((r) => r.flags === 'UT' && r.body === 'upstream request timeout' && r.durationMs >= 100 && r.durationMs < 400)).to.equal(true);
      expect((await metric('envoy_cluster_upstream_rq_timeout', { cluster_name: cluster('pay-timeout') })) - before).to.equal(2);
    });

    it('retries a per-try timeout when retryOn has 5xx, on another replica', async function () {
      setMode(['payment-2.prod'], { mode: 'slow', delayMs: 500 });
      const results: LocalResponse[] = [];
      for (let i = 0; i < 8; i++) results.push(await mesh.request('pay-pertry:80', '/p'));
      expect(results.every((r) => r.status === 200 && r.servedBy !== 'payment-2.prod')).to.equal(true);
      expect(results.filter((r) => r.headers['x-envoy-attempt-count'] === '2').length).to.be.at.least(1);
      expect(await metric('envoy_cluster_upstream_rq_per_try_timeout', { cluster_name: cluster('pay-pertry') })).to.be.at.least(1);
    });

    it('aborts about half the requests with 418 "fault filter abort" (FI) before any app sees them, the same ones for the same seed', async function () {
      const run = async (): Promise<number[]> => {
        const statuses: number[] = [];
        for (let i = 0; i < 60; i++) statuses.push((await mesh.request('pay-fault:80', '/f')).status);
        return statuses;
      };
      const appsBefore = received();
      const first = await run();
      const aborted = first.filter((s) => s === 418).length;
      expect(aborted).to.be.within(18, 42);
      expect(received() - appsBefore).to.equal(60 - aborted);
      const log = (await mesh.accessLog()).filter((e) => e.authority === 'pay-fault:80');
      expect(log.filter((e) => e.responseFlags === 'FI' && e.responseCodeDetails === 'fault_filter_abort')).to.have.length(aborted);
      await mesh.apply(POLICIES, { seed: 12 });
      const other = await run();
      await mesh.apply(POLICIES, { seed: 11 });
      const again = await run();
      expect(other).to.not.deep.equal(first);
      // Re-seeding restarts the stream: a new sidecar with seed 11 would draw these same rolls.
      expect(again).to.deep.equal(first);
    });

    it('delays before the router (DI): a 100 ms fault delay is not cut by a 20 ms route timeout', async function () {
      const r = await mesh.request('pay-delay:80', '/d');
      expect([r.status, r.flags]).to.deep.equal([200, 'DI']);
      expect(r.durationMs).to.be.at.least(95);
    });
  });
});
