import { expect } from 'chai';
import { isMeshproofError } from '../../errors.ts';
import { policiesFromYaml } from '../../model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../../model/resolve.ts';
import { topologyFromYaml } from '../../model/topology.ts';
import { parseSidecarConfig } from '../reference/config.ts';
import { ISTIO_UNLIMITED, type ClusterConfig, type OutboundConfig, type RouteConfig } from './outbound-config.ts';
import { renderSidecarConfig } from '../reference/render.ts';

const TOPOLOGY = `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod, shop]
workloads:
- {name: payment, namespace: prod, serviceAccount: payment-sa, labels: {app: payment, version: v1}, replicas: 2, ports: [{port: 8080, protocol: http}]}
- {name: payment-v2, namespace: prod, serviceAccount: payment-v2-sa, labels: {app: payment, version: v2}, ports: [{port: 8080, protocol: http}]}
- {name: ledger, namespace: prod, serviceAccount: ledger-sa, labels: {app: ledger}, ports: [{port: 9080, protocol: http}, {port: 9000, protocol: tcp}]}
services:
- {name: payment, namespace: prod, selector: {app: payment}, ports: [{port: 80, targetPort: 8080}]}
- {name: ledger, namespace: prod, selector: {app: ledger}, ports: [{port: 80, targetPort: 9080}, {port: 9000}]}
clients:
- {name: order, namespace: prod, serviceAccount: order-sa}
- {name: cart, namespace: shop, serviceAccount: cart-sa}
`;

function render(policies: string, client = 'prod/order', timeScale = 1): OutboundConfig {
  const mesh: ResolvedMesh = resolveMesh(policiesFromYaml(policies), topologyFromYaml(TOPOLOGY));
  const c = mesh.clients.find((x) => x.key === client)!;
  const config = renderSidecarConfig(mesh, { kind: 'client', client: c, pod: `${c.client.name}.${c.client.namespace}` }, { generation: 1, appPort: 15080, timeScale, seed: 3 });
  // What render writes is what the sidecar accepts.
  parseSidecarConfig(JSON.stringify(config), 'rendered.json');
  return config.outbound!;
}

