import { mkdirSync, mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ROLE_LABEL, SESSION_LABEL } from '../types.ts';
import type { EngineObject, ReapEngine } from './engine-api.ts';
import { BUSY, HELD, RELEASE, RELEASED } from './protocol.ts';
import { reapSession } from './reap-session.ts';
import { Reaper } from './reaper.ts';

/** An engine holding containers and networks in memory; a network refuses removal while a container of its session is left. */
class FakeEngine implements ReapEngine {
  containers: EngineObject[] = [];
  networks: EngineObject[] = [];
  refuseNetworkOnce = false;
  async listContainers(label: string): Promise<EngineObject[]> {
    return this.containers.filter((c) => matches(c, label));
  }
  async removeContainer(id: string): Promise<void> {
    this.containers = this.containers.filter((c) => c.id !== id);
  }
  async listNetworks(label: string): Promise<EngineObject[]> {
    return this.networks.filter((n) => matches(n, label));
  }
  async removeNetwork(id: string): Promise<void> {
    if (this.refuseNetworkOnce) {
      this.refuseNetworkOnce = false;
      throw new Error('network has active endpoints');
    }
    this.networks = this.networks.filter((n) => n.id !== id);
  }
}

function matches(o: EngineObject, label: string): boolean {
  const [key, value] = label.split('=');
  return o.labels[key!] === value;
}

const object = (id: string, session: string, role?: string): EngineObject => ({ id, name: id, labels: { [SESSION_LABEL]: session, ...(role === undefined ? {} : { [ROLE_LABEL]: role }) } });

function open(socketPath: string): Promise<{ socket: Socket; lines: string[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const lines: string[] = [];
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      lines.push(...chunk.split('\n').filter((l) => l !== ''));
      if (lines.length === 1) resolve({ socket, lines, closed });
    });
    socket.on('error', reject);
  });
}

describe('run reaper', function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'reaper-'));
  });

  it('reaps when the held connection drops without a release', async function () {
    let reaped = 0;
    const reaper = new Reaper({ socketPath: join(dir, 'r.sock'), connectTimeoutMs: 5_000, reap: async () => ++reaped });
    await reaper.listen();
    const owner = await open(join(dir, 'r.sock'));
    expect(owner.lines).to.deep.equal([HELD]);
    expect(reaped, 'nothing is reaped while the owner holds the connection').to.equal(0);
    owner.socket.destroy(); // what the kernel does when the owner's process ends
    expect(await reaper.done).to.deep.equal({ how: 'reaped', detail: 1 });
    expect(existsSync(join(dir, 'r.sock'))).to.equal(false);
  });

  it('reaps nothing after a release, and refuses a second connection while one is held', async function () {
    let reaped = 0;
    const reaper = new Reaper({ socketPath: join(dir, 'r.sock'), connectTimeoutMs: 5_000, reap: async () => ++reaped });
    await reaper.listen();
    const owner = await open(join(dir, 'r.sock'));
    const intruder = await open(join(dir, 'r.sock'));
    expect(intruder.lines).to.deep.equal([BUSY]);
    await intruder.closed;
    owner.socket.write(`${RELEASE}\n`);
    await owner.closed;
    expect(owner.lines).to.deep.equal([HELD, RELEASED]);
    expect(await reaper.done).to.deep.equal({ how: 'released' });
    expect(reaped).to.equal(0);
  });

  it('ends without reaping when no owner ever connects', async function () {
    let reaped = 0;
    const reaper = new Reaper({ socketPath: join(dir, 'r.sock'), connectTimeoutMs: 50, reap: async () => ++reaped });
    await reaper.listen();
    expect(await reaper.done).to.deep.equal({ how: 'never-connected' });
    expect(reaped).to.equal(0);
  });

  it('removes only its own session (not its own reaper, not another session), then the run folder its owner wrote', async function () {
    const engine = new FakeEngine();
    engine.containers = [object('a1', 's1'), object('a2', 's1'), object('reaper', 's1', 'reaper'), object('b1', 's2')];
    engine.networks = [object('n1', 's1'), object('n2', 's2')];
    engine.refuseNetworkOnce = true;
    const folder = join(dir, 'mp-run');
    mkdirSync(join(folder, 'pods'), { recursive: true });
    writeFileSync(join(folder, 'owner'), 'owner-of-s1\n');
    const summary = await reapSession(engine, 's1', folder, 'owner-of-s1');
    expect(summary).to.deep.equal({ containers: ['a1', 'a2'], networks: ['n1'], folderRemoved: true, problems: [] });
    expect(engine.containers.map((c) => c.id)).to.deep.equal(['reaper', 'b1']);
    expect(engine.networks.map((n) => n.id)).to.deep.equal(['n2']);
    expect(existsSync(folder)).to.equal(false);
  });

  it('keeps a run folder whose owner file names someone else', async function () {
    const folder = join(dir, 'mp-run');
    mkdirSync(folder);
    writeFileSync(join(folder, 'owner'), 'a later owner');
    const summary = await reapSession(new FakeEngine(), 's1', folder, 'owner-of-s1');
    expect(summary.folderRemoved).to.equal(false);
    expect(existsSync(folder)).to.equal(true);
  });
});
