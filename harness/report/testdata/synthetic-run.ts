/**
 * A realistic synthetic run on the seed fixtures (payment-service, order-service-sa,
 * prod-namespace): CaseResults as the case runner would publish them, with every outcome, real
 * certificates from the mesh CA (and their private keys in the evidence, as real suites carry
 * them), an authorization matrix with one disagreement, a tls-check table, an ejection timeline
 * with metrics and an experiment journal. Used by the report's tests and for docs/report.png.
 *
 * It is synthetic: no mesh ran. Everything a real run would measure is made up here to look
 * like one (`MESHPROOF_…` codes, Envoy flags and details as the reference sidecar writes them).
 */
import type { CaseResult } from '../../conformance/case-runner.ts';
import type { CallEvidence } from '../../traffic/evidence.ts';
import type { Area, Feature } from '../../spec/features.ts';
import type { CaseOutcome } from '../../spec/outcome.ts';
import { resolveRunOptions } from '../../run/run-options.ts';
import { MeshCa } from '../../pki/mesh-ca.ts';
import type { WorkloadCredentials } from '../../pki/workload-credentials.ts';
import type { AccessLogEntry, CallRequest, Observation, PeerCertificate } from '../../traffic/types.ts';
import type { RunDescription } from '../build-report.ts';
import type { AuthzMatrixCell, EjectionTimeline, ExperimentJournal, MetricSample, RuleCoverage, TlsCheckRow, WireRow } from '../schema.ts';

const T0 = Date.parse('2026-11-23T02:00:04.000Z');
const TD = 'cluster.local';
const ns = 'prod-namespace';
const spiffe = (sa: string): string => `spiffe://${TD}/ns/${ns}/sa/${sa}`;

export interface SyntheticRun {
  readonly results: CaseResult[];
  readonly run: RunDescription;
  /** The client private key the evidence carries: must never appear in any report file. */
  readonly clientKeyPem: string;
  readonly clientCertPem: string;
}

function peer(creds: WorkloadCredentials): PeerCertificate {
  return { subject: '', issuer: 'O=cluster.local', uriSans: creds.uriSans, fingerprint256: creds.fingerprint256, validFrom: creds.notBefore.toISOString(), validTo: creds.notAfter.toISOString(), pem: creds.leafPem };
}

interface CallSpec {
  readonly label: string;
  readonly from: string;
  readonly to?: string;
  readonly request: CallRequest;
  readonly outcome: Observation['outcome'];
  readonly status?: number;
  readonly body?: string;
  readonly servedBy?: string;
  readonly peerIdentity?: string;
  readonly appPath?: string;
  readonly alert?: string;
  readonly chain?: readonly PeerCertificate[];
  readonly error?: { code: string; message: string };
  readonly log?: Partial<AccessLogEntry>;
  readonly at: number;
}

function call(spec: CallSpec): CallEvidence {
  const echo =
    spec.servedBy === undefined
      ? undefined
      : { pod: spec.servedBy, method: spec.request.method ?? 'GET', path: spec.appPath ?? spec.request.path ?? '/', headers: { 'x-forwarded-proto': 'http' }, ...(spec.peerIdentity === undefined ? {} : { peerIdentity: spec.peerIdentity }), protocol: 'HTTP/1.1', requestId: 17 };
  const observation: Observation = {
    request: spec.request,
    outcome: spec.outcome,
    ...(spec.status === undefined ? {} : { status: spec.status, headers: { 'content-type': spec.servedBy === undefined ? 'text/plain' : 'application/json', server: 'envoy' } }),
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(echo === undefined ? {} : { echo, body: JSON.stringify(echo) }),
    ...(spec.chain === undefined && spec.alert === undefined ? {} : { tls: { protocol: spec.alert === undefined ? 'TLSv1.3' : undefined, cipher: spec.alert === undefined ? 'TLS_AES_128_GCM_SHA256' : undefined, alpn: 'istio', peerChain: spec.chain ?? [], ...(spec.alert === undefined ? {} : { alert: spec.alert }) } }),
    ...(spec.error === undefined ? {} : { error: spec.error }),
    startedAt: T0 + spec.at,
    durationMs: spec.outcome === 'response' ? 3.4 : 1.2,
    from: spec.from,
  };
  const log: AccessLogEntry = {
    time: new Date(T0 + spec.at).toISOString(),
    direction: 'inbound',
    pod: spec.servedBy ?? 'payment-service-0',
    ...(spec.request.method === undefined ? {} : { method: spec.request.method }),
    ...(spec.request.path === undefined ? {} : { path: spec.request.path }),
    status: spec.status ?? 0,
    responseFlags: '-',
    durationMs: 1,
    ...spec.log,
  };
  return { label: spec.label, from: spec.from, to: spec.to ?? 'payment-service:80', observation, serverSaw: echo === undefined ? [] : [echo], accessLog: [log] };
}

