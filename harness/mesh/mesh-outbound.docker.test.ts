/**
 * The circuit-breaker promise in containers: an in-mesh client's own reference sidecar applies
 * the seed's DestinationRule (consecutive5xxErrors 3, interval 10s, baseEjectionTime 30s,
 * maxEjectionPercent 50) to four replicas of payment-service, at time scale 0.05 (interval
 * 500 ms, base ejection 1.5 s). Load comes from inside the client pod (its echo agent's
 * forwarder → its sidecar → mTLS → each replica's sidecar → app); faults are the replicas' echo
 * modes. What the traffic showed is compared with the client sidecar's metrics and /clusters.
 *
 * More services select the same four pods, one per policy under test (each is its own cluster
 * with its own state): payment-again (the seed's rule again), payment-pool (1 connection, 1
 * pending request), payment-retry (3 retries on 5xx), payment-noretry (attempts 0),
 * payment-timeout (10 s route timeout). An impostor pod holds a valid mesh certificate for
 * another service account.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ReferenceDataPlane } from '../dataplane/reference/reference-data-plane.ts';
import { policiesFromYaml } from '../model/load-policies.ts';
import { resolveMesh } from '../model/resolve.ts';
import { topologyFromYaml } from '../model/topology.ts';
import { MeshCa } from '../pki/mesh-ca.ts';
import { projectRoot } from '../project-root.ts';
import { DockerRuntime } from '../runtime/docker/docker-runtime.ts';
import { gaugeDisagreement, sampleClusterWhile, steady, type ClusterSample } from './cluster-sampler.ts';
import { MeshEnvironment } from './mesh-environment.ts';
import type { MeshForwardEvidence } from './mesh-forward.ts';

const SCALE = 0.05;
const INTERVAL = 10_000 * SCALE;
const BASE = 30_000 * SCALE;
/** Scheduling slack on a loaded 2-core machine (containers, two sidecars per request). */
const SLACK = 300;
const NS = 'prod-namespace';
const REPLICAS = [0, 1, 2, 3].map((i) => `payment-service-${i}.${NS}`);
const SERVICES = ['payment-service', 'payment-again', 'payment-pool', 'payment-retry', 'payment-noretry', 'payment-timeout'];

const TOPOLOGY = `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [${NS}]
workloads:
- {name: payment-service, namespace: ${NS}, serviceAccount: payment-service-sa, labels: {app: payment-service}, replicas: 4, ports: [{port: 8080, protocol: http}]}
- {name: impostor, namespace: ${NS}, serviceAccount: impostor-sa, labels: {app: impostor}, ports: [{port: 8080, protocol: http}]}
services:
${SERVICES.map((s) => `- {name: ${s}, namespace: ${NS}, selector: {app: payment-service}, ports: [{port: 80, targetPort: 8080}]}`).join('\n')}
clients:
- {name: order-client, namespace: ${NS}, serviceAccount: order-service-sa}
`;

// The seed's rule, balancing round robin as the timing of these tests assumes (Istio's default is LEAST_REQUEST).
const seedRule = readFileSync(join(projectRoot, 'fixtures/seed/destination-rule.yaml'), 'utf8').replace('  trafficPolicy:\n', '  trafficPolicy:\n    loadBalancer: {simple: ROUND_ROBIN}\n');
const EXTRA = `
---
${seedRule.replace('name: payment-service-cb', 'name: payment-again-cb').replace('host: payment-service', 'host: payment-again')}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payment-pool, namespace: ${NS}}
spec: {host: payment-pool, trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payment-retry, namespace: ${NS}}
spec: {hosts: [payment-retry], http: [{route: [{destination: {host: payment-retry}}], retries: {attempts: 3, retryOn: 5xx}}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payment-noretry, namespace: ${NS}}
spec: {hosts: [payment-noretry], http: [{route: [{destination: {host: payment-noretry}}], retries: {attempts: 0}}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payment-timeout, namespace: ${NS}}
spec: {hosts: [payment-timeout], http: [{route: [{destination: {host: payment-timeout}}], timeout: 10s}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payment-timeout, namespace: ${NS}}
spec: {host: payment-timeout, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}}
`;

