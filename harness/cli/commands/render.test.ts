import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { throwIfConfigInvalid, writeEnvoyConfig } from '../../dataplane/envoy/bootstrap-files.ts';
import { renderMeshEnvoyConfigs } from '../../dataplane/envoy/envoy-config.ts';
import { exitCodeFor, isMeshproofError } from '../../errors.ts';
import { loadPolicies } from '../../model/load-policies.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { loadTopology } from '../../model/topology.ts';

function meshproof(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['scripts/node.sh', '--disable-warning=ExperimentalWarning', 'harness/cli/main.ts', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('meshproof render --dataplane envoy', function () {
  this.timeout(60_000);

  it('writes one checked bootstrap per sidecar of the seed, stating the time scale in the file', function () {
    const out = mkdtempSync(join(tmpdir(), 'meshproof-render-'));
    const r = meshproof('render', '--dataplane', 'envoy', 'fixtures/seed', '--out', out, '--time-scale', '0.02', '--json');
    expect(r.status, r.stderr).to.equal(0);
    const result = JSON.parse(r.stdout) as { timeScale: number; sidecars: { sidecar: string; files: string[]; problems: unknown[] }[] };
    expect(result.sidecars.map((s) => s.sidecar)).to.deep.equal(['prod-namespace/order-service', 'prod-namespace/payment-service', 'prod-namespace/product-service', 'prod-namespace/order-client', 'prod-namespace/product-client']);
    for (const s of result.sidecars) {
      expect(s.problems).to.deep.equal([]);
      for (const f of s.files) expect(existsSync(f), f).to.equal(true);
    }
    const text = readFileSync(join(out, 'prod-namespace.payment-service', 'envoy.yaml'), 'utf8');
    expect(text).to.match(/^# Envoy v3 bootstrap for the sidecar of workload prod-namespace\/payment-service/).and.match(/# Time scale: 0\.02:/);
    expect((parse(text) as { node: { metadata: { meshproof: { time_scale: number } } } }).node.metadata.meshproof.time_scale).to.equal(0.02);
  });

  it('a bad policy: exit 2 with file:line and field', function () {
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-bad-'));
    cpSync('fixtures/seed', dir, { recursive: true });
    const file = join(dir, 'destination-rule.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('consecutive5xxErrors: 3', 'consecutive5xxErrors: "three"'));
    const r = meshproof('render', '--dataplane', 'envoy', dir, '--out', mkdtempSync(join(tmpdir(), 'meshproof-bad-out-')));
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/destination-rule\.yaml:\d+:\d+: spec\.trafficPolicy\.outlierDetection\.consecutive5xxErrors/);
  });

  it('a bad flag: exit 2', function () {
    expect(meshproof('render', '--dataplane', 'reference', 'fixtures/seed', '--out', tmpdir()).status).to.equal(2);
    expect(meshproof('render', '--dataplane', 'envoy', 'fixtures/seed', '--out', tmpdir(), '--time-scale', '-1').status).to.equal(2);
  });

  it('a rendered file Envoy would refuse fails the check: exit 3, naming the file and the field path', async function () {
    const mesh = resolveMesh(loadPolicies(['fixtures/seed']), loadTopology('fixtures/seed/topology.yaml'));
    const [sidecar] = renderMeshEnvoyConfigs(mesh, { xds: 'static' });
    if (sidecar === undefined) throw new Error('no sidecar rendered');
    const broken = structuredClone(sidecar.config) as typeof sidecar.config & { bootstrap: { static_resources: { clusters: Record<string, unknown>[] } } };
    const cluster = broken.bootstrap.static_resources.clusters[0];
    if (cluster !== undefined) cluster['lb_policy'] = 'FASTEST';
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-broken-'));
    const written = await writeEnvoyConfig(dir, broken);
    let error: unknown;
    try {
      throwIfConfigInvalid(written.problems);
    } catch (e) {
      error = e;
    }
    expect(isMeshproofError(error, 'MESHPROOF_ERR_CONFIG_INVALID')).to.equal(true);
    expect(exitCodeFor(error)).to.equal(3);
    expect(String((error as Error).message)).to.contain(`${join(dir, 'envoy.yaml')}: static_resources.clusters[0].lb_policy: 'FASTEST' is not a value of enum`);
    expect(() => throwIfConfigInvalid([])).to.not.throw();
    expect((await writeEnvoyConfig(dir, sidecar.config)).problems).to.deep.equal([]);
  });
});
