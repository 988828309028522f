/**
 * Clean-up on a shared engine: two runs with the same host name in different PID namespaces (CI
 * jobs in containers sharing the host's Docker socket) at once, and `meshproof clean`'s rule
 * (remove only what is proved gone) on objects of known owners. The engine is shared with other
 * users' runs, so every `clean` that removes is limited to this test's runs with --run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { currentOwner, formatOwner } from '../../runtime/owner.ts';
import { MESHPROOF, leftovers, until, watch, type Watched } from '../testing/cli-process.ts';

const canUnshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--uts', 'true']).status === 0;

/** `meshproof run` of one mtls case in a new PID and UTS namespace whose host name is `host`. */
function runInNamespace(host: string): Watched {
  const reports = mkdtempSync(join(tmpdir(), 'meshproof-ns-'));
  const script = `hostname ${host} && exec sh "$0" run --suite mtls --grep mesh-wide-strict --seed 5 --report "$1"`;
  return watch('unshare', ['--pid', '--fork', '--mount-proc', '--uts', 'sh', '-c', script, MESHPROOF, reports]);
}

function clean(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', [MESHPROOF, 'clean', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A network labelled as a run's object with the given owner label (networks need no image). */
function leftNetwork(runId: string, owner: string): void {
  execFileSync('docker', ['network', 'create', '--label', `org.meshproof.run=${runId}`, '--label', `org.meshproof.owner=${owner}`, `${runId}-net`], { stdio: 'ignore' });
}

describe('clean-up on a shared engine', function () {
  this.timeout(180_000);

  it('two runs with the same host name in different PID namespaces run at once, both pass, and clean --dry-run lists neither', async function () {
    if (!canUnshare) this.skip(); // needs root (unshare --pid --mount-proc --uts)
    const started = Date.now();
    const first = runInNamespace('ci-runner');
    const firstId = await until('the first run printing its id', () => /meshproof run (mp-\S+):/.exec(first.stdout())?.[1], 60_000);
    // The second starts (and sweeps) while the first has live containers.
    await until('the first run having containers', () => (leftovers(firstId).containers.length >= 3 ? true : undefined), 120_000);
    const second = runInNamespace('ci-runner');
    const [a, b] = await Promise.all([first.exited, second.exited]);
    const secondId = /meshproof run (mp-\S+):/.exec(second.stdout())?.[1];
    expect(a.code, `first run:\n${first.stdout()}${first.stderr()}`).to.equal(0);
    expect(b.code, `second run:\n${second.stdout()}${second.stderr()}`).to.equal(0);
    expect(first.stdout()).to.match(/passed\s+mtls\s+mesh-wide-strict/);
    expect(second.stdout()).to.match(/passed\s+mtls\s+mesh-wide-strict/);
    expect(secondId).to.be.a('string').and.not.equal(firstId);
    process.stdout.write(`      (two concurrent runs: ${Date.now() - started} ms)\n`);

    const listed = clean('--dry-run');
    expect(listed.status, listed.stderr).to.equal(0);
    expect(listed.stdout).to.not.contain(firstId);
    expect(listed.stdout).to.not.contain(secondId!);
    expect(leftovers(firstId)).to.deep.equal({ containers: [], networks: [] });
    expect(leftovers(secondId!)).to.deep.equal({ containers: [], networks: [] });
  });

  describe('meshproof clean', function () {
    const stamp = Date.now().toString(36);
    const gone = `mp-cleantest-${stamp}-gone`;
    const elsewhere = `mp-cleantest-${stamp}-ns`;
    const legacy = `mp-cleantest-${stamp}-old`;
    const ours = [gone, elsewhere, legacy];

    before(function () {
      const self = currentOwner();
      const exited = spawnSync(process.execPath, ['-e', '0']).pid!;
      leftNetwork(gone, formatOwner({ ...self, pid: exited, startTime: 1 }));
      leftNetwork(elsewhere, formatOwner({ ...self, pidNamespace: self.pidNamespace + 1, pid: exited }));
      leftNetwork(legacy, `${self.host}:${exited}:1`);
    });

    after(function () {
      for (const id of ours) spawnSync('docker', ['network', 'rm', `${id}-net`], { stdio: 'ignore' });
    });

    it('--dry-run lists the run whose owner has exited as removable and keeps the others, with reasons, removing nothing', function () {
      const r = clean('--dry-run', '--run', ours.join(','));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(new RegExp(`^would remove ${gone}: 0 container\\(s\\), 1 network\\(s\\) \\(pid \\d+ on .* has exited\\)$`, 'm'));
      expect(r.stdout).to.match(new RegExp(`^keep ${elsewhere}: .*another PID namespace`, 'm'));
      expect(r.stdout).to.match(new RegExp(`^keep ${legacy}: .*older version`, 'm'));
      expect(leftovers(gone).networks).to.have.length(1);
    });

    it('removes only what is proved gone; --all removes the rest', function () {
      const r = clean('--run', ours.join(','));
      expect(r.status, r.stderr).to.equal(0);
      expect(leftovers(gone).networks).to.deep.equal([]);
      expect(leftovers(elsewhere).networks).to.have.length(1);
      expect(leftovers(legacy).networks).to.have.length(1);
      const all = clean('--all', '--run', ours.join(','));
      expect(all.status, all.stderr).to.equal(0);
      expect(all.stdout).to.match(new RegExp(`^remove ${elsewhere}: .*--all`, 'm'));
      for (const id of ours) expect(leftovers(id).networks, id).to.deep.equal([]);
    });
  });
});
