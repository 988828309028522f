/**
 * The pod network's observer on a real engine: it sees what crosses the run's bridge between two
 * pods, stops at its bounds, and leaves nothing running.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { awaitConvergence } from '../../util/await-convergence.ts';
import { isMeshproofError } from '../../errors.ts';
import { AgentClient, AGENT_SOCKET } from '../../traffic/agent-client.ts';
import { findNeedle, readCapture } from '../../wire/wire-capture.ts';
import { SMOKE_APP_PORT, SMOKE_SIDECAR_PORT } from '../smoke-check.ts';
import { READY_LINE, ROLE_LABEL, RUN_LABEL, type Pod, type RunNetwork } from '../types.ts';
import { DockerRuntime } from './docker-runtime.ts';

const BOUNDS = { maxPackets: 10_000, maxBytes: 8 * 1024 * 1024, maxDurationMs: 60_000 };

function observers(runId: string): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=${RUN_LABEL}=${runId}`, '--filter', `label=${ROLE_LABEL}=observer`], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
}

describe('wire tap on docker', function () {
  this.timeout(120_000);
  let runtime: DockerRuntime;
  let network: RunNetwork;
  let server: Pod;
  let client: AgentClient;

  before(async function () {
    runtime = await DockerRuntime.start();
    network = await runtime.createNetwork('wire');
    server = await runtime.startPod({
      name: 'wire-server',
      network,
      app: { image: 'echo', readyLine: READY_LINE, env: { ECHO_PORT: String(SMOKE_APP_PORT) } },
      sidecar: { image: 'passthrough', readyLine: READY_LINE, env: { INBOUND_PORT: String(SMOKE_SIDECAR_PORT), APP_PORT: String(SMOKE_APP_PORT) } },
    });
    const pod = await runtime.startPod({ name: 'wire-client', network, app: { image: 'echo', readyLine: READY_LINE } });
    client = new AgentClient(join(pod.app.hostDir, AGENT_SOCKET), runtime.timeouts.control);
  });

  after(async function () {
    await client?.close();
    await runtime?.close();
  });

  it('reads a plaintext request and its answer between two pods off the bridge, then goes when stopped', async function () {
    const tap = await runtime.startWireTap(network, BOUNDS);
    expect(tap.iface).to.match(/^br-[0-9a-f]{12}$/);
    const canary = `mpcanary-${Date.now().toString(16)}`;
    const answer = await client.call({ protocol: 'http', host: server.ip, port: SMOKE_SIDECAR_PORT, method: 'POST', path: `/pay/${canary}`, headers: { 'x-meshproof-canary': canary }, body: `canary=${canary}` });
    expect(answer.status).to.equal(200);
    await awaitConvergence(
      async () => {
        const found = findNeedle(readCapture(new Uint8Array(readFileSync(tap.file))), canary);
        return found.length === 2 ? undefined : new Error(`canary seen ${found.length} time(s)`);
      },
      { name: 'canary in the capture', timeoutMs: 5_000, intervalMs: 50 },
    );
    const capture = readCapture(new Uint8Array(readFileSync(tap.file)));
    const carried = capture.connections.filter((c) => c.server.ip === server.ip && c.server.port === SMOKE_SIDECAR_PORT);
    expect(carried).to.have.length(1);
    expect(carried[0]!.startSeen).to.equal(true);
    expect(findNeedle(capture, canary).map((s) => s.direction).sort()).to.deep.equal(['to-client', 'to-server']);
    expect(observers(runtime.runId)).to.have.length(1);
    await tap.stop();
    expect(observers(runtime.runId)).to.deep.equal([]);
    expect(await tap.endedBecause()).to.equal(undefined);
  });

  it('stops itself at its time bound and says so', async function () {
    const tap = await runtime.startWireTap(network, { ...BOUNDS, maxDurationMs: 1_500 });
    await awaitConvergence(async () => ((await tap.endedBecause()) === undefined ? new Error('still capturing') : undefined), { name: 'time bound', timeoutMs: 10_000, intervalMs: 200 });
    expect(await tap.endedBecause()).to.match(/time bound \(1500 ms\)/);
    await awaitConvergence(async () => (observers(runtime.runId).length === 0 ? undefined : new Error('observer still there')), { name: 'observer removed', timeoutMs: 10_000, intervalMs: 200 });
  });

  it('says why when it cannot capture (here: no tcpdump), and starts nothing', async function () {
    const saved = process.env['MESHPROOF_TCPDUMP'];
    process.env['MESHPROOF_TCPDUMP'] = '/nonexistent/tcpdump';
    try {
      let error: unknown;
      await runtime.startWireTap(network, BOUNDS).catch((e: unknown) => (error = e));
      expect(isMeshproofError(error, 'MESHPROOF_ERR_WIRE_CAPTURE'), String(error)).to.equal(true);
      expect(observers(runtime.runId)).to.deep.equal([]);
    } finally {
      if (saved === undefined) delete process.env['MESHPROOF_TCPDUMP'];
      else process.env['MESHPROOF_TCPDUMP'] = saved;
    }
  });

  it('says why when the capture program cannot run (here: a binary that exits at once), and leaves nothing', async function () {
    const saved = process.env['MESHPROOF_TCPDUMP'];
    process.env['MESHPROOF_TCPDUMP'] = '/bin/false';
    try {
      let error: unknown;
      await runtime.startWireTap(network, BOUNDS).catch((e: unknown) => (error = e));
      expect(isMeshproofError(error, 'MESHPROOF_ERR_WIRE_CAPTURE'), String(error)).to.equal(true);
      expect((error as Error).message).to.match(/^the pod network \(br-[0-9a-f]{12}\) cannot be captured here: container .* did not become ready/);
      expect(observers(runtime.runId)).to.deep.equal([]);
    } finally {
      if (saved === undefined) delete process.env['MESHPROOF_TCPDUMP'];
      else process.env['MESHPROOF_TCPDUMP'] = saved;
    }
  });

  it('nothing of the observer is left once the run closes', async function () {
    await runtime.startWireTap(network, BOUNDS);
    expect(observers(runtime.runId)).to.have.length(1);
    const runId = runtime.runId;
    await runtime.close();
    expect(observers(runId)).to.deep.equal([]);
  });
});
