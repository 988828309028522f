import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { Feature } from '../../spec/features.ts';
import { loadPolicies } from '../../model/load-policies.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { loadTopology } from '../../model/topology.ts';
import { projectRoot } from '../../project-root.ts';
import { createDataPlane } from '../create-data-plane.ts';
import { binaryVersion, checkEnvoyAvailability, ENVOY_BINARY_ENV, ENVOY_IMAGE, ENVOY_PULL_ENV, PROJECT_ENVOY_BINARY, type ImageProbe, type ProbeResult } from './availability.ts';
import { appliedVersion, drainingNone } from './config-dump.ts';
import { ENVOY_OFFICIAL_RECIPE, ENVOY_READY_LINE, ENVOY_RECIPE, EnvoyAdapter } from './envoy-adapter.ts';

const seed = join(projectRoot, 'fixtures', 'seed');
const mesh = () => resolveMesh(loadPolicies([seed], { exclude: (f) => f.endsWith('topology.yaml') }), loadTopology(join(seed, 'topology.yaml')));
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

function fakeEnvoy(): string {
  const script = join(mkdtempSync(join(tmpdir(), 'envoy-bin-')), 'envoy');
  writeFileSync(script, '#!/bin/sh\necho "envoy  version: 0000/1.40.0/Clean/RELEASE/BoringSSL"\n');
  chmodSync(script, 0o755);
  return script;
}

