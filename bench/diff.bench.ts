/**
 * `meshproof diff` on two 5,000-rule policy sets (issue 20 target: under 10 s on this machine).
 *
 * BASE: 1,000 AuthorizationPolicies of 5 rules each (a principal, a method and a path per rule, as
 * the seed's rule), spread over the seed topology's three workloads, a DENY policy, the seed's
 * PeerAuthentication, DestinationRule and VirtualService. HEAD: the same with a principal added to
 * one rule, a path opened to another service account, the DENY removed, one workload relaxed to
 * PERMISSIVE and the outlier detection loosened. Two layouts: one file per policy (what a policy
 * repository looks like) and all policies in one 1 MB file (nothing in common to reuse).
 *
 * The command is timed end to end as a user runs it (a fresh process each time: Node start-up,
 * module loading, both sides loaded and validated, probes generated and decided under both, the
 * review printed), then its phases in this process. Figures are printed, never asserted.
 * Run: sh scripts/node.sh bench/diff.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { reviewChange } from '../harness/change/review-change.ts';
import { readPolicyInputs } from '../harness/model/policy-inputs.ts';
import { resolveMesh } from '../harness/model/resolve.ts';
import { projectRoot } from '../harness/project-root.ts';

const POLICIES = 1000;
const RULES = 5;
const APPS = ['payment-service', 'order-service', 'product-service'];

function policy(p: number, head: boolean): string {
  const rules: string[] = [];
  for (let r = 0; r < RULES; r++) {
    const i = p * RULES + r;
    const principals = [`"cluster.local/ns/prod-namespace/sa/sa-${i}"`];
    if (head && i === 42) principals.push('"cluster.local/ns/prod-namespace/sa/intruder"');
    rules.push(`  - from:\n    - source:\n        principals: [${principals.join(', ')}]\n    to:\n    - operation:\n        methods: ["POST"]\n        paths: ["/api/${i}/*"]`);
  }
  if (head && p === 7) rules.push('  - from:\n    - source:\n        principals: ["cluster.local/ns/prod-namespace/sa/reporting"]\n    to:\n    - operation:\n        methods: ["GET"]\n        paths: ["/reports/*"]');
  return `apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata:\n  name: p-${p}\n  namespace: prod-namespace\nspec:\n  selector:\n    matchLabels:\n      app: ${APPS[p % APPS.length]}\n  action: ALLOW\n  rules:\n${rules.join('\n')}\n`;
}

const DENY = 'apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata:\n  name: deny-admin\n  namespace: prod-namespace\nspec:\n  selector:\n    matchLabels:\n      app: payment-service\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: ["/api/*/admin"]\n        ports: ["8080"]\n';
const RELAX = 'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: product-permissive\n  namespace: prod-namespace\nspec:\n  selector:\n    matchLabels:\n      app: product-service\n  mtls:\n    mode: PERMISSIVE\n';

function writeSide(dir: string, head: boolean, oneFile: boolean): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['peer-authentication.yaml', 'destination-rule.yaml', 'virtual-service.yaml', 'topology.yaml']) copyFileSync(join(projectRoot, 'fixtures/seed', f), join(dir, f));
  if (head) {
    writeFileSync(join(dir, 'product-permissive.yaml'), RELAX);
    const dr = join(dir, 'destination-rule.yaml');
    writeFileSync(dr, (spawnSync('sed', ['s/consecutive5xxErrors: 3 /consecutive5xxErrors: 6 /', dr], { encoding: 'utf8' }).stdout));
  } else writeFileSync(join(dir, 'deny-admin.yaml'), DENY);
  if (oneFile) {
    writeFileSync(join(dir, 'authorization.yaml'), Array.from({ length: POLICIES }, (_, p) => policy(p, head)).join('---\n'));
  } else {
    mkdirSync(join(dir, 'authz'));
    for (let p = 0; p < POLICIES; p++) writeFileSync(join(dir, 'authz', `p-${String(p).padStart(4, '0')}.yaml`), policy(p, head));
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

console.log(`diff benchmark — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ${POLICIES * RULES} rules per side`);
for (const oneFile of [false, true]) {
  const root = mkdtempSync(join(tmpdir(), 'meshproof-diff-bench-'));
  const base = join(root, 'base');
  const head = join(root, 'head');
  writeSide(base, false, oneFile);
  writeSide(head, true, oneFile);
  const layout = oneFile ? 'one 1 MB file per side' : `${POLICIES} files per side`;

  const runs: number[] = [];
  let summary = '';
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const r = spawnSync('sh', [join(projectRoot, 'bin/meshproof'), 'diff', base, head], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    runs.push(performance.now() - start);
    if (r.status !== 0) throw new Error(`meshproof diff exited ${r.status}: ${r.stderr}`);
    summary = r.stdout.trim().split('\n').at(-1) ?? '';
  }
  runs.sort((a, b) => a - b);
  console.log(`\n${layout}: meshproof diff, end to end (fresh process): ${runs.map(seconds).join(', ')} (median ${seconds(runs[1] ?? 0)})`);
  console.log(`  ${summary}`);

  // Phases, in this process (modules already loaded after the first round).
  const t0 = performance.now();
  const b = readPolicyInputs(base, undefined);
  const t1 = performance.now();
  const h = readPolicyInputs(head, undefined);
  const t2 = performance.now();
  const mb = resolveMesh(b.policies.set, b.topology!);
  const mh = resolveMesh(h.policies.set, h.topology!);
  const t3 = performance.now();
  const { review } = reviewChange({ base: { dir: base, policies: b.policies.set, mesh: mb }, head: { dir: head, policies: h.policies.set, mesh: mh }, topology: 'topology.yaml' });
  const t4 = performance.now();
  console.log(`  phases: load+validate BASE ${seconds(t1 - t0)}, HEAD ${seconds(t2 - t1)} (documents BASE already parsed are reused), resolve ${seconds(t3 - t2)}, review ${seconds(t4 - t3)} (${review.base.probes} + ${review.head.probes} probes generated, ${review.summary.probesCompared} compared)`);
}