const clusterOf = (o: OutboundConfig, name: string): ClusterConfig => {
  const c = o.clusters.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no cluster ${name} in ${o.clusters.map((x) => x.name).join(', ')}`);
  return c;
};
const PAYMENT = 'outbound|80||payment.prod.svc.cluster.local';
const routeOf = (o: OutboundConfig, vhost: string, port = 80): RouteConfig => o.listeners.find((l) => l.servicePort === port && l.protocol === 'http')!.virtualHosts!.find((v) => v.name === vhost)!.routes[0]!;

describe('reference render, outbound side', function () {
  it('without a DestinationRule: Istio\'s unlimited circuit breakers, no outlier detection, 10 s connect timeout, auto mTLS to every replica', function () {
    const c = clusterOf(render(''), PAYMENT);
    expect(c.circuitBreakers).to.deep.equal({ maxConnections: ISTIO_UNLIMITED, maxPendingRequests: ISTIO_UNLIMITED, maxRequests: ISTIO_UNLIMITED, maxRetries: ISTIO_UNLIMITED });
    expect(c).to.not.have.property('outlierDetection');
    // Istio's default load balancer.
    expect(c).to.include({ connectTimeoutMs: 10_000, maxRequestsPerConnection: 0, lbPolicy: 'LEAST_REQUEST' });
    expect(c.endpoints.map((e) => `${e.address}:${e.port}:${e.tls}`)).to.deep.equal(['payment-0.prod:8080:true', 'payment-1.prod:8080:true', 'payment-v2-0.prod:8080:true']);
    // Secure naming: every service account that runs the service.
    expect(c.tls.subjectAltNames).to.deep.equal(['spiffe://cluster.local/ns/prod/sa/payment-sa', 'spiffe://cluster.local/ns/prod/sa/payment-v2-sa']);
    expect(c.tls.sni).to.equal('outbound_.80_._.payment.prod.svc.cluster.local');
  });

  it("the seed's DestinationRule, time-scaled; 0 means Istio's default, not zero", function () {
    const o = render(
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payment-cb, namespace: prod}
spec:
  host: payment
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 100, connectTimeout: 2s}, http: {http1MaxPendingRequests: 0, maxRequestsPerConnection: 10, maxRetries: 0}}
    outlierDetection: {consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
`,
      'prod/order',
      0.02,
    );
    const c = clusterOf(o, PAYMENT);
    expect(c.circuitBreakers).to.deep.equal({ maxConnections: 100, maxPendingRequests: ISTIO_UNLIMITED, maxRequests: ISTIO_UNLIMITED, maxRetries: ISTIO_UNLIMITED });
    expect(c).to.include({ connectTimeoutMs: 40, maxRequestsPerConnection: 10, healthyPanicThreshold: 0 });
    expect(c.outlierDetection).to.deep.include({ consecutive5xx: 3, enforcingConsecutive5xx: true, enforcingConsecutiveGatewayFailure: false, intervalMs: 200, baseEjectionTimeMs: 600, maxEjectionTimeMs: 6_000, maxEjectionPercent: 50 });
    expect(o.timeScale).to.equal(0.02);
  });

  it("an empty outlierDetection block gets Envoy's defaults (5, 10 s, 30 s, 10 %) and turns panic routing off", function () {
    const c = clusterOf(render(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: p, namespace: prod}
spec: {host: payment, trafficPolicy: {outlierDetection: {maxEjectionPercent: 0, consecutive5xxErrors: 0, consecutiveGatewayErrors: 2}}}
`), PAYMENT);
    expect(c.outlierDetection).to.deep.include({ consecutive5xx: 0, enforcingConsecutive5xx: false, consecutiveGatewayFailure: 2, enforcingConsecutiveGatewayFailure: true, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10 });
    expect(c.healthyPanicThreshold).to.equal(0);
  });

  it("with no VirtualService: Istio's default retry policy and no timeout; attempts 0 removes retries; integer retryOn tokens become codes", function () {
    const d = routeOf(render(''), 'payment.prod.svc.cluster.local:80');
    expect(d).to.include({ timeoutMs: 0 });
    expect(d.retry).to.deep.include({ numRetries: 2, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [], previousHosts: true });
    const o = render(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: p, namespace: prod}
spec:
  hosts: [payment]
  http:
  - match: [{uri: {prefix: /slow}}]
    route: [{destination: {host: payment}}]
    retries: {attempts: 0}
  - route: [{destination: {host: payment}}]
    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 1s, retryOn: "5xx,503,reset"}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: l, namespace: prod}
spec:
  hosts: [ledger]
  http:
  - route: [{destination: {host: ledger}}]
    fault: {delay: {fixedDelay: 2s, percent: 5}, abort: {httpStatus: 503, percentage: {value: 20}}}
`, 'prod/order', 0.5);
    const routes = o.listeners.find((l) => l.servicePort === 80)!.virtualHosts!.find((v) => v.name.startsWith('payment.'))!.routes;
    expect(routes[0]).to.not.have.property('retry');
    expect(routes[0]!.match).to.deep.equal([{ uri: { prefix: '/slow' } }]);
    expect(routes[1]).to.deep.include({ timeoutMs: 1_500 });
    expect(routes[1]!.retry).to.deep.include({ numRetries: 3, retryOn: ['5xx', 'reset', 'retriable-status-codes'], retriableStatusCodes: [503], perTryTimeoutMs: 500 });
    expect(routeOf(o, 'ledger.prod.svc.cluster.local:80').fault).to.deep.equal({ delay: { fixedDelayMs: 1_000, millionths: 50_000 }, abort: { httpStatus: 503, millionths: 200_000 } });
  });

  it('auto mTLS follows each endpoint\'s mode; a DestinationRule tls mode overrides it', function () {
    const disable = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: payment-v2, namespace: prod}
spec: {selector: {matchLabels: {version: v2}}, mtls: {mode: DISABLE}}
`;
    expect(clusterOf(render(disable), PAYMENT).endpoints.map((e) => e.tls)).to.deep.equal([true, true, false]);
    const forced = `${disable}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: p, namespace: prod}