describe('envoy: availability', function () {
  this.timeout(20_000);

  it('unavailable: says what it looked for (binary variable, project binary, local image, pull) in the skip reason', async function () {
    const probe = fakeProbe({});
    const a = await checkEnvoyAvailability({ env: {}, probe, pullTimeoutMs: 1234, projectBinary: '/nowhere/envoy' });
    expect(a.available).to.equal(false);
    expect(probe.asked).to.deep.equal([`hasImage ${ENVOY_IMAGE}`, `pull ${ENVOY_IMAGE} 1234`]);
    expect(a.reason).to.equal(
      `envoy unavailable: local binary (${ENVOY_BINARY_ENV}): not set; project binary /nowhere/envoy (sh scripts/setup.sh installs it): no such file; image ${ENVOY_IMAGE}: not present locally (No such image); pull ${ENVOY_IMAGE}: failed (no such host)`,
    );
  });

  it('MESHPROOF_ENVOY_BINARY first, then the project binary, then the image; a pull can be turned off', async function () {
    const script = fakeEnvoy();
    const fromEnv = await checkEnvoyAvailability({ env: { [ENVOY_BINARY_ENV]: script }, probe: { ...fakeProbe({}), version: binaryVersion }, projectBinary: '/nowhere/envoy' });
    expect(fromEnv.source).to.deep.equal({ kind: 'binary', path: script, version: 'envoy  version: 0000/1.40.0/Clean/RELEASE/BoringSSL' });
    const fromProject = await checkEnvoyAvailability({ env: {}, probe: { ...fakeProbe({}), version: binaryVersion }, projectBinary: script });
    expect(fromProject.source).to.deep.include({ kind: 'binary', path: script });
    const present = await checkEnvoyAvailability({ env: {}, probe: fakeProbe({ hasImage: yes() }), projectBinary: null });
    expect(present.source).to.deep.equal({ kind: 'image', image: ENVOY_IMAGE, pulled: false });
    const probe = fakeProbe({});
    const noPull = await checkEnvoyAvailability({ env: { [ENVOY_PULL_ENV]: '0' }, probe, projectBinary: null });
    expect(noPull.available).to.equal(false);
    expect(probe.asked).to.deep.equal([`hasImage ${ENVOY_IMAGE}`]);
  });

  it('a local binary counts only if it exists, is executable and says it is Envoy', async function () {
    const notEnvoy = await checkEnvoyAvailability({ env: { [ENVOY_BINARY_ENV]: fakeEnvoy() }, probe: fakeProbe({ version: yes('GNU coreutils 9.1') }), projectBinary: null });
    expect(notEnvoy.available).to.equal(false);
    expect(notEnvoy.reason).to.contain('printed no Envoy version');
    const missing = await checkEnvoyAvailability({ env: { [ENVOY_BINARY_ENV]: '/nowhere/envoy' }, probe: fakeProbe({}), projectBinary: null });
    expect(missing.reason).to.contain('local binary /nowhere/envoy: no such file');
  });

  it('the project binary setup.sh installs, when present, is Envoy 1.40.0', async function () {
    if (!existsSync(PROJECT_ENVOY_BINARY)) this.skip(); // a machine set up with --no-envoy
    const a = await checkEnvoyAvailability({ env: {}, projectBinary: PROJECT_ENVOY_BINARY, probe: { ...fakeProbe({}), version: binaryVersion } });
    expect(a.source).to.deep.include({ kind: 'binary', path: PROJECT_ENVOY_BINARY });
    expect(a.source?.kind === 'binary' ? a.source.version : '').to.match(/\/1\.40\.0\//);
  });

  it('the docker/envoy-official recipe pins the same image as availability', function () {
    expect(readFileSync(join(projectRoot, 'docker', 'envoy-official', 'Dockerfile'), 'utf8')).to.contain(`FROM ${ENVOY_IMAGE}\n`);
    expect(JSON.parse(readFileSync(join(projectRoot, 'docker', 'envoy-official', 'image.json'), 'utf8')).published).to.equal(ENVOY_IMAGE);
    expect(JSON.parse(readFileSync(join(projectRoot, 'docker', 'envoy', 'image.json'), 'utf8')).hostBinary).to.equal('/usr/local/bin/envoy');
  });
});

describe('envoy: the data-plane adapter', function () {
  this.timeout(20_000);

  it('says it cannot run here, with what it looked for, when no engine or binary is given', async function () {
    const adapter = new EnvoyAdapter({ availability: { env: { [ENVOY_PULL_ENV]: '0' }, projectBinary: null } });
    const info = await adapter.info();
    expect(info).to.include({ name: 'envoy', available: false, version: ENVOY_IMAGE });
    expect(info.unavailableReason).to.match(/^envoy unavailable: local binary \(MESHPROOF_ENVOY_BINARY\): not set; image envoyproxy\/envoy/);
  });

  it('claims what its configs express (live changes included), and not CUSTOM or Istio\'s own metrics', function () {
    const dp = new EnvoyAdapter();
    for (const f of [Feature.MtlsStrict, Feature.MtlsMigration, Feature.OutlierDetection, Feature.IdentityRotation, Feature.Metrics]) expect(dp.features.has(f), f).to.equal(true);
    expect(dp.features.has(Feature.AuthzCustom)).to.equal(false);
    expect(dp.features.has(Feature.IstioMetrics)).to.equal(false);
  });

  it('renders one proxy per pod: a local binary runs in the offline envoy image; the files go where -c points, with the generation as xDS version', async function () {
    const m = mesh();
    const script = fakeEnvoy();
    const adapter = createDataPlane('envoy', { envoyAvailability: { env: { [ENVOY_BINARY_ENV]: script }, probe: { ...fakeProbe({}), version: binaryVersion } } });
    const payment = m.workloads.find((w) => w.name === 'payment-service')!;
    const proxy = await adapter.render(m, { kind: 'workload', workload: payment, pod: 'payment-service-0.prod-namespace' }, { generation: 4, timeScale: 0.02 });
    expect(proxy.container).to.deep.include({ image: ENVOY_RECIPE, hostBinary: script, readyLine: ENVOY_READY_LINE });
    expect(proxy.container.args?.slice(0, 2)).to.deep.equal(['-c', '/run/meshproof/envoy/envoy.yaml']);
    expect([...proxy.inboundPorts]).to.deep.equal([[8080, 8080]]);
    expect(proxy).to.deep.include({ appPort: 15080, metricsSocket: 'admin.sock', accessLog: 'access.log', responseFlagsHeader: 'x-meshproof-response-flags' });
    expect(proxy.outbound?.http.get(80)).to.equal(15001);
    const dir = mkdtempSync(join(tmpdir(), 'envoy-adapter-'));
    await proxy.write(dir);
    expect(readdirSync(join(dir, 'envoy')).sort()).to.deep.equal(['cds.yaml', 'envoy.yaml', 'lds.yaml', 'sds-default.yaml', 'sds-rootca.yaml']);
    const bootstrap = parse(readFileSync(join(dir, 'envoy', 'envoy.yaml'), 'utf8')) as { admin: unknown; dynamic_resources: { lds_config: { path_config_source: { path: string } } } };
    expect(bootstrap.admin).to.deep.equal({ address: { pipe: { path: '/run/meshproof/admin.sock' } } });
    expect(bootstrap.dynamic_resources.lds_config.path_config_source.path).to.equal('/run/meshproof/envoy/lds.yaml');
    const lds = parse(readFileSync(join(dir, 'envoy', 'lds.yaml'), 'utf8')) as { version_info: string; resources: { name: string }[] };
    expect(lds.version_info).to.equal('4');
    expect(lds.resources.map((l) => l.name)).to.include.members(['inbound_8080', 'outbound_80']);
    expect(readFileSync(join(dir, 'envoy', 'envoy.yaml'), 'utf8')).to.match(/# Time scale: 0\.02:/);
  });

  it('where only the published image can be had, the container is the envoy-official recipe run as root', async function () {
    const m = mesh();
    const adapter = new EnvoyAdapter({ availability: { env: {}, projectBinary: null, probe: fakeProbe({ hasImage: yes() }) } });
    const client = m.clients.find((c) => c.client.sidecar)!;
    const proxy = await adapter.render(m, { kind: 'client', client, pod: 'order-client.prod-namespace' }, { generation: 1 });
    expect(proxy.container).to.deep.include({ image: ENVOY_OFFICIAL_RECIPE, env: { ENVOY_UID: '0', ENVOY_GID: '0' } });
    expect(proxy.container.args?.[0]).to.equal('envoy');
    expect(proxy.inboundPorts.size).to.equal(0);
  });

  it('reads the generation in force from /config_dump: listeners and clusters accepted at the same version, none warming', function () {
    const dump = (lds: string, cds: string, warming = false): string =>
      JSON.stringify({
        configs: [
          { '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump' },
          { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', version_info: cds },
          { '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', version_info: lds, dynamic_listeners: [{ name: 'a', active_state: {}, ...(warming ? { warming_state: {} } : {}) }] },
        ],
      });
    expect(appliedVersion(dump('3', '3'))).to.equal(3);
    expect(appliedVersion(dump('3', '2'))).to.equal(undefined);
    expect(appliedVersion(dump('3', '3', true))).to.equal(undefined);
    expect(appliedVersion('not json')).to.equal(undefined);
    expect(drainingNone('listener_manager.total_filter_chains_draining: 0\nlistener_manager.total_listeners_draining: 0\n')).to.equal(true);
    expect(drainingNone('listener_manager.total_filter_chains_draining: 2\nlistener_manager.total_listeners_draining: 0\n')).to.equal(false);
  });

  it('refuses an unknown data plane name, naming the choices', function () {
    expect(() => createDataPlane('linkerd')).to.throw("unknown data plane 'linkerd'");
  });
});