interface CaseSpec {
  readonly shortName: string;
  readonly description: string;
  readonly area: Area;
  readonly features: readonly Feature[];
  readonly outcome: CaseOutcome;
  readonly at: number;
  readonly durationMs: number;
  readonly evidence?: readonly CallEvidence[];
  readonly findings?: readonly string[];
  readonly attachments?: Record<string, unknown>;
}

function result(spec: CaseSpec): CaseResult {
  const evidence = spec.evidence ?? [];
  return {
    shortName: spec.shortName,
    description: spec.description,
    area: spec.area,
    features: spec.features,
    manifests: spec.area === 'resilience' ? ['destination-rule.yaml', 'virtual-service.yaml'] : ['peer-authentication.yaml', 'authorization-policy.yaml'],
    outcome: spec.outcome,
    startedAt: new Date(T0 + spec.at).toISOString(),
    durationMs: spec.durationMs,
    checks: spec.outcome.status === 'passed' || spec.outcome.status === 'failed' ? Math.max(1, evidence.length) + (spec.attachments === undefined ? 0 : 2) : 0,
    evidence,
    findings: spec.findings ?? [],
    attachments: spec.attachments ?? {},
  };
}

/** Round-robin over four replicas; payment-service-1 answers 503 from 300 ms on; ejections as Envoy makes them at time scale 0.02. */
function ejectionTimeline(): { timeline: EjectionTimeline; metrics: MetricSample[] } {
  const endpoints = ['payment-service-0', 'payment-service-1', 'payment-service-2', 'payment-service-3'];
  const requests: { atMs: number; servedBy: string | null; status: number; flags?: string }[] = [];
  // Observed: ejected at the 3rd consecutive 5xx (about 540 ms), back at the first 200 ms tick ≥ 0.6 s later (1400 ms),
  // ejected again at the next 3 errors (backoff 2: 1.2 s), back at 3000 ms.
  const windows: [number, number][] = [
    [540, 1400],
    [1560, 3000],
  ];
  const out = (t: number): boolean => windows.some(([from, to]) => t >= from && t < to);
  const healthy = endpoints.filter((e) => e !== 'payment-service-1');
  let rr = 0;
  for (let t = 0; t < 3400; t += 20) {
    const pool = out(t) ? healthy : endpoints;
    const servedBy = pool[rr % pool.length] ?? null;
    rr += 1;
    const failing = servedBy === 'payment-service-1' && t >= 300;
    requests.push({ atMs: t, servedBy, status: failing ? 503 : 200, ...(failing ? { flags: 'URX' } : {}) });
  }
  const timeline: EjectionTimeline = {
    case: 'outlier-ejects-after-3-5xx',
    requests,
    endpoints,
    timeScale: 0.02,
    ejections: [
      { endpoint: 'payment-service-1', fromMs: 540, toMs: 1400, source: 'observed' },
      { endpoint: 'payment-service-1', fromMs: 1560, toMs: 3000, source: 'observed' },
      { endpoint: 'payment-service-1', fromMs: 540, toMs: 1400, source: 'expected' },
      { endpoint: 'payment-service-1', fromMs: 1560, toMs: 3000, source: 'expected' },
    ],
  };
  const cluster = 'outbound|80||payment-service.prod-namespace.svc.cluster.local';
  const metrics: MetricSample[] = [
    { name: 'envoy_cluster_outlier_detection_ejections_enforced_consecutive_5xx', labels: { cluster_name: cluster }, value: 2, source: 'order-client', expected: 2, agrees: true },
    { name: 'envoy_cluster_outlier_detection_ejections_active', labels: { cluster_name: cluster }, value: 0, source: 'order-client', expected: 0, agrees: true },
    { name: 'envoy_cluster_outlier_detection_ejections_overflow', labels: { cluster_name: cluster }, value: 0, source: 'order-client', expected: 0, agrees: true },
    { name: 'istio_requests_total', labels: { response_code: '503', destination_workload: 'payment-service', reporter: 'source' }, value: 9, source: 'order-client' },
  ];
  return { timeline, metrics };
}

