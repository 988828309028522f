import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../project-root.ts';
import { engineEndpoint } from './docker-connection.ts';

/** A socket file with nothing behind it: what a dockerd that died leaves in /var/run. */
async function staleSocket(): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'stale-')), 'docker.sock');
  // A process that listens and is then killed outright never unlinks its socket file.
  spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  expect(statSync(path).isSocket(), 'the stale socket file exists').to.equal(true);
  return path;
}

describe('docker connection', function () {
  it('reads DOCKER_HOST the way the docker CLI does', function () {
    expect(engineEndpoint(undefined)).to.include({ socketPath: '/var/run/docker.sock', skipPing: false });
    expect(engineEndpoint('unix:///tmp/x.sock')).to.include({ socketPath: '/tmp/x.sock' });
    expect(engineEndpoint('tcp://10.0.0.1:2375')).to.include({ origin: 'http://10.0.0.1:2375', skipPing: false });
  });

  for (const [what, socket] of [
    ['no socket at all', async () => join(tmpdir(), 'meshproof-no-such.sock')],
    ['a stale socket of a stopped engine', staleSocket],
  ] as const) {
    it(`fails fast with MESHPROOF_ERR_RUNTIME_UNAVAILABLE and how to start an engine (${what})`, async function () {
      const path = await socket();
      const started = Date.now();
      const result = spawnSync('sh', [join(projectRoot, 'bin/meshproof'), 'smoke'], {
        env: { ...process.env, DOCKER_HOST: `unix://${path}` },
        encoding: 'utf8',
        timeout: 20_000,
      });
      const seconds = (Date.now() - started) / 1000;
      expect(result.status, result.stderr).to.equal(3);
      expect(result.stderr).to.contain('MESHPROOF_ERR_RUNTIME_UNAVAILABLE');
      expect(result.stderr).to.contain(`unix://${path}`);
      expect(result.stderr).to.contain('scripts/setup.sh');
      expect(seconds, 'it must not hang').to.be.below(10);
    });
  }
});
