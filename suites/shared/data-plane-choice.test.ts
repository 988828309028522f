import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadPolicies, loadTopology, resolveMesh } from '../../harness/index.ts';
import { chooseDataPlane } from './data-plane-choice.ts';
import { FIXTURES_DIR } from './fixtures-dir.ts';

const unreachable = { hasImage: async () => ({ ok: false as const, error: 'No such image' }), pull: async () => ({ ok: false as const, error: 'no registry' }) };

describe('data plane choice', function () {
  it('runs the reference data plane, and reports it as itself', async function () {
    const choice = await chooseDataPlane('reference');
    expect(choice.adapter?.name).to.equal('reference');
    expect(choice.skipReason).to.equal(undefined);
    expect(choice.info).to.include({ name: 'reference', available: true });
  });

  it('envoy where no Envoy can be had: no adapter, and the reason names what was looked for', async function () {
    const choice = await chooseDataPlane('envoy', (a) => a, { images: unreachable, envoyAvailability: { env: {}, projectBinary: null } });
    expect(choice.adapter).to.equal(undefined);
    expect(choice.info).to.include({ name: 'envoy', available: false });
    expect(choice.skipReason).to.match(/^envoy unavailable: local binary \(MESHPROOF_ENVOY_BINARY\): not set; image envoyproxy\/envoy:v1\.40\.0: not present locally/);
  });

  it('envoy with a local binary: an adapter that renders one proxy per pod, run from an image built from that binary', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'choice-'));
    const fake = join(dir, 'envoy');
    writeFileSync(fake, '#!/bin/sh\necho "envoy  version: abc/1.40.0/Clean/RELEASE/BoringSSL"\n');
    chmodSync(fake, 0o755);
    const wrapped: string[] = [];
    const choice = await chooseDataPlane('envoy', (a) => (wrapped.push(a.name), a), { images: unreachable, envoyAvailability: { env: { MESHPROOF_ENVOY_BINARY: fake } } });
    expect(choice.skipReason).to.equal(undefined);
    expect(choice.adapter?.name).to.equal('envoy');
    expect(wrapped).to.deep.equal(['envoy']);
    expect(choice.info.version).to.contain('1.40.0');
    const mesh = resolveMesh(loadPolicies([join(FIXTURES_DIR, 'seed')]), loadTopology(join(FIXTURES_DIR, 'seed', 'topology.yaml')));
    const payment = mesh.workloads.find((w) => w.name === 'payment-service')!;
    const proxy = await choice.adapter!.render(mesh, { kind: 'workload', workload: payment, pod: 'payment-service-0.prod-namespace' }, { generation: 1 });
    expect(proxy.container).to.deep.include({ image: 'envoy', hostBinary: fake });
    expect([...proxy.inboundPorts]).to.deep.equal([[8080, 8080]]);
  });
});
