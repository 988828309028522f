import { expect } from 'chai';
import { loadPolicies, policiesFromYaml } from '../model/load-policies.ts';
import { resolveMesh } from '../model/resolve.ts';
import { loadTopology, topologyFromYaml } from '../model/topology.ts';
import { InboundOracle, type InboundRequest, type RequestSource } from './inbound.ts';

const seed = new InboundOracle(resolveMesh(loadPolicies(['fixtures/seed']), loadTopology('fixtures/seed/topology.yaml')));
const order: RequestSource = { kind: 'mesh', identity: 'cluster.local/ns/prod-namespace/sa/order-service-sa' };
const product: RequestSource = { kind: 'mesh', identity: 'cluster.local/ns/prod-namespace/sa/product-service-sa' };
const plaintext: RequestSource = { kind: 'plaintext' };

describe('oracle: the seed (payment-service: only order-service-sa, POST /pay/*, namespace STRICT)', function () {
  const rows: { name: string; source: RequestSource; method: string; path: string; outcome: string; status?: number; rule?: string }[] = [
    { name: 'order-service POST /pay/1 → allowed', source: order, method: 'POST', path: '/pay/1', outcome: 'allowed', rule: 'prod-namespace/restrict-payment-access/rules[0]' },
    { name: 'order-service GET /pay/1 → 403', source: order, method: 'GET', path: '/pay/1', outcome: 'denied', status: 403 },
    { name: 'order-service POST /refund → 403', source: order, method: 'POST', path: '/refund', outcome: 'denied', status: 403 },
    { name: 'product-service POST /pay/1 → 403', source: product, method: 'POST', path: '/pay/1', outcome: 'denied', status: 403 },
    { name: 'plaintext POST /pay/1 → reset (STRICT)', source: plaintext, method: 'POST', path: '/pay/1', outcome: 'connection-reset' },
    { name: 'order-service POST /pay → 403 (prefix /pay/ needs the slash)', source: order, method: 'POST', path: '/pay', outcome: 'denied', status: 403 },
    { name: 'order-service POST /pay/ → allowed (empty remainder matches the prefix)', source: order, method: 'POST', path: '/pay/', outcome: 'allowed' },
    { name: 'order-service post /pay/1 → 400 [unconfirmed]', source: order, method: 'post', path: '/pay/1', outcome: 'bad-request', status: 400 },
    { name: 'order-service POST /pay/../admin → 403 after normalization', source: order, method: 'POST', path: '/pay/../admin', outcome: 'denied', status: 403 },
    { name: 'order-service POST /pay/1%00 → 400', source: order, method: 'POST', path: '/pay/1%00', outcome: 'bad-request', status: 400 },
    { name: 'order-service POST /PAY/1 → 403 (no case folding)', source: order, method: 'POST', path: '/PAY/1', outcome: 'denied', status: 403 },
    { name: 'foreign trust domain → handshake fails', source: { kind: 'mesh', identity: 'evil.org/ns/prod-namespace/sa/order-service-sa' }, method: 'POST', path: '/pay/1', outcome: 'handshake-failed' },
    { name: 'no client certificate → handshake fails', source: { kind: 'certificate', problem: 'no-client-cert' }, method: 'POST', path: '/pay/1', outcome: 'handshake-failed' },
  ];
  for (const row of rows) {
    it(row.name, function () {
      const d = seed.decide({ source: row.source, to: 'prod-namespace/payment-service', method: row.method, path: row.path });
      expect(d.outcome, d.reason).to.equal(row.outcome);
      expect(d.expect.status).to.equal(row.status);
      if (row.rule !== undefined) expect(d.rule?.id).to.equal(row.rule);
      if (row.status === 403) expect(d.expect).to.include({ body: 'RBAC: access denied', responseCodeDetails: 'rbac_access_denied_matched_policy[none]', appReceives: false });
    });
  }
});

const topology = topologyFromYaml(`apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [foo, bar, istio-system]
workloads:
- {name: app, namespace: foo, serviceAccount: app, labels: {app: app}, ports: [{port: 8080, protocol: http}, {port: 9000, protocol: tcp}]}
`);

function oracle(policies: string, mesh = ''): InboundOracle {
  return new InboundOracle(resolveMesh(policiesFromYaml(`${mesh}${mesh === '' ? '' : '\n---\n'}${policies}`), topology));
}
function ap(name: string, spec: string, ns = 'foo'): string {
  return `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}\n---\n`;
}
const from = (ns: string, sa: string): RequestSource => ({ kind: 'mesh', identity: `cluster.local/ns/${ns}/sa/${sa}` });
function req(over: Partial<InboundRequest> = {}): InboundRequest {
  return { source: from('bar', 'client'), to: 'foo/app', port: 8080, method: 'GET', path: '/', ...over };
}

