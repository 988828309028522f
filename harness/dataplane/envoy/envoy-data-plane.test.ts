import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Feature } from '../../conformance/features.ts';
import { loadPolicies } from '../../model/load-policies.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { loadTopology } from '../../model/topology.ts';
import { projectRoot } from '../../project-root.ts';
import { checkEnvoyAvailability, ENVOY_BINARY_ENV, ENVOY_PULL_ENV, type ImageProbe, type ProbeResult } from './availability.ts';
import { ENVOY_IMAGE } from './bootstrap.ts';
import { ENVOY_READY_LINE, ENVOY_RECIPE, EnvoyDataPlane } from './envoy-data-plane.ts';
import { applyStaging, planStaging } from './stage-binary.ts';

const no = (error: string): ProbeResult => ({ ok: false, error });
const yes = (output = ''): ProbeResult => ({ ok: true, output });

/** A probe that answers from a script and records what it was asked. */
function fakeProbe(answers: { hasImage?: ProbeResult; pull?: ProbeResult; version?: ProbeResult }): ImageProbe & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    hasImage: async (image) => (asked.push(`hasImage ${image}`), answers.hasImage ?? no('No such image')),
    pull: async (image, timeoutMs) => (asked.push(`pull ${image} ${timeoutMs}`), answers.pull ?? no('no such host')),
    version: async (binary) => (asked.push(`version ${binary}`), answers.version ?? no('failed')),
  };
}