function authzMatrix(): AuthzMatrixCell[] {
  const destination = 'prod-namespace/payment-service';
  const rule = 'prod-namespace/restrict-payment-access/rules[0]';
  const cell = (source: string, request: string, expected: AuthzMatrixCell['expected'], observed: AuthzMatrixCell['observed'], withRule = false): AuthzMatrixCell => ({
    source,
    request,
    destination,
    expected,
    observed,
    agrees: expected === observed,
    ...(withRule ? { rule } : {}),
  });
  const order = 'prod-namespace/order-service-sa';
  const product = 'prod-namespace/product-service-sa';
  return [
    cell(order, 'POST /pay/1', 'allow', 'allow', true),
    cell(order, 'POST /pay/', 'allow', 'allow', true),
    cell(order, 'GET /pay/1', 'deny', 'deny'),
    cell(order, 'POST /refund/1', 'deny', 'deny'),
    cell(order, 'POST /pay/../admin', 'deny', 'allow'),
    cell(order, 'POST /PAY/1', 'deny', 'deny'),
    cell(product, 'POST /pay/1', 'deny', 'deny'),
    cell(product, 'GET /pay/1', 'deny', 'deny'),
    cell(product, 'POST /refund/1', 'deny', 'deny'),
    cell(product, 'POST /pay/../admin', 'deny', 'deny'),
    cell('plaintext', 'POST /pay/1', 'reject', 'reject'),
    cell('plaintext', 'GET /pay/1', 'reject', 'reject'),
    cell('cert:rogue-ca', 'POST /pay/1', 'reject', 'reject'),
  ];
}

function tlsCheck(): TlsCheckRow[] {
  const service = 'payment-service.prod-namespace:80';
  return [
    { client: 'order-client', clientKind: 'prod-namespace/order-service-sa', service, serverMode: 'STRICT', clientMode: 'MTLS', observed: 'OK (200)', expected: 'OK', agrees: true },
    { client: 'product-client', clientKind: 'prod-namespace/product-service-sa', service, serverMode: 'STRICT', clientMode: 'MTLS', observed: '403 RBAC: access denied', expected: '403', agrees: true },
    { client: 'legacy-client', clientKind: 'plaintext', service, serverMode: 'STRICT', clientMode: 'PLAINTEXT', observed: 'reset', expected: 'reset (no filter chain, NR)', agrees: true },
    { client: 'attacker', clientKind: 'no-client-cert', service, serverMode: 'STRICT', clientMode: 'TLS (no client cert)', observed: 'handshake rejected: certificate required', expected: 'handshake rejected', agrees: true },
    { client: 'attacker', clientKind: 'rogue-ca', service, serverMode: 'STRICT', clientMode: 'MTLS (rogue CA)', observed: 'handshake rejected: unknown ca', expected: 'handshake rejected', agrees: true },
    { client: 'attacker', clientKind: 'foreign-trust-domain', service, serverMode: 'STRICT', clientMode: 'MTLS (other.example)', observed: 'handshake rejected: bad certificate', expected: 'handshake rejected', agrees: true },
    { client: 'legacy-client', clientKind: 'plaintext', service: 'product-service.prod-namespace:8082', serverMode: 'STRICT', clientMode: 'PLAINTEXT', observed: 'reset', expected: 'reset (no filter chain, NR)', agrees: true },
  ];
}