/** Authorization semantics (istio-semantics.md §2): policies, request → outcome. PERMISSIVE unless stated. */
const authz: { name: string; policies: string; request: InboundRequest; outcome: string; rule?: string; mesh?: string }[] = [
  { name: 'no policy allows', policies: '', request: req(), outcome: 'allowed' },
  { name: 'ALLOW without rules (allow-nothing) denies', policies: ap('nothing', '  action: ALLOW'), request: req(), outcome: 'denied' },
  { name: 'ALLOW rules: [{}] allows all', policies: ap('all', '  rules: [{}]'), request: req(), outcome: 'allowed' },
  { name: 'DENY rules: [{}] beats ALLOW all', policies: ap('all', '  rules: [{}]') + ap('deny', '  action: DENY\n  rules: [{}]'), request: req(), outcome: 'denied', rule: 'foo/deny/rules[0]' },
  { name: 'AUDIT does not change the outcome', policies: ap('audit', '  action: AUDIT\n  rules: [{}]'), request: req(), outcome: 'allowed' },
  { name: 'dry-run DENY is not enforced', policies: ap('dry', '  action: DENY\n  rules: [{}]').replace('namespace: foo}', 'namespace: foo, annotations: {istio.io/dry-run: "true"}}'), request: req(), outcome: 'allowed' },
  { name: 'dry-run spelt "1" (Go ParseBool, as istiod reads it) is not enforced either', policies: ap('dry', '  action: DENY\n  rules: [{}]').replace('namespace: foo}', 'namespace: foo, annotations: {istio.io/dry-run: "1"}}'), request: req(), outcome: 'allowed' },
  { name: 'CUSTOM that matches → not-supported', policies: ap('ext', '  action: CUSTOM\n  provider: {name: x}\n  rules: [{}]'), request: req(), outcome: 'not-supported' },
  { name: 'notPaths: prefix AND NOT exact (denied inside the hole)', policies: ap('p', '  action: DENY\n  rules:\n  - to:\n    - operation: {paths: ["/deny*"], notPaths: ["/deny/allow"]}'), request: req({ path: '/deny/allow' }), outcome: 'allowed' },
  { name: 'notPaths: prefix AND NOT exact (denied outside the hole)', policies: ap('p', '  action: DENY\n  rules:\n  - to:\n    - operation: {paths: ["/deny*"], notPaths: ["/deny/allow"]}'), request: req({ path: '/deny/x' }), outcome: 'denied' },
  { name: '/public* also matches /publicity', policies: ap('p', '  rules:\n  - to:\n    - operation: {paths: ["/public*"]}'), request: req({ path: '/publicity' }), outcome: 'allowed' },
  { name: 'suffix path', policies: ap('p', '  rules:\n  - to:\n    - operation: {paths: ["*.png"]}'), request: req({ path: '/a/b.png' }), outcome: 'allowed' },
  { name: 'methods are case-sensitive', policies: ap('p', '  rules:\n  - to:\n    - operation: {methods: ["get"]}'), request: req({ method: 'GET' }), outcome: 'denied' },
  { name: 'hosts are case-insensitive', policies: ap('p', '  rules:\n  - to:\n    - operation: {hosts: ["App.Example.com"]}'), request: req({ host: 'app.example.COM' }), outcome: 'allowed' },
  { name: 'exact host does not match host:port', policies: ap('p', '  rules:\n  - to:\n    - operation: {hosts: ["app.example.com"]}'), request: req({ host: 'app.example.com:8080' }), outcome: 'denied' },
  { name: 'ports match the workload port', policies: ap('p', '  rules:\n  - to:\n    - operation: {ports: ["8080"]}'), request: req(), outcome: 'allowed' },
  { name: 'namespaces: foo does not match foo-bar', policies: ap('p', '  rules:\n  - from:\n    - source: {namespaces: ["foo"]}'), request: req({ source: from('foo-bar', 'x') }), outcome: 'denied' },
  { name: 'serviceAccounts without ns use the policy namespace', policies: ap('p', '  rules:\n  - from:\n    - source: {serviceAccounts: ["client"]}'), request: req({ source: from('foo', 'client') }), outcome: 'allowed' },
  { name: 'serviceAccounts from another namespace miss', policies: ap('p', '  rules:\n  - from:\n    - source: {serviceAccounts: ["client"]}'), request: req({ source: from('bar', 'client') }), outcome: 'denied' },
  { name: 'principals "*" means any authenticated peer', policies: ap('p', '  rules:\n  - from:\n    - source: {principals: ["*"]}'), request: req(), outcome: 'allowed' },
  { name: 'principals "*" never matches plaintext', policies: ap('p', '  rules:\n  - from:\n    - source: {principals: ["*"]}'), request: req({ source: { kind: 'plaintext' } }), outcome: 'denied' },
  { name: 'ALLOW notNamespaces allows plaintext (notX matches an empty peer)', policies: ap('p', '  rules:\n  - from:\n    - source: {notNamespaces: ["bar"]}'), request: req({ source: { kind: 'plaintext' } }), outcome: 'allowed' },
  { name: 'DENY namespaces does not deny plaintext', policies: ap('p', '  action: DENY\n  rules:\n  - from:\n    - source: {namespaces: ["bar"]}'), request: req({ source: { kind: 'plaintext' } }), outcome: 'allowed' },
  { name: 'DENY notPrincipals ["*"] denies all plaintext', policies: ap('p', '  action: DENY\n  rules:\n  - from:\n    - source: {notPrincipals: ["*"]}'), request: req({ source: { kind: 'plaintext' } }), outcome: 'denied' },
  { name: 'when request.headers (case-insensitive name, values OR)', policies: ap('p', '  rules:\n  - when:\n    - key: request.headers[X-User]\n      values: ["alice", "bob"]'), request: req({ headers: { 'x-user': 'bob' } }), outcome: 'allowed' },
  { name: 'repeated headers are merged with commas before matching', policies: ap('p', '  rules:\n  - when:\n    - key: request.headers[x-user]\n      values: ["alice"]'), request: req({ headers: [['x-user', 'alice'], ['x-user', 'eve']] }), outcome: 'denied' },
  { name: 'from entries OR', policies: ap('p', '  rules:\n  - from:\n    - source: {namespaces: ["zzz"]}\n    - source: {namespaces: ["bar"]}'), request: req(), outcome: 'allowed' },
  { name: 'fields within one source AND', policies: ap('p', '  rules:\n  - from:\n    - source: {namespaces: ["bar"], principals: ["cluster.local/ns/bar/sa/other"]}'), request: req(), outcome: 'denied' },
  { name: 'root-namespace policy applies mesh-wide', policies: ap('p', '  action: DENY\n  rules: [{}]', 'istio-system'), request: req(), outcome: 'denied' },
  { name: 'TCP: DENY with methods only denies all TCP', policies: ap('p', '  action: DENY\n  rules:\n  - to:\n    - operation: {methods: ["GET"]}'), request: req({ port: 9000 }), outcome: 'denied' },
  { name: 'TCP: ALLOW with only HTTP fields is dropped, so TCP is denied', policies: ap('p', '  rules:\n  - to:\n    - operation: {methods: ["GET"]}'), request: req({ port: 9000 }), outcome: 'denied' },
  { name: 'TCP: ALLOW with ports only allows', policies: ap('p', '  rules:\n  - to:\n    - operation: {ports: ["9000"]}'), request: req({ port: 9000 }), outcome: 'allowed' },
  { name: 'trust-domain alias: cluster.local principal matches a peer in the alias', policies: ap('p', '  rules:\n  - from:\n    - source: {principals: ["cluster.local/ns/bar/sa/client"]}'), request: req({ source: { kind: 'mesh', identity: 'old.td/ns/bar/sa/client' } }), outcome: 'allowed', mesh: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: "{trustDomain: new.td, trustDomainAliases: [old.td]}"' },
  { name: 'trust domain outside the bundle fails the handshake', policies: '', request: req({ source: { kind: 'mesh', identity: 'other.td/ns/bar/sa/client' } }), outcome: 'handshake-failed', mesh: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: "{trustDomain: new.td, trustDomainAliases: [old.td]}"' },
  { name: 'path template {*} matches one segment', policies: ap('p', '  rules:\n  - to:\n    - operation: {paths: ["/a/{*}/c"]}'), request: req({ path: '/a/b/c' }), outcome: 'allowed' },
  { name: 'path template {*} does not match two segments', policies: ap('p', '  rules:\n  - to:\n    - operation: {paths: ["/a/{*}/c"]}'), request: req({ path: '/a/b/x/c' }), outcome: 'denied' },
  { name: 'DENY //admin is not rejected under BASE (CVE-2021-31920 shape)', policies: ap('p', '  action: DENY\n  rules:\n  - to:\n    - operation: {paths: ["/admin"]}'), request: req({ path: '//admin' }), outcome: 'allowed' },
  { name: 'DENY //admin is rejected under MERGE_SLASHES', policies: ap('p', '  action: DENY\n  rules:\n  - to:\n    - operation: {paths: ["/admin"]}'), request: req({ path: '//admin' }), outcome: 'denied', mesh: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: "{pathNormalization: {normalization: MERGE_SLASHES}}"' },
  { name: 'fragment is stripped before matching (CVE-2021-39156)', policies: ap('p', '  action: DENY\n  rules:\n  - to:\n    - operation: {paths: ["/user/profile"]}'), request: req({ path: '/user/profile#section1' }), outcome: 'denied' },
];

describe('oracle: authorization semantics table', function () {
  for (const row of authz) {
    it(`${row.name} → ${row.outcome}`, function () {
      const d = oracle(row.policies || 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n', row.mesh).decide(row.request);
      expect(d.outcome, d.reason).to.equal(row.outcome);
      if (row.rule !== undefined) expect(d.rule?.id).to.equal(row.rule);
    });
  }

  it('reports the first matching DENY rule in Envoy key order (rule[10] sorts before rule[2])', function () {
    const rules = Array.from({ length: 11 }, () => '  - {}').join('\n');
    const d = oracle(ap('many', `  action: DENY\n  rules:\n${rules}`)).decide(req());
    expect(d.rule?.envoyName).to.equal('ns[foo]-policy[many]-rule[0]');
    expect(d.expect.responseCodeDetails).to.equal('rbac_access_denied_matched_policy[ns[foo]-policy[many]-rule[0]]');
  });

  it('a denied TCP connection is closed without a response', function () {
    const d = oracle(ap('deny', '  action: DENY\n  rules: [{}]')).decide(req({ port: 9000 }));
    expect(d.expect).to.deep.equal({ client: 'reset', appReceives: false });
  });

  it('DISABLE: a mesh client arrives without identity [derived], a TLS client fails', function () {
    const pa = 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: d, namespace: foo}\nspec: {mtls: {mode: DISABLE}}\n---\n';
    const o = oracle(pa + ap('p', '  rules:\n  - from:\n    - source: {principals: ["*"]}'));
    const d = o.decide(req());
    expect(d.outcome).to.equal('denied');
    expect(d.basis).to.equal('derived');
    expect(o.decide(req({ source: { kind: 'certificate', identity: 'cluster.local/ns/bar/sa/client' } })).outcome).to.equal('handshake-failed');
  });
});

describe('oracle: protocol, TLS version and SNI of the client', function () {
  const explainMesh = new InboundOracle(resolveMesh(loadPolicies(['fixtures/explain']), loadTopology('fixtures/explain/topology.yaml')));
  const teller: RequestSource = { kind: 'mesh', identity: 'cluster.local/ns/bank/sa/teller-sa' };
  const decide = (r: Partial<InboundRequest>) => explainMesh.decide({ source: teller, to: 'bank/ledger', ...r });
  it('a TLS client below meshMTLS.minProtocolVersion (TLSv1.3 here) fails the handshake; at it, passes', function () {
    expect(decide({ tlsVersion: 'TLSv1.2', path: '/accounts/1' }).outcome).to.equal('handshake-failed');
    expect(decide({ tlsVersion: 'TLSv1.3', path: '/accounts/1' }).outcome).to.equal('allowed');
    expect(seed.decide({ source: order, to: 'prod-namespace/payment-service', tlsVersion: 'TLSv1.1', method: 'POST', path: '/pay/1' }).outcome, 'default minimum TLSv1.2').to.equal('handshake-failed');
  });
  it('gRPC: always POST; a denial is grpc-status 7 in an HTTP 200 reply', function () {
    expect(decide({ protocol: 'grpc', path: '/bank.Ledger/Transfer' }).outcome).to.equal('allowed');
    const denied = decide({ protocol: 'grpc', path: '/bank.Audit/Read' });
    expect(denied.expect).to.include({ status: 200, grpcStatus: 7, appReceives: false });
    expect(() => decide({ protocol: 'grpc', method: 'GET', path: '/bank.Ledger/Transfer' })).to.throw(/always POST/);
  });
  it('raw TCP to an HTTP port gets 400 [derived]; HTTP to a TCP port is judged as TCP', function () {
    expect(decide({ protocol: 'tcp', port: 8080 })).to.deep.include({ outcome: 'bad-request', basis: 'derived' });
    expect(decide({ protocol: 'http1', port: 9000, sourceIp: '10.10.0.9' }).outcome).to.equal('allowed');
    expect(decide({ protocol: 'http1', port: 9000, sourceIp: '10.11.0.9' }).outcome, 'ipBlocks 10.10.0.0/16').to.equal('denied');
  });
  it('SNI is matched on TLS connections only', function () {
    expect(decide({ path: '/accounts/1', sni: 'ledger.legacy.example.com' }).rule?.id).to.equal('bank/ledger-deny-legacy-sni/rules[0]');
    const permissive = oracle(ap('deny-sni', '  action: DENY\n  rules:\n  - when: [{key: connection.sni, values: [x.example.com]}]'));
    expect(permissive.decide({ source: { kind: 'plaintext' }, to: 'foo/app', sni: 'x.example.com' }).outcome, 'a plaintext connection has no SNI').to.equal('allowed');
    expect(permissive.decide({ source: { kind: 'mesh', identity: 'cluster.local/ns/foo/sa/a' }, to: 'foo/app', sni: 'x.example.com' }).outcome).to.equal('denied');
  });
});