const clusterName = (service: string): string => `outbound|80||${service}.${NS}.svc.cluster.local`;

describe('client-side circuit breaking with the reference sidecar (containers, 4 replicas)', function () {
  this.timeout(300_000);
  let runtime: DockerRuntime;
  let env: MeshEnvironment;
  const metric = async (name: string, service: string): Promise<number> => (await env.metrics('order-client')).value(name, { cluster_name: clusterName(service) });
  /** /clusters and the ejections_active gauge of order-client's sidecar, sampled every `everyMs` while `during` runs (times in epoch ms). */
  const sampling = <T>(service: string, everyMs: number, during: Promise<T>): Promise<{ result: T; samples: ClusterSample[] }> =>
    sampleClusterWhile(env, 'order-client', clusterName(service), 0, everyMs, during);
  const by = (f: MeshForwardEvidence, pod: string) => f.results.filter((r) => r.servedBy === pod);

  before(async function () {
    runtime = await DockerRuntime.start();
    const ca = await MeshCa.create();
    const policies = [readFileSync(join(projectRoot, 'fixtures/seed/peer-authentication.yaml'), 'utf8'), seedRule, EXTRA].join('\n---\n');
    const mesh = resolveMesh(policiesFromYaml(policies), topologyFromYaml(TOPOLOGY));
    env = await MeshEnvironment.start({ runtime, mesh, dataPlane: new ReferenceDataPlane(), ca, seed: 7, timeScale: SCALE, timeouts: runtime.timeouts });
    // Connections up on every cluster, so that timings below are the policy's, not handshakes'.
    for (const s of SERVICES) await env.forward('order-client', { to: s, count: 8 });
  });

  afterEach(async function () {
    await env?.setEchoMode('payment-service', { mode: 'normal' });
  });

  after(async function () {
    await env?.close();
    await runtime?.close();
  });

  it('ejects a replica after 3 consecutive 5xx, sends it nothing until the ejection ends, and keeps it out twice as long the second time; metrics and /clusters agree', async function () {
    const failing = REPLICAS[1]!;
    await env.setEchoMode(failing, { mode: 'fail' });
    // 40 requests/s, one at a time: the failing replica gets every fourth (every 100 ms) while it is in.
    const { result: f, samples } = await sampling('payment-service', 100, env.forward('order-client', { to: 'payment-service', path: '/pay/1', count: 280, ratePerSecond: 40 }));
    const fails = by(f, failing);
    expect(fails.every((r) => r.status === 503 && r.responseFlags === '-')).to.equal(true);
    expect(f.results.filter((r) => r.servedBy !== failing).every((r) => r.status === 200)).to.equal(true);
    const gaps = fails.slice(1).map((r, i) => ({ after: i + 1, from: fails[i]!.startedAtMs, ms: r.startedAtMs - fails[i]!.startedAtMs })).filter((g) => g.ms > INTERVAL);
    expect(gaps.map((g) => g.after).slice(0, 2), `failures at ${fails.map((r) => r.startedAtMs).join(', ')} ms`).to.deep.equal([3, 6]);
    const [first, second] = gaps as unknown as [{ ms: number; from: number }, { ms: number; from: number }];
    expect(first.ms).to.be.within(BASE, BASE + INTERVAL + 100 + SLACK);
    expect(second.ms).to.be.within(2 * BASE, 2 * BASE + INTERVAL + 100 + SLACK);
    // The client sidecar counted what the traffic showed.
    expect(await metric('envoy_cluster_outlier_detection_ejections_enforced_consecutive_5xx', 'payment-service')).to.equal(Math.floor(fails.length / 3));
    expect(f.accessLog.filter((l) => l.upstreamHost === `${failing}:8080` && l.status === 503)).to.have.length(fails.length);
    // /clusters and ejections_active, sampled meanwhile: only the failing replica is ever ejected, only inside a traffic gap.
    // Ejected from each third failure until the next failure (or the end of the traffic).
    const end = Math.max(...f.results.map((r) => r.startedAtMs + r.durationMs));
    const windows = fails.flatMap((r, i) => (i % 3 === 2 ? [[f.startedAt + r.startedAtMs, f.startedAt + (fails[i + 1]?.startedAtMs ?? end)] as const] : []));
    const ejectedSamples = samples.filter((s) => s.ejected.length > 0);
    expect(ejectedSamples.length).to.be.greaterThan(3);
    for (const s of samples) {
      expect(s.ejected.every((h) => h === failing), `ejected at ${s.atMs - f.startedAt} ms: ${s.ejected.join(', ')}`).to.equal(true);
      if (steady(s)) expect(s.active, `ejections_active at ${s.atMs - f.startedAt} ms`).to.equal(s.ejected.length);
      expect(gaugeDisagreement(s), `at ${s.atMs - f.startedAt} ms`).to.equal(undefined);
    }
    // Most samples were stable, and the gauge was compared while a replica was ejected, not only at zero.
    expect(samples.filter(steady).length).to.be.greaterThan(samples.length * 0.8);
    expect(ejectedSamples.filter((s) => steady(s) && s.active === 1).length).to.be.greaterThan(2);
    for (const s of ejectedSamples) expect(windows.some(([from, to]) => s.atMs >= from - 50 && s.atMs <= to + 50), `ejected at ${s.atMs - f.startedAt} ms, outside every gap`).to.equal(true);
  });

  it('with 3 of 4 replicas failing ejects at most 2 (maxEjectionPercent 50), and counts the third as overflow', async function () {
    await env.setEchoMode(REPLICAS[1]!, { mode: 'fail' });
    await env.setEchoMode(REPLICAS[2]!, { mode: 'fail' });
    await env.setEchoMode(REPLICAS[3]!, { mode: 'fail' });
    const { result: f, samples } = await sampling('payment-again', 50, env.forward('order-client', { to: 'payment-again', count: 60, ratePerSecond: 50 }));
    const most = Math.max(...samples.map((s) => s.ejected.length));
    expect(most).to.equal(2);
    const stable = samples.filter(steady);
    expect(stable.length).to.be.greaterThan(samples.length * 0.8);
    expect(stable.every((s) => s.active === s.ejected.length)).to.equal(true);
    expect(stable.some((s) => s.active === 2)).to.equal(true);
    expect(await metric('envoy_cluster_outlier_detection_ejections_overflow', 'payment-again')).to.be.greaterThan(0);
    expect(by(f, REPLICAS[0]!).every((r) => r.status === 200)).to.equal(true);
    // The one failing replica left in keeps getting traffic and keeps failing.
    expect(f.results.filter((r) => r.status === 503).length).to.be.greaterThan(6);
  });

  it('overflows a pool of 1 connection and 1 pending request under concurrent load with 503 UO and x-envoy-overloaded; the counter and the apps agree', async function () {
    await env.setEchoMode('payment-service', { mode: 'slow', delayMs: 200 });
    const before = await metric('envoy_cluster_upstream_rq_pending_overflow', 'payment-pool');
    const f = await env.forward('order-client', { to: 'payment-pool', count: 40, concurrency: 10 });
    const overflowed = f.results.filter((r) => r.status === 503);
    expect(overflowed.length).to.be.greaterThan(0);
    expect(overflowed.every((r) => r.responseFlags === 'UO' && r.headers?.['x-envoy-overloaded'] === 'true')).to.equal(true);
    expect((await metric('envoy_cluster_upstream_rq_pending_overflow', 'payment-pool')) - before).to.equal(overflowed.length);
    const appsSaw = Object.values(f.received).reduce((a, b) => a + b, 0);
    expect(appsSaw).to.equal(f.results.filter((r) => r.status === 200).length);
    expect(f.accessLog.filter((l) => l.responseFlags === 'UO')).to.have.length(overflowed.length);
    // The seed's limits (100 connections, 100 pending) take the same load without overflow.
    const unlimited = await env.forward('order-client', { to: 'payment-noretry', count: 40, concurrency: 10 });
    expect(unlimited.results.filter((r) => r.status !== 200)).to.deep.equal([]);
  });

  it('retries (attempts 3 on 5xx) absorb a seeded 20% 503 rate that no-retries lets through', async function () {
    await env.setEchoMode('payment-service', { mode: 'mix', codes: '503:20,200:80' });
    const before = await metric('envoy_cluster_upstream_rq_retry', 'payment-retry');
    const f = await env.forward('order-client', { to: 'payment-retry', count: 200, concurrency: 4 });
    const retries = (await metric('envoy_cluster_upstream_rq_retry', 'payment-retry')) - before;
    const appsSaw = Object.values(f.received).reduce((a, b) => a + b, 0);
    expect(f.results.filter((r) => r.status !== 200).length).to.be.at.most(3);
    expect(retries).to.be.within(15, 90);
    expect(appsSaw).to.equal(200 + retries);
    const n = await env.forward('order-client', { to: 'payment-noretry', count: 200, concurrency: 4 });
    expect(n.results.filter((r) => r.status === 503).length).to.be.within(20, 65);
  });

  it('answers 504 UT when a slow replica passes the route timeout (10 s × 0.05), and counts upstream_rq_timeout', async function () {
    await env.setEchoMode(REPLICAS[2]!, { mode: 'slow', delayMs: 2_000 });
    const before = await metric('envoy_cluster_upstream_rq_timeout', 'payment-timeout');
    const f = await env.forward('order-client', { to: 'payment-timeout', count: 8 });
    const timedOut = f.results.filter((r) => r.status === 504);
    expect(timedOut).to.have.length(2);
    expect(timedOut.every((r) => r.responseFlags === 'UT' && r.body === 'upstream request timeout' && r.durationMs >= 500 && r.durationMs < 500 + 2 * SLACK)).to.equal(true);
    expect((await metric('envoy_cluster_upstream_rq_timeout', 'payment-timeout')) - before).to.equal(2);
  });

  it("refuses an impostor holding a valid mesh certificate for another service account (secure naming), which its own name is served with", async function () {
    const impostor = `impostor-0.${NS}`;
    const own = await env.call('order-client', { to: impostor, path: '/own' });
    expect(own.observation.status).to.equal(200);
    const impostorSaw = await env.pod(impostor).agent.lastRequestId();
    const sanBefore = (await env.metrics('order-client')).value('envoy_cluster_ssl_fail_verify_san');
    await env.redirectEndpoint(REPLICAS[0]!, impostor);
    try {
      const e = await env.call('order-client', { to: REPLICAS[0]!, method: 'POST', path: '/pay/1' });
      expect(e.observation.status).to.equal(503);
      expect(e.observation.headers?.['x-meshproof-response-flags']).to.equal('UF,URX');
      expect(e.accessLog?.filter((l) => l.direction === 'outbound').map((l) => l.responseCodeDetails)).to.deep.equal(['upstream_reset_before_response_started{connection_failure,TLS_error:CERTIFICATE_VERIFY_FAILED:SAN_mismatch}']);
      // Through the service, the default retry policy takes the next replica: nothing reaches the impostor.
      const f = await env.forward('order-client', { to: 'payment-noretry', count: 8 });
      expect(f.results.filter((r) => r.status === 503).map((r) => r.responseFlags)).to.deep.equal(['UF', 'UF']);
      expect(await env.pod(impostor).agent.lastRequestId()).to.equal(impostorSaw);
      expect((await env.metrics('order-client')).value('envoy_cluster_ssl_fail_verify_san')).to.be.greaterThan(sanBefore);
    } finally {
      await env.restoreEndpoints();
    }
    const back = await env.call('order-client', { to: REPLICAS[0]!, method: 'POST', path: '/pay/2' });
    expect([back.observation.status, back.observation.echo?.pod]).to.deep.equal([200, REPLICAS[0]]);
  });
});