function wire(): WireRow[] {
  const service = 'payment-service.prod-namespace:80';
  return [
    { client: 'order-client', clientKind: 'prod-namespace/order-service-sa', service, serverMode: 'STRICT', seen: 'encrypted', connection: 'order-client-0 172.18.0.5:41234 → payment-service-0 172.18.0.7:8080', tls: { version: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', alpnOffered: ['istio-peer-exchange', 'istio'], sni: 'outbound_.80_._.payment-service.prod-namespace.svc.cluster.local' }, expected: "encrypted: TLS ≥ TLSv1.2 with Istio's ALPN", agrees: true },
    { client: 'legacy-client', clientKind: 'plaintext', service, serverMode: 'STRICT', seen: 'cleartext request, no reply', connection: 'legacy-client-0 172.18.0.9:50112 → payment-service-0 172.18.0.7:8080', excerpt: 'POST /pay/‹canary› HTTP/1.1', expected: 'no reply to a plaintext caller', agrees: true },
    // A row whose excerpt would carry a certificate: the report builder scrubs it (defence in depth).
    { client: 'legacy-client', clientKind: 'plaintext', service: 'product-service.prod-namespace:8082', serverMode: 'PERMISSIVE', seen: 'cleartext', excerpt: 'x-meshproof-canary: ‹canary› -----BEGIN CERTIFICATE-----MIIBszCCAVmgAwIBAgIU-----END CERTIFICATE-----', expected: 'readable (plaintext is accepted on this port): a finding', agrees: true },
  ];
}

function ruleCoverage(): RuleCoverage[] {
  return [
    { rule: 'prod-namespace/restrict-payment-access/rules[0]', policy: 'prod-namespace/restrict-payment-access', probesMatching: 2, probesJustMissing: 8, exercised: true },
    { rule: '(implicit deny: no ALLOW rule matches)', policy: 'prod-namespace/restrict-payment-access', probesMatching: 8, probesJustMissing: 0, exercised: true },
  ];
}

function experiment(): ExperimentJournal {
  return {
    case: 'outlier-ejects-after-3-5xx',
    hypothesis: 'order-service keeps getting 200s from payment-service while one replica fails',
    steadyState: { before: true, during: true, after: true },
    entries: [
      { atMs: 0, phase: 'before', text: '40 requests: 40 × 200 from 4 replicas' },
      { atMs: 300, phase: 'inject', text: 'payment-service-1 answers 503 to every request (echo mode fail)' },
      { atMs: 540, phase: 'during', text: 'payment-service-1 ejected after 3 consecutive 503s; retries (attempts 3) hid them from the client' },
      { atMs: 3000, phase: 'rollback', text: 'payment-service-1 back to normal' },
      { atMs: 3400, phase: 'after', text: '40 requests: 40 × 200 from 4 replicas' },
    ],
  };
}

export async function syntheticRun(): Promise<SyntheticRun> {
  const ca = await MeshCa.create({ trustDomain: TD });
  const orderCreds = await ca.issue({ namespace: ns, serviceAccount: 'order-service-sa' });
  const paymentCreds = await ca.issue({ namespace: ns, serviceAccount: 'payment-service-sa' });
  const paymentChain = [peer(paymentCreds)];
  const mtlsTo = { protocol: 'https' as const, host: 'payment-service.prod-namespace', port: 80 };
  const withCert = { certChainPem: orderCreds.certChainPem, keyPem: orderCreds.keyPem, caPem: orderCreds.rootCertPem, expectServerIdentity: spiffe('payment-service-sa') };
  const nr: Partial<AccessLogEntry> = { responseFlags: 'NR', responseCodeDetails: 'filter_chain_not_found', connectionSecurity: 'none', downstreamAddress: '172.18.0.9:41822' };
  const rbac: Partial<AccessLogEntry> = { responseFlags: '-', responseCodeDetails: 'rbac_access_denied_matched_policy[none]', connectionSecurity: 'mutual_tls', downstreamPrincipal: spiffe('product-service-sa') };
  const { timeline, metrics } = ejectionTimeline();

  const results: CaseResult[] = [
    result({
      shortName: 'strict-rejects-plaintext',
      description: 'Under STRICT, a plaintext call from a client without a sidecar is reset and never reaches the app.',
      area: 'mtls',
      features: ['mtls.strict'],
      outcome: { status: 'passed' },
      at: 0,
      durationMs: 412,
      evidence: [call({ label: 'legacy-client GET /pay/1 → payment-service:80', from: 'legacy-client', request: { protocol: 'http', host: 'payment-service.prod-namespace', port: 80, method: 'GET', path: '/pay/1' }, outcome: 'reset', error: { code: 'ECONNRESET', message: 'socket hang up' }, log: nr, at: 10 })],
      attachments: { tlsCheck: tlsCheck(), wire: wire() },
    }),
    result({
      shortName: 'strict-rejects-no-client-cert',
      description: 'Under STRICT, a TLS client that presents no certificate fails the handshake.',
      area: 'mtls',
      features: ['mtls.strict'],
      outcome: { status: 'passed' },
      at: 450,
      durationMs: 188,
      evidence: [call({ label: 'attacker TLS without a client certificate → payment-service:80', from: 'attacker', request: { protocol: 'tls-handshake', host: 'payment-service.prod-namespace', port: 80, tls: { alpn: ['istio-peer-exchange', 'istio'] } }, outcome: 'tls-error', alert: 'tlsv13 alert certificate required', chain: paymentChain, log: { responseFlags: '-', responseCodeDetails: 'ssl_handshake_failure' }, at: 460 })],
    }),
    result({
      shortName: 'secure-naming-in-mesh-identity',
      description: 'order-service reaches payment-service over mTLS; each side sees the other’s SPIFFE identity.',
      area: 'mtls',
      features: ['mtls.strict', 'identity.secure-naming'],
      outcome: { status: 'passed' },
      at: 700,
      durationMs: 231,
      evidence: [
        call({ label: 'order-client POST /pay/1 → payment-service:80', from: 'order-client', request: { ...mtlsTo, method: 'POST', path: '/pay/1', headers: { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJvcmRlciJ9.c2ln' }, tls: withCert }, outcome: 'response', status: 200, servedBy: 'payment-service-2', peerIdentity: spiffe('order-service-sa'), chain: paymentChain, log: { connectionSecurity: 'mutual_tls', downstreamPrincipal: spiffe('order-service-sa') }, at: 710 }),
      ],
    }),
    result({
      shortName: 'strict-migration-without-downtime',
      description: 'Switching a namespace from PERMISSIVE to STRICT drops no in-mesh request.',
      area: 'mtls',
      features: ['mtls.permissive', 'mtls.migration'],
      outcome: { status: 'not-supported', features: ['mtls.migration'] },
      at: 950,
      durationMs: 0,
    }),
    result({
      shortName: 'order-service-may-pay',
      description: 'order-service-sa may POST under /pay/ on payment-service.',
      area: 'authz',
      features: ['authz.allow'],
      outcome: { status: 'passed' },
      at: 1000,
      durationMs: 305,
      evidence: [call({ label: 'order-client POST /pay/1 → payment-service:80', from: 'order-client', request: { ...mtlsTo, method: 'POST', path: '/pay/1', tls: withCert }, outcome: 'response', status: 200, servedBy: 'payment-service-0', peerIdentity: spiffe('order-service-sa'), chain: paymentChain, log: { connectionSecurity: 'mutual_tls', downstreamPrincipal: spiffe('order-service-sa') }, at: 1010 })],
      attachments: { authzMatrix: authzMatrix(), ruleCoverage: ruleCoverage() },
    }),
    result({
      shortName: 'other-principals-denied',
      description: 'product-service-sa is denied by the ALLOW policy’s implicit deny (403 RBAC: access denied).',
      area: 'authz',
      features: ['authz.allow'],
      outcome: { status: 'passed' },
      at: 1320,
      durationMs: 214,
      evidence: [call({ label: 'product-client POST /pay/1 → payment-service:80', from: 'product-client', request: { ...mtlsTo, method: 'POST', path: '/pay/1' }, outcome: 'response', status: 403, body: 'RBAC: access denied', log: rbac, at: 1330 })],
    }),
    result({
      shortName: 'dot-segments-normalized-before-match',
      description: 'POST /pay/../admin is normalized to /admin before matching, so the /pay/* rule does not allow it.',
      area: 'authz',
      features: ['authz.allow', 'authz.path-normalization'],
      outcome: { status: 'failed', message: 'order-client POST /pay/../admin → payment-service:80: expected denied (403 RBAC: access denied), got status 200 from payment-service-3' },
      at: 1540,
      durationMs: 266,
      evidence: [call({ label: 'order-client POST /pay/../admin → payment-service:80', from: 'order-client', request: { ...mtlsTo, method: 'POST', path: '/pay/../admin', tls: withCert }, outcome: 'response', status: 200, servedBy: 'payment-service-3', appPath: '/pay/../admin', peerIdentity: spiffe('order-service-sa'), chain: paymentChain, log: { connectionSecurity: 'mutual_tls', downstreamPrincipal: spiffe('order-service-sa') }, at: 1550 })],
      findings: ['the data plane matched the raw path: the app received /pay/../admin un-normalized'],
    }),
    result({
      shortName: 'custom-action-ext-authz',
      description: 'A CUSTOM policy sends the request to the external authorizer before DENY and ALLOW.',
      area: 'authz',
      features: ['authz.custom'],
      outcome: { status: 'not-supported', features: ['authz.custom'] },
      at: 1810,
      durationMs: 0,
    }),
    result({
      shortName: 'outlier-ejects-after-3-5xx',
      description: 'A replica answering 503 is ejected after 3 consecutive 5xx for baseEjectionTime × backoff, and the outlier metrics say so.',
      area: 'resilience',
      features: ['resilience.outlier-detection', 'observability.metrics'],
      outcome: { status: 'passed' },
      at: 2000,
      durationMs: 4120,
      evidence: [
        call({ label: 'order-client GET /pay/status ×170 → payment-service:80 (round robin)', from: 'order-client', request: { protocol: 'http', host: '127.0.0.1', port: 15001, method: 'GET', path: '/pay/status' }, outcome: 'response', status: 200, servedBy: 'payment-service-0', log: { direction: 'outbound', pod: 'order-client', upstreamHost: 'payment-service-0', responseFlags: '-' }, at: 2010 }),
      ],
      attachments: { ejectionTimeline: timeline, metrics, experiment: experiment() },
      findings: ['maxEjectionPercent 50 with 4 replicas: at most 2 can be ejected at once'],
    }),
    result({
      shortName: 'connection-pool-overflow',
      description: 'Past http1MaxPendingRequests, extra requests get 503 with flag UO.',
      area: 'resilience',
      features: ['resilience.connection-pool'],
      outcome: { status: 'skipped', reason: 'needs 200 concurrent connections from one client; the client container is limited to 64 on this host (ulimit -n)' },
      at: 6200,
      durationMs: 3,
    }),
    result({
      shortName: 'retries-on-503',
      description: 'VirtualService retries (attempts 3, retryOn 5xx) turn one failing replica into 200s for the client.',
      area: 'resilience',
      features: ['resilience.retries'],
      outcome: { status: 'error', message: 'container payment-service-3-sidecar did not log its ready line within 30 s (timeouts.containerReady)', code: 'MESHPROOF_ERR_CONTAINER_START' },
      at: 6300,
      durationMs: 30_012,
    }),
  ];

  const options = resolveRunOptions({ seed: 1_834_091_577, timeScale: 0.02, dataPlane: 'reference', reportDir: '/tmp/meshproof-reports' });
  const run: RunDescription = {
    id: 'mp-20261123-020004-7c1e',
    startedAt: new Date(T0).toISOString(),
    finishedAt: new Date(T0 + 36_400).toISOString(),
    options,
    toolVersion: '0.1.0',
    host: { platform: 'linux x64', node: 'v24.21.0' },
    dataPlane: {
      name: 'reference',
      version: '0.1.0',
      claimedFeatures: ['mtls.strict', 'mtls.permissive', 'mtls.disable', 'mtls.port-level', 'mtls.scope', 'authz.allow', 'authz.deny', 'authz.audit', 'authz.conditions', 'authz.path-normalization', 'identity.secure-naming', 'resilience.outlier-detection', 'resilience.connection-pool', 'resilience.retries', 'resilience.timeouts', 'observability.metrics', 'observability.access-log'],
      available: true,
    },
    runtime: { kind: 'docker', engineVersion: '20.10.24+dfsg1' },
  };
  return { results, run, clientKeyPem: orderCreds.keyPem, clientCertPem: orderCreds.certChainPem };
}
