import { expect } from 'chai';
import { loadPolicies, policiesFromYaml } from '../model/load-policies.ts';
import { resolveMesh } from '../model/resolve.ts';
import { loadTopology } from '../model/topology.ts';
import { ejections, outboundOutcome, routeOutbound } from './outbound.ts';

const mesh = resolveMesh(loadPolicies(['fixtures/explain']), loadTopology('fixtures/explain/topology.yaml'));
const teller = { kind: 'mesh', identity: 'cluster.local/ns/bank/sa/teller-sa' } as const;

describe('outbound oracle: what the caller\'s sidecar does with a call to a service', function () {
  const rows: [string, Parameters<typeof routeOutbound>[1], string | undefined, number | undefined][] = [
    ['a header picks the first route', { source: teller, service: 'bank/ledger', path: '/accounts/1', headers: [['X-Canary', '1']] }, 'canary-fault', undefined],
    ['a prefix picks the second, with its timeout', { source: teller, service: 'bank/ledger', path: '/accounts/1?page=2' }, 'accounts', 2000],
    ['anything else takes the last', { source: teller, service: 'ledger.bank.svc.cluster.local', path: '/health' }, 'rest', undefined],
  ];
  for (const [name, request, route, timeout] of rows) {
    it(`${name} → ${route}`, function () {
      const a = routeOutbound(mesh, request);
      expect(a.route?.http.name).to.equal(route);
      expect(a.timeoutMs).to.equal(timeout);
      expect(a.destinationRule?.name).to.equal('ledger');
      expect(a.maxEjected, '34% of 3 endpoints').to.equal(1);
    });
  }

  it('retries, timeouts and faults of the route taken decide what the client gets', function () {
    const accounts = routeOutbound(mesh, { source: teller, service: 'bank/ledger', path: '/accounts/1' });
    expect(outboundOutcome(mesh, accounts, [{ kind: 'response', status: 503 }, { kind: 'reset' }, { kind: 'response', status: 200 }])).to.deep.include({ attempts: 3, status: 200 });
    expect(outboundOutcome(mesh, accounts, [{ kind: 'response', status: 200, latencyMs: 800 }])).to.deep.include({ attempts: 3, status: 504, flags: ['UT', 'URX'] });
    const canary = routeOutbound(mesh, { source: teller, service: 'bank/ledger', headers: [['x-canary', '1']] });
    expect(outboundOutcome(mesh, canary, [{ kind: 'response', status: 200 }], 20)).to.deep.include({ attempts: 0, status: 503, flags: ['FI'] });
    expect(outboundOutcome(mesh, canary, [{ kind: 'response', status: 200 }], 70)).to.deep.include({ attempts: 1, status: 200 });
  });

  it('ejects at most maxEjectionPercent of the endpoints, and says when the others overflow', function () {
    const a = routeOutbound(mesh, { source: teller, service: 'bank/ledger' });
    const sim = ejections(a, { failing: 2, failWith: 503, everyMs: 100, forMs: 10_000 });
    expect(sim?.timeline.filter((e) => e.kind === 'ejected').map((e) => e.endpoint)).to.deep.equal([0]);
    expect(sim?.stats.ejectionsOverflow).to.be.greaterThan(0);
  });

  it('a client without a sidecar gets no routing, and a TCP port no HTTP route', function () {
    const plain = routeOutbound(mesh, { source: { kind: 'plaintext' }, service: 'bank/ledger' });
    expect(plain).to.deep.include({ sidecar: false });
    expect(plain.route).to.equal(undefined);
    const tcp = routeOutbound(mesh, { source: teller, service: 'bank/ledger', port: 9000 });
    expect(tcp.route).to.equal(undefined);
    expect(tcp.notes.join()).to.match(/port 9000 is TCP/);
  });

  it('finds the DestinationRule from the caller\'s namespace first', function () {
    const other = resolveMesh(
      policiesFromYaml(`apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: from-bank, namespace: bank}\nspec: {host: ledger.bank.svc.cluster.local, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 7}}}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: from-shop, namespace: shop}\nspec: {host: ledger.bank.svc.cluster.local, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1}}}\n`),
      loadTopology('fixtures/explain/topology.yaml'),
    );
    expect(routeOutbound(other, { source: { kind: 'mesh', identity: 'cluster.local/ns/shop/sa/cart' }, service: 'bank/ledger' }).outlier?.consecutive5xx).to.equal(1);
    expect(routeOutbound(other, { source: teller, service: 'bank/ledger' }).outlier?.consecutive5xx).to.equal(7);
  });
});
