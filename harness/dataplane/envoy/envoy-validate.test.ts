/**
 * The rendered configurations, checked by Envoy itself: `envoy --mode validate` (Envoy 1.40 from
 * scripts/setup.sh) loads every sidecar's self-contained bootstrap of the seed and security
 * fixtures, certificates included, and says OK; and it refuses a bootstrap made wrong on purpose,
 * so the check can fail. Without the project's Envoy binary the test says so and is pending.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { loadPolicies } from '../../model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../../model/resolve.ts';
import { loadTopology } from '../../model/topology.ts';
import { MeshCa } from '../../pki/mesh-ca.ts';
import { writeWorkloadFiles } from '../../pki/workload-files.ts';
import { projectRoot } from '../../project-root.ts';
import { PROJECT_ENVOY_BINARY } from './availability.ts';
import { writeEnvoyConfig } from './bootstrap-files.ts';
import { renderMeshEnvoyConfigs } from './envoy-config.ts';

const run = promisify(execFile);

async function validate(bootstrap: string): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await run(PROJECT_ENVOY_BINARY, ['--mode', 'validate', '-c', bootstrap, '--log-level', 'error'], { timeout: 20_000 });
    return { ok: true, out: r.stdout + r.stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

describe('envoy: rendered configurations, validated by Envoy 1.40 itself', function () {
  this.timeout(120_000);
  let dir: string;

  before(async function () {
    if (!existsSync(PROJECT_ENVOY_BINARY)) {
      process.stdout.write(`      skipped: no Envoy at ${PROJECT_ENVOY_BINARY} (sh scripts/setup.sh installs it)\n`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'meshproof-envoy-validate-'));
    // Real certificate files where the configs name them, as in a pod.
    await writeWorkloadFiles(join(dir, 'certs'), await (await MeshCa.create()).issue({ namespace: 'prod-namespace', serviceAccount: 'payment-service-sa' }));
  });

  after(function () {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const meshes: [string, () => ResolvedMesh][] = [
    ['seed', () => resolveMesh(loadPolicies([join(projectRoot, 'fixtures/seed')]), loadTopology(join(projectRoot, 'fixtures/seed/topology.yaml')))],
    ['security', () => resolveMesh(loadPolicies([join(projectRoot, 'fixtures/security'), join(projectRoot, 'fixtures/seed')], { exclude: (f) => f.endsWith('topology.yaml') }), loadTopology(join(projectRoot, 'fixtures/security/topology.yaml')))],
    ['resilience', () => resolveMesh(loadPolicies([join(projectRoot, 'fixtures/resilience')], { exclude: (f) => f.endsWith('topology.yaml') }), loadTopology(join(projectRoot, 'fixtures/resilience/topology.yaml')))],
  ];
  for (const [name, mesh] of meshes) {
    it(`every sidecar of the ${name} fixtures loads in Envoy (--mode validate: OK)`, async function () {
      const all = renderMeshEnvoyConfigs(mesh(), { xds: 'static', timeScale: 0.02, certDir: join(dir, 'certs'), configDir: join(dir, name), adminSocket: null, accessLog: join(dir, 'access.log') });
      expect(all.length).to.be.at.least(2);
      for (const s of all) {
        // One folder (the configDir the SDS references name), written over for each sidecar in turn.
        const folder = join(dir, name);
        mkdirSync(folder, { recursive: true });
        const written = await writeEnvoyConfig(folder, s.config);
        expect(written.problems).to.deep.equal([]);
        const result = await validate(written.files[0]!);
        expect(result.ok, `${s.key}: ${result.out}`).to.equal(true);
        expect(result.out).to.contain('OK');
      }
    });
  }

  it('the check can fail: Envoy refuses a bootstrap whose cluster has an unknown load-balancing policy', async function () {
    const [first] = renderMeshEnvoyConfigs(meshes[0]![1](), { xds: 'static', certificates: 'files', certDir: join(dir, 'certs'), adminSocket: null, accessLog: null });
    const bootstrap = structuredClone(first!.config.bootstrap) as { static_resources: { clusters: Record<string, unknown>[] } };
    bootstrap.static_resources.clusters[0]!['lb_policy'] = 'FASTEST';
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, stringify(bootstrap));
    const result = await validate(file);
    expect(result.ok).to.equal(false);
    expect(result.out).to.match(/FASTEST/);
  });
});
