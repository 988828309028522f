/**
 * The local-binary path of the Envoy adapter, in a real pod: a dynamically linked host binary,
 * staged with its libraries into the sidecar's private folder, runs as the sidecar on the offline
 * base image (which has none of its libraries). No Envoy binary exists on this machine, so the
 * host's `sleep` stands in for it; the staging and the command are the ones the adapter uses.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { awaitConvergence } from '../../conformance/await-convergence.ts';
import { ErrorCode, isMeshproofError } from '../../errors.ts';
import { DockerRuntime } from '../../runtime/docker/docker-runtime.ts';
import { POD_DIR_IN_CONTAINER, READY_LINE } from '../../runtime/types.ts';
import { applyStaging, planStaging } from './stage-binary.ts';

describe('envoy: a staged host binary runs as the sidecar on the base image', function () {
  this.timeout(180_000);
  let runtime: DockerRuntime;

  before(async function () {
    runtime = await DockerRuntime.start();
  });

  after(async function () {
    await runtime?.close();
  });

  it('starts, keeps running, and runs from the copied loader and libraries', async function () {
    const sleep = execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim();
    const plan = planStaging(sleep, `${POD_DIR_IN_CONTAINER}/envoy-bin`);
    expect(plan.command[1], 'sleep is dynamically linked here').to.equal('--library-path');
    const network = await runtime.createNetwork('envoy-stage');
    const pod = await runtime.startPod({
      name: 'staged-sidecar',
      network,
      app: { image: 'echo', readyLine: READY_LINE },
      sidecar: { image: 'base', args: [...plan.command, '300'] },
      prepare: async (dirs) => {
        applyStaging(plan, join(dirs.sidecar ?? '', 'envoy-bin'));
      },
    });
    const sidecar = pod.sidecar;
    if (sidecar === undefined) throw new Error('no sidecar');
    // Still running after 10 checks 100 ms apart: the staged copy started and stayed up.
    await awaitConvergence(async () => ((await sidecar.isRunning()) ? undefined : new Error(`sidecar exited: ${await sidecar.logs()}`)), { name: 'staged sidecar keeps running', timeoutMs: 5_000, intervalMs: 100, consecutiveSuccesses: 10 });
    // The base image has no /bin/sleep and no coreutils libraries: what runs is the staged copy.
    const result = await pod.app.exec(['/usr/local/bin/node', '-e', "console.log(require('fs').existsSync('/bin/sleep'))"]);
    expect(result.stdout.trim()).to.equal('false');
  });

  it('the check can fail: the same command without the staged files exits at once, and the pod does not start', async function () {
    const sleep = execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim();
    const plan = planStaging(sleep, `${POD_DIR_IN_CONTAINER}/envoy-bin`);
    const network = await runtime.createNetwork('envoy-nostage');
    let error: unknown;
    try {
      await runtime.startPod({ name: 'unstaged-sidecar', network, app: { image: 'echo', readyLine: READY_LINE }, sidecar: { image: 'base', args: [...plan.command, '300'] } });
    } catch (e) {
      error = e;
    }
    expect(isMeshproofError(error, ErrorCode.ContainerStart), String(error)).to.equal(true);
  });
});