describe('envoy: availability and the data plane adapter', function () {
  this.timeout(20_000);

  it('unavailable: says what it looked for (binary variable, local image, pull) in the skip reason', async function () {
    const probe = fakeProbe({});
    const a = await checkEnvoyAvailability({ env: {}, probe, pullTimeoutMs: 1234 });
    expect(a.available).to.equal(false);
    expect(probe.asked).to.deep.equal([`hasImage ${ENVOY_IMAGE}`, `pull ${ENVOY_IMAGE} 1234`]);
    expect(a.reason).to.equal(`envoy unavailable: local binary (${ENVOY_BINARY_ENV}): not set; image ${ENVOY_IMAGE}: not present locally (No such image); pull ${ENVOY_IMAGE}: failed (no such host)`);
  });

  it('available from a present image without pulling, or after a pull; a pull can be turned off', async function () {
    const present = fakeProbe({ hasImage: yes('sha256:abc') });
    expect((await checkEnvoyAvailability({ env: {}, probe: present })).source).to.deep.equal({ kind: 'image', image: ENVOY_IMAGE, pulled: false });
    expect(present.asked).to.deep.equal([`hasImage ${ENVOY_IMAGE}`]);
    expect((await checkEnvoyAvailability({ env: {}, probe: fakeProbe({ pull: yes() }) })).source).to.deep.equal({ kind: 'image', image: ENVOY_IMAGE, pulled: true });
    const noPull = fakeProbe({});
    const a = await checkEnvoyAvailability({ env: { [ENVOY_PULL_ENV]: '0' }, probe: noPull });
    expect(a.available).to.equal(false);
    expect(noPull.asked).to.deep.equal([`hasImage ${ENVOY_IMAGE}`]);
    expect(a.reason).to.contain(`pull ${ENVOY_IMAGE}: not tried (${ENVOY_PULL_ENV}=0)`);
  });

  it('a local binary counts only if it exists, is executable and says it is Envoy', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'envoy-bin-'));
    const missing = await checkEnvoyAvailability({ env: { [ENVOY_BINARY_ENV]: join(dir, 'envoy') }, probe: fakeProbe({}) });
    expect(missing.reason).to.contain(`local binary ${join(dir, 'envoy')}: no such file`);
    const script = join(dir, 'envoy');
    writeFileSync(script, '#!/bin/sh\necho "envoy  version: 0000/1.32.5/Clean/RELEASE/BoringSSL"\n');
    chmodSync(script, 0o755);
    // The real probe runs it: a script standing in for the binary.
    const ok = await checkEnvoyAvailability({ env: { [ENVOY_BINARY_ENV]: script }, probe: { ...fakeProbe({}), version: (await import('./availability.ts')).binaryVersion } });
    expect(ok.source).to.deep.equal({ kind: 'binary', path: script, version: 'envoy  version: 0000/1.32.5/Clean/RELEASE/BoringSSL' });
    const notEnvoy = await checkEnvoyAvailability({ env: { [ENVOY_BINARY_ENV]: script }, probe: fakeProbe({ version: yes('GNU coreutils 9.1') }) });
    expect(notEnvoy.available).to.equal(false);
    expect(notEnvoy.reason).to.contain('printed no Envoy version');
  });

  it('on this machine (the real docker CLI; no pull, so no network from a unit test): unavailable, fast, with the reason', async function () {
    const a = await checkEnvoyAvailability({ env: { ...process.env, [ENVOY_BINARY_ENV]: undefined, [ENVOY_PULL_ENV]: '0' } });
    if (a.available) this.skip(); // a machine that has Envoy: nothing to show here
    expect(a.reason).to.match(/^envoy unavailable: local binary \(MESHPROOF_ENVOY_BINARY\): not set; image envoyproxy\/envoy:v1\.32\.5: not present locally/);
    expect(a.elapsedMs).to.be.below(15_000);
  });

  it('every case is skipped with that reason when Envoy is unavailable, and none when it is', async function () {
    const off = new EnvoyDataPlane({ availability: { env: {}, probe: fakeProbe({}) } });
    const outcome = await off.skipOutcome();
    expect(outcome?.status).to.equal('skipped');
    expect(outcome?.reason).to.match(/^envoy unavailable: /);
    expect(await new EnvoyDataPlane({ availability: { env: {}, probe: fakeProbe({ hasImage: yes() }) } }).skipOutcome()).to.equal(undefined);
    const info = await off.info();
    expect(info).to.deep.include({ name: 'envoy', version: ENVOY_IMAGE, available: false, unavailableReason: outcome?.reason });
    expect(info.claimedFeatures).to.include(Feature.MtlsStrict);
  });

  it('claims the features its configs express, and not CUSTOM or live mode changes', function () {
    const dp = new EnvoyDataPlane();
    expect(dp.features.has(Feature.MtlsStrict)).to.equal(true);
    expect(dp.features.has(Feature.OutlierDetection)).to.equal(true);
    expect(dp.features.has(Feature.IdentityRotation)).to.equal(true);
    expect(dp.features.has(Feature.AuthzCustom)).to.equal(false);
    expect(dp.features.has(Feature.MtlsMigration)).to.equal(false);
    expect(new EnvoyDataPlane({ render: { certificates: 'files' } }).features.has(Feature.IdentityRotation)).to.equal(false);
  });

  it('an image sidecar: the envoy recipe, the rendered config written where -c points, root in the container', async function () {
    const mesh = resolveMesh(loadPolicies([join(projectRoot, 'fixtures', 'seed')]), loadTopology(join(projectRoot, 'fixtures', 'seed', 'topology.yaml')));
    const dp = new EnvoyDataPlane({ render: { timeScale: 0.02 } });
    const [first] = dp.render(mesh);
    if (first === undefined) throw new Error('nothing rendered');
    const sidecar = dp.sidecar(first, { kind: 'image', image: ENVOY_IMAGE, pulled: false });
    expect(sidecar.container).to.deep.equal({ image: ENVOY_RECIPE, args: ['-c', '/run/meshproof/envoy/envoy.yaml', '--log-level', 'info'], env: { ENVOY_UID: '0', ENVOY_GID: '0' }, readyLine: ENVOY_READY_LINE });
    const dir = mkdtempSync(join(tmpdir(), 'envoy-pod-'));
    await sidecar.prepare({ app: join(dir, 'app'), sidecar: dir });
    expect(readFileSync(join(dir, 'envoy', 'envoy.yaml'), 'utf8')).to.match(/# Time scale: 0\.02\./);
    expect(existsSync(join(dir, 'envoy', 'sds-default.yaml'))).to.equal(true);
  });

  it('the docker/envoy recipe pins the same image as the renderer', function () {
    expect(readFileSync(join(projectRoot, 'docker', 'envoy', 'Dockerfile'), 'utf8')).to.contain(`FROM ${ENVOY_IMAGE}\n`);
    expect(JSON.parse(readFileSync(join(projectRoot, 'docker', 'envoy', 'image.json'), 'utf8')).published).to.equal(ENVOY_IMAGE);
  });

  it('stages a dynamically linked host binary so it runs with only its copied libraries and loader', function () {
    const binary = execFileSync('sh', ['-c', 'command -v ls'], { encoding: 'utf8' }).trim();
    const dir = mkdtempSync(join(tmpdir(), 'envoy-stage-'));
    const plan = planStaging(binary, dir);
    expect(plan.command[1]).to.equal('--library-path');
    const files = applyStaging(plan, dir);
    expect(files.length).to.be.greaterThan(2);
    // Run exactly the planned command (here the container path is the host folder itself).
    const out = execFileSync(plan.command[0] as string, [...plan.command.slice(1), '--version'], { encoding: 'utf8', env: {} });
    expect(out).to.match(/ls/);
  });
});