spec: {host: payment, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}
`;
    expect(clusterOf(render(forced), PAYMENT).endpoints.map((e) => e.tls)).to.deep.equal([true, true, true]);
  });

  it('subsets get their own clusters with their endpoints and merged policy; a route to a subset names it', function () {
    const o = render(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: p, namespace: prod}
spec:
  host: payment
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 7}}}
  subsets:
  - {name: v2, labels: {version: v2}, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: p, namespace: prod}
spec:
  hosts: [payment]
  http: [{route: [{destination: {host: payment, subset: v2}, weight: 90}, {destination: {host: payment}, weight: 10}]}]
`);
    const v2 = clusterOf(o, 'outbound|80|v2|payment.prod.svc.cluster.local');
    expect(v2.endpoints.map((e) => e.pod)).to.deep.equal(['payment-v2-0.prod']);
    expect(v2.circuitBreakers.maxConnections).to.equal(7);
    expect(v2.outlierDetection?.consecutive5xx).to.equal(1);
    expect(routeOf(o, 'payment.prod.svc.cluster.local:80').clusters).to.deep.equal([
      { name: 'outbound|80|v2|payment.prod.svc.cluster.local', weight: 90 },
      { name: PAYMENT, weight: 10 },
    ]);
  });

  it('lays out listeners on loopback from 15001: one per HTTP port (services and pods by Host), one per TCP destination', function () {
    const o = render('');
    expect(o.listeners.map((l) => [l.name, l.port, l.protocol])).to.deep.equal([
      ['outbound_80', 15001, 'http'],
      ['outbound_8080', 15002, 'http'],
      ['outbound_9080', 15003, 'http'],
      ['outbound_9000_ledger.prod.svc.cluster.local', 15004, 'tcp'],
      ['outbound_9000_ledger-0.prod', 15005, 'tcp'],
    ]);
    const port80 = o.listeners[0]!.virtualHosts!.map((v) => v.name);
    expect(port80).to.deep.equal(['payment.prod.svc.cluster.local:80', 'ledger.prod.svc.cluster.local:80']);
    expect(o.listeners[1]!.virtualHosts!.map((v) => v.domains[0])).to.deep.equal(['payment-0.prod', 'payment-1.prod', 'payment-v2-0.prod']);
    expect(clusterOf(o, 'outbound|8080||payment-v2-0.prod').tls.subjectAltNames).to.deep.equal(['spiffe://cluster.local/ns/prod/sa/payment-v2-sa']);
  });

  it('writes short-name domains only for the client\'s own namespace', function () {
    const domains = (client: string): readonly string[] => render('', client).listeners[0]!.virtualHosts![0]!.domains;
    expect(domains('prod/order')).to.include.members(['payment', 'payment:80', 'payment.prod', 'payment.prod.svc.cluster.local:80']);
    expect(domains('shop/cart')).to.not.include('payment');
    expect(domains('shop/cart')).to.include('payment.prod:80');
  });

  it('points a spoofed pod name at another address, for this sidecar only', function () {
    const mesh = resolveMesh(policiesFromYaml(''), topologyFromYaml(TOPOLOGY));
    const c = mesh.clients[0]!;
    const config = renderSidecarConfig(mesh, { kind: 'client', client: c, pod: 'order.prod' }, { generation: 1, appPort: 15080, endpointOverrides: new Map([['payment-1.prod', 'ledger-0.prod']]) });
    expect(config.outbound!.clusters.find((x) => x.name === PAYMENT)!.endpoints.map((e) => e.address)).to.deep.equal(['payment-0.prod', 'ledger-0.prod', 'payment-v2-0.prod']);
  });

  it('refuses a config whose TCP listener names a cluster that is not there, naming the field', function () {
    const o = render('');
    const mesh = resolveMesh(policiesFromYaml(''), topologyFromYaml(TOPOLOGY));
    const config = renderSidecarConfig(mesh, { kind: 'client', client: mesh.clients[0]!, pod: 'order.prod' }, { generation: 1, appPort: 15080 });
    const broken = { ...config, outbound: { ...o, listeners: o.listeners.map((l) => (l.protocol === 'tcp' ? { ...l, cluster: 'outbound|1||nowhere' } : l)) } };
    try {
      parseSidecarConfig(JSON.stringify(broken), 'broken.json');
      expect.fail('accepted a listener without its cluster');
    } catch (error) {
      expect(isMeshproofError(error)).to.equal(true);
      expect((error as Error).message).to.contain('outbound|1||nowhere');
    }
  });
});
