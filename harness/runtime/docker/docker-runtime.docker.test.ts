import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { subscribe, type EventMap } from '../../events.ts';
import { AgentClient, AGENT_SOCKET } from '../../traffic/agent-client.ts';
import { runSmokeCheck } from '../smoke-check.ts';
import { READY_LINE, type Pod } from '../types.ts';
import { awaitConvergence } from '../../util/await-convergence.ts';
import { DockerRuntime, runsRoot } from './docker-runtime.ts';

/** Asks the docker CLI, independently of our code, what carries a run's label. */
function leftovers(runId: string): { containers: string[]; networks: string[] } {
  const list = (args: string[]): string[] => execFileSync('docker', args, { encoding: 'utf8' }).split('\n').filter((line) => line !== '');
  return {
    containers: list(['ps', '-aq', '--filter', `label=org.meshproof.run=${runId}`]),
    networks: list(['network', 'ls', '-q', '--filter', `label=org.meshproof.run=${runId}`]),
  };
}

/** undefined when the assertions hold, else their error (for awaitConvergence). */
function holds(assertions: () => void): Error | undefined {
  try {
    assertions();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

const holdScript = new URL('./testdata/hold-pod.ts', import.meta.url).pathname;

/** Starts hold-pod.ts and resolves with its run id once its pod is up. */
function startHolder(): Promise<{ child: ReturnType<typeof spawn>; runId: string }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', holdScript], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /HOLDING (\S+)/.exec(out);
      if (match !== null) resolve({ child, runId: match[1]! });
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`holder exited with ${code} before its pod was up: ${err}`)));
  });
}

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('docker runtime', function () {
  let runtime: DockerRuntime;

  before(async function () {
    runtime = await DockerRuntime.start();
  });

  after(async function () {
    await runtime?.close();
  });

  it('reaches the app through its sidecar, not directly, and the app saw only what came through', async function () {
    const result = await runSmokeCheck(runtime, runtime.timeouts.control);
    expect(result.problems).to.deep.equal([]);
    expect(result.throughSidecar.status).to.equal(200);
    expect(result.throughSidecar.echo?.pod).to.equal('smoke-server');
    expect(result.direct.outcome).to.equal('refused');
    expect(result.appReceived).to.deep.equal(['/through-sidecar']);
  });

  it('finds every image in its cache the second time (no rebuild)', async function () {
    const seen: EventMap['image:build'][] = [];
    const unsubscribe = subscribe('image:build', (m) => seen.push(m));
    try {
      const second = await DockerRuntime.start();
      try {
        await second.prepareImages(['echo', 'passthrough']);
      } finally {
        await second.close();
      }
    } finally {
      unsubscribe();
    }
    expect(seen.map((m) => m.image).sort()).to.deep.equal(['base', 'echo', 'passthrough', 'reaper']);
    expect(seen.every((m) => m.cached), JSON.stringify(seen)).to.equal(true);
  });

  describe('pod operations used by fault injection', function () {
    let server: Pod;
    let agent: AgentClient;
    const callServer = () => agent.call({ protocol: 'http', host: 'ops-server', port: 15006, path: '/ops', timeoutMs: 1500 });

    before(async function () {
      const network = await runtime.createNetwork('ops');
      server = await runtime.startPod({
        name: 'ops-server',
        network,
        app: { image: 'echo', readyLine: READY_LINE },
        sidecar: { image: 'passthrough', readyLine: READY_LINE },
      });
      const client = await runtime.startPod({ name: 'ops-client', network, app: { image: 'echo', readyLine: READY_LINE } });
      agent = new AgentClient(join(client.app.hostDir, AGENT_SOCKET), runtime.timeouts.control);
    });

    after(async function () {
      await agent?.close();
    });

    it('pause freezes the pod (calls time out) and unpause brings it back', async function () {
      expect((await callServer()).status).to.equal(200);
      await server.sidecar!.pause();
      expect((await callServer()).outcome).to.equal('timeout');
      await server.sidecar!.unpause();
      expect((await callServer()).status).to.equal(200);
    });

    it('disconnect partitions the pod and reconnect restores it at the same address', async function () {
      await server.disconnect();
      const cut = await callServer();
      expect(cut.outcome, JSON.stringify(cut.error)).to.be.oneOf(['error', 'timeout', 'refused']);
      await server.reconnect();
      const back = await callServer();
      expect(back.status).to.equal(200);
      expect(back.echo?.pod).to.equal('ops-server');
    });

    it('killing the app leaves the sidecar answering with no app behind it, and start() brings the app back', async function () {
      await server.app.kill();
      expect(await server.app.isRunning()).to.equal(false);
      expect(await server.sidecar!.isRunning()).to.equal(true);
      const orphan = await callServer();
      expect(orphan.outcome).to.equal('reset');
      await server.app.start();
      const back = await callServer();
      expect(back.status).to.equal(200);
      expect(back.echo?.pod).to.equal('ops-server');
    });
  });

  it('lets files be written into a pod\'s folders before its containers start', async function () {
    const network = await runtime.createNetwork('prepare');
    const written: string[] = [];
    const pod = await runtime.startPod({
      name: 'prepared-pod-with-a-name-as-long-as-a-dns-label-may-be-63-chars',
      network,
      app: { image: 'echo', readyLine: READY_LINE },
      sidecar: { image: 'passthrough', readyLine: READY_LINE },
      prepare: async (dirs) => {
        writeFileSync(join(dirs.sidecar!, 'config.json'), '{"ready":true}');
        written.push(dirs.app, dirs.sidecar!);
      },
    });
    expect(written).to.deep.equal([pod.app.hostDir, pod.sidecar!.hostDir]);
    // Pod folders are short whatever the pod's name (63 characters here), so the sockets in them stay reachable.
    expect(pod.app.hostDir).to.match(new RegExp(`^${runtime.runDir}/pods/\\d{1,4}/a$`));
    expect(pod.sidecar!.hostDir).to.match(new RegExp(`^${runtime.runDir}/pods/\\d{1,4}/s$`));
    // The container sees the file at its mount point: read it from inside with the image's node.
    const seen = await pod.sidecar!.exec(['/usr/local/bin/node', '-e', "process.stdout.write(require('fs').readFileSync('/run/meshproof/config.json','utf8'))"]);
    expect(seen.stdout).to.equal('{"ready":true}');
  });

  it('removes every container and network of the run on close', async function () {
    const own = await DockerRuntime.start();
    const network = await own.createNetwork();
    await own.startPod({ name: 'closing', network, app: { image: 'echo', readyLine: READY_LINE } });
    expect(leftovers(own.runId).containers, 'the pod and the reaper').to.have.length(2);
    await own.close();
    expect(leftovers(own.runId)).to.deep.equal({ containers: [], networks: [] });
  });

  it('cleans up when the run is interrupted with SIGINT, and says what it removed', async function () {
    const { child, runId } = await startHolder();
    expect(leftovers(runId).containers, 'the pod and the reaper').to.have.length(2);
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = exitOf(child);
    child.kill('SIGINT');
    expect((await exited).code).to.equal(130);
    expect(err).to.match(new RegExp(`removed run ${runId}: 1 container\\(s\\), 1 network\\(s\\) and its folder`));
    expect(leftovers(runId)).to.deep.equal({ containers: [], networks: [] });
  });

  it('has its reaper remove what a SIGKILLed run left, with no later run needed', async function () {
    const { child, runId } = await startHolder();
    const runDir = join(runsRoot(), runId);
    expect(existsSync(runDir)).to.equal(true);
    const exited = exitOf(child);
    child.kill('SIGKILL');
    expect((await exited).signal).to.equal('SIGKILL');
    await awaitConvergence(
      async () =>
        holds(() => {
          expect(leftovers(runId)).to.deep.equal({ containers: [], networks: [] });
          expect(existsSync(runDir), 'the run folder, with its private keys').to.equal(false);
        }),
      { name: 'the reaper removing the killed run', timeoutMs: 30_000, intervalMs: 100, consecutiveSuccesses: 1 },
    );
  });
});
