/**
 * `meshproof run` and `meshproof smoke` interrupted as users and CI do it: a signal to the run
 * process alone (kill, timeout, a CI cancel), the run process killed outright, and a closed pipe.
 * What is left is asked of the docker CLI and /proc, not of meshproof.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runsRoot } from '../../runtime/docker/runs-root.ts';
import { MESHPROOF, leftovers, processesOfRun, until, watch, type Watched } from '../testing/cli-process.ts';

/** A run of the mtls suite (about ten containers) with its output collected. */
function startRun(): Watched {
  return watch('sh', [MESHPROOF, 'run', '--suite', 'mtls', '--seed', '11', '--report', mkdtempSync(join(tmpdir(), 'meshproof-signal-'))]);
}

/** Waits until the run has printed its id and has at least `n` running containers: the run is mid-way. */
async function midRun(run: Watched, n = 5): Promise<string> {
  const runId = await until('the run printing its id', () => /meshproof run (mp-\S+):/.exec(run.stdout())?.[1], 60_000);
  await until(`${n} containers of ${runId} running`, () => (leftovers(runId).containers.length >= n ? true : undefined), 120_000);
  return runId;
}

describe('meshproof run and smoke, interrupted', function () {
  this.timeout(180_000);

  it('SIGINT to the run process alone: the mocha process cleans up, the run says so and exits 130, nothing is left', async function () {
    const run = startRun();
    const runId = await midRun(run);
    const sent = Date.now();
    process.kill(run.child.pid!, 'SIGINT'); // the process alone, not its group
    const end = await run.exited;
    const tookMs = Date.now() - sent;
    expect(end.code, run.stderr()).to.equal(130);
    expect(run.stderr()).to.match(new RegExp(`removed run ${runId}: \\d+ container\\(s\\), 1 network\\(s\\) and its folder`));
    expect(run.stderr()).to.contain(`nothing of run ${runId} is left`);
    expect(run.stdout(), 'cases cut short by the clean-up are not printed as errors').to.not.match(/ERROR\s+mtls/);
    expect(leftovers(runId)).to.deep.equal({ containers: [], networks: [] });
    expect(existsSync(join(runsRoot(), runId)), 'run folder').to.equal(false);
    expect(processesOfRun(runId), 'no mocha process runs on').to.deep.equal([]);
    process.stdout.write(`      (SIGINT to exit: ${tookMs} ms)\n`);
  });

  it('SIGTERM gives 143', async function () {
    const run = startRun();
    const runId = await midRun(run, 1);
    process.kill(run.child.pid!, 'SIGTERM');
    expect((await run.exited).code, run.stderr()).to.equal(143);
    expect(leftovers(runId)).to.deep.equal({ containers: [], networks: [] });
  });

  it('the run process killed outright (SIGKILL): its mocha process notices, cleans up and ends', async function () {
    const run = startRun();
    const runId = await midRun(run);
    const sent = Date.now();
    process.kill(run.child.pid!, 'SIGKILL');
    expect((await run.exited).signal).to.equal('SIGKILL');
    await until('the mocha process ending and nothing of the run left', () => {
      const left = leftovers(runId);
      return processesOfRun(runId).length === 0 && left.containers.length === 0 && left.networks.length === 0 ? true : undefined;
    }, 60_000);
    process.stdout.write(`      (SIGKILL to nothing left: ${Date.now() - sent} ms)\n`);
  });

  it('smoke with its stdout closed early (| head) still removes its containers and exits 0', async function () {
    const smoke = watch('sh', [MESHPROOF, 'smoke']);
    smoke.child.stdout!.destroy(); // the reader is gone before the first line
    const end = await smoke.exited;
    const runId = /removed run (mp-\S+) /.exec(smoke.stderr())?.[1];
    expect(runId, smoke.stderr()).to.be.a('string');
    expect(end.code, smoke.stderr()).to.equal(0);
    expect(smoke.stderr()).to.not.contain('unsettled top-level await');
    expect(leftovers(runId!)).to.deep.equal({ containers: [], networks: [] });
  });
});
