/**
 * How many inbound decisions per second the oracle makes (issue 4 target: ≥ 100,000/s), on the
 * seed and on a larger policy set (20 policies of mixed actions, principals, paths, headers).
 * Requests are pre-built and cycled; the oracle's compiled-policy cache is warm after the first.
 * Run: sh scripts/node.sh bench/oracle.bench.ts   (figures are printed, never asserted)
 */
import { cpus } from 'node:os';
import { loadPolicies, policiesFromYaml } from '../harness/model/load-policies.ts';
import { resolveMesh } from '../harness/model/resolve.ts';
import { loadTopology, topologyFromYaml } from '../harness/model/topology.ts';
import { InboundOracle, type InboundRequest } from '../harness/oracle/inbound.ts';
import { generateProbes } from '../harness/oracle/probe-generator.ts';
import { simulateOutlierDetection } from '../harness/oracle/outlier-simulation.ts';

function measure(name: string, oracle: InboundOracle, requests: readonly InboundRequest[], seconds = 2): void {
  for (let i = 0; i < 20_000; i++) oracle.decide(requests[i % requests.length] as InboundRequest); // warm-up
  let n = 0;
  const outcomes = new Map<string, number>();
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      const d = oracle.decide(requests[n++ % requests.length] as InboundRequest);
      outcomes.set(d.outcome, (outcomes.get(d.outcome) ?? 0) + 1);
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  const mix = [...outcomes].map(([k, v]) => `${k} ${Math.round((100 * v) / n)}%`).join(', ');
  console.log(`${name.padEnd(34)} ${Math.round(n / elapsed).toLocaleString('en-US').padStart(10)} decisions/s  (${n.toLocaleString('en-US')} in ${elapsed.toFixed(2)} s; ${mix})`);
}

const seedStart = performance.now();
const seedMesh = resolveMesh(loadPolicies(['fixtures/seed']), loadTopology('fixtures/seed/topology.yaml'));
const seedLoadMs = performance.now() - seedStart;
const ids = ['order-service-sa', 'product-service-sa', 'payment-service-sa'].map((sa) => ({ kind: 'mesh' as const, identity: `cluster.local/ns/prod-namespace/sa/${sa}` }));
const seedRequests: InboundRequest[] = [];
for (const source of [...ids, { kind: 'plaintext' as const }]) {
  for (const method of ['GET', 'POST']) for (const path of ['/pay/1', '/pay/../admin', '/refund?x=1', '/pay//2']) seedRequests.push({ source, to: 'prod-namespace/payment-service', method, path });
}

const topology = topologyFromYaml(`apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [shop]
workloads:
- {name: api, namespace: shop, labels: {app: api}, ports: [{port: 8080, protocol: http}, {port: 9000, protocol: tcp}]}
`);
const docs: string[] = [];
for (let i = 0; i < 20; i++) {
  const action = i % 5 === 0 ? 'DENY' : i % 7 === 0 ? 'AUDIT' : 'ALLOW';
  docs.push(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p${i}, namespace: shop}
spec:
  action: ${action}
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/shop/sa/sa${i}", "cluster.local/ns/other/sa/*"]}
    to:
    - operation: {methods: ["GET", "POST"], paths: ["/v${i}/*", "*.json"], notPaths: ["/v${i}/admin"]}
    when:
    - key: request.headers[x-tenant]
      values: ["t${i}", "t${i + 1}"]
  - from:
    - source: {namespaces: ["ns${i}"], notPrincipals: ["cluster.local/ns/ns${i}/sa/blocked"]}`);
}
const large = new InboundOracle(resolveMesh(policiesFromYaml(docs.join('\n---\n')), topology));
const largeRequests: InboundRequest[] = [];
for (let i = 0; i < 64; i++) {
  largeRequests.push({
    source: i % 8 === 0 ? { kind: 'plaintext' } : { kind: 'mesh', identity: `cluster.local/ns/${i % 3 === 0 ? `ns${i % 20}` : 'shop'}/sa/sa${i % 20}` },
    to: 'shop/api',
    port: i % 16 === 0 ? 9000 : 8080,
    method: i % 2 === 0 ? 'GET' : 'POST',
    path: `/v${i % 20}/${i % 4 === 0 ? 'admin' : 'item/./x'}`,
    headers: { 'x-tenant': `t${i % 21}` },
  });
}

console.log(`oracle benchmark — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
console.log(`seed load + validate + resolve: ${seedLoadMs.toFixed(0)} ms (first load includes module and schema start-up)`);
measure('seed (1 ALLOW policy, STRICT)', new InboundOracle(seedMesh), seedRequests);
measure('20 policies, 40 rules, http+tcp', large, largeRequests);
let t = performance.now();
const probes = generateProbes(seedMesh);
console.log(`generateProbes(seed): ${probes.length} probes in ${(performance.now() - t).toFixed(1)} ms`);
t = performance.now();
const sim = simulateOutlierDetection({ endpoints: 4, outlierDetection: { consecutive5xxErrors: 3, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 }, untilMs: 600_000, traffic: { everyMs: 10, respond: (e) => (e < 2 ? 503 : 200) } });
console.log(`outlier simulation: 10 min of traffic at 100 rps (${sim.requests.length.toLocaleString('en-US')} requests) in ${(performance.now() - t).toFixed(0)} ms`);
