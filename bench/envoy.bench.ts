/**
 * What the Envoy adapter costs: loading Envoy's API once, then rendering and statically checking
 * each bootstrap, for the seed and for a larger synthetic mesh; and how long the availability
 * check takes to answer on this machine.
 * Run: sh scripts/node.sh bench/envoy.bench.ts   (figures are printed, never asserted)
 */
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEnvoyAvailability } from '../harness/dataplane/envoy/availability.ts';
import { writeEnvoyConfig } from '../harness/dataplane/envoy/bootstrap-files.ts';
import { envoyApi } from '../harness/dataplane/envoy/envoy-api.ts';
import { renderMeshEnvoyConfigs } from '../harness/dataplane/envoy/envoy-config.ts';
import { checkEnvoyConfig } from '../harness/dataplane/envoy/static-check.ts';
import { loadPolicies, policiesFromYaml } from '../harness/model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../harness/model/resolve.ts';
import { loadTopology, topologyFromYaml } from '../harness/model/topology.ts';

const ROUNDS = 20;

function synthetic(workloads: number): ResolvedMesh {
  const w = Array.from({ length: workloads }, (_v, i) => `svc-${i}`);
  const topology = [
    'apiVersion: meshproof.dev/v1alpha1',
    'kind: Topology',
    'namespaces: [bench]',
    'workloads:',
    ...w.map((n) => `- {name: ${n}, namespace: bench, serviceAccount: ${n}-sa, replicas: 3, ports: [{port: 8080, protocol: http}, {port: 9090, protocol: tcp}]}`),
    'services:',
    ...w.map((n) => `- {name: ${n}, namespace: bench, selector: {app: ${n}}, ports: [{port: 80, targetPort: 8080}, {port: 9090, targetPort: 9090}]}`),
    'clients:',
    '- {name: caller, namespace: bench, serviceAccount: caller}',
  ].join('\n');
  const policies = w
    .map(
      (n, i) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${n}-allow, namespace: bench}
spec:
  selector: {matchLabels: {app: ${n}}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/bench/sa/caller", "*-sa"]}}]
    to: [{operation: {methods: ["GET", "POST"], paths: ["/api/*", "/v1/{*}/items"]}}]
  - from: [{source: {namespaces: ["bench"]}}]
    to: [{operation: {ports: ["9090"]}}]
    when: [{key: "request.headers[x-team]", values: ["blue"]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${n}-deny, namespace: bench}
spec:
  selector: {matchLabels: {app: ${n}}}
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin/*"]}}]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${n}, namespace: bench}
spec:
  host: ${n}
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: ${10 + i}}, http: {http1MaxPendingRequests: 5, maxRequestsPerConnection: 10}}
    outlierDetection: {consecutive5xxErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${n}, namespace: bench}
spec:
  hosts: [${n}]
  http:
  - match: [{uri: {prefix: /slow}}]
    route: [{destination: {host: ${n}}}]
    timeout: 3s
    fault: {delay: {percentage: {value: 10}, fixedDelay: 2s}}
  - route: [{destination: {host: ${n}}}]
    retries: {attempts: 3, perTryTimeout: 1s, retryOn: "5xx,503"}
`,
    )
    .join('---\n');
  return resolveMesh(policiesFromYaml(policies, 'bench.yaml'), topologyFromYaml(topology, 'bench-topology.yaml'));
}

async function measure(label: string, mesh: ResolvedMesh): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'envoy-bench-'));
  let render = 0;
  let check = 0;
  let files = 0;
  let sidecars = 0;
  let bytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    const rendered = renderMeshEnvoyConfigs(mesh, { timeScale: 0.02 });
    render += performance.now() - t;
    t = performance.now();
    for (const s of rendered) if (checkEnvoyConfig(s.config).length > 0) throw new Error(`${s.id} fails the check`);
    check += performance.now() - t;
    t = performance.now();
    for (const s of rendered) {
      if (round === 0) bytes += s.config.files.reduce((n, f) => n + JSON.stringify(f.document).length, JSON.stringify(s.config.bootstrap).length);
      if ((await writeEnvoyConfig(join(dir, s.id), s.config)).problems.length > 0) throw new Error(`${s.id} fails the check as written`);
    }
    files += performance.now() - t;
    sidecars = rendered.length;
  }
  const per = (ms: number): string => `${(ms / ROUNDS / sidecars).toFixed(2)} ms`;
  process.stdout.write(
    `  ${label.padEnd(44)} ${String(sidecars).padStart(3)} configs (${(bytes / sidecars / 1024).toFixed(0)} KiB JSON each): render ${per(render)}, check ${per(check)}, write+read back+check ${per(files)} per config\n`,
  );
}

process.stdout.write(`meshproof envoy bench: ${ROUNDS} rounds, Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}\n`);
let t = performance.now();
const api = envoyApi();
process.stdout.write(`  load Envoy's API once (${api.source.package}, ${api.source.protoFiles} files)     ${(performance.now() - t).toFixed(0)} ms\n`);
await measure('seed (fixtures/seed)', resolveMesh(loadPolicies(['fixtures/seed']), loadTopology('fixtures/seed/topology.yaml')));
await measure('synthetic: 20 workloads × 2 ports, 4 policies each', synthetic(20));
t = performance.now();
const availability = await checkEnvoyAvailability();
process.stdout.write(`  availability check (real docker CLI)                    ${(performance.now() - t).toFixed(0)} ms: ${availability.available ? `available (${JSON.stringify(availability.source)})` : availability.reason}\n`);
