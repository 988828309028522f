import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AgentClient } from '../../traffic/agent-client.ts';
import { ControlServer } from './control-server.ts';
import { EchoServer, FAILING_BODY } from './echo-server.ts';

describe('echo app control socket', function () {
  let echo: EchoServer;
  let control: ControlServer;
  let agent: AgentClient;
  let port: number;

  before(async function () {
    echo = new EchoServer({ pod: 'payment-1', host: '127.0.0.1', port: 0, seed: 5 });
    await echo.listen();
    port = echo.port();
    const socketPath = join(mkdtempSync(join(tmpdir(), 'agent-')), 'agent.sock');
    control = new ControlServer({ pod: 'client-0', socketPath, echo, echoPort: port });
    await control.listen();
    agent = new AgentClient(socketPath, 10_000);
  });

  afterEach(async function () {
    await agent.setMode({ mode: 'normal' });
  });

  after(async function () {
    await agent.close();
    await control.close();
    await echo.close();
  });

  const get = (path = '/x', timeoutMs = 2000) => agent.call({ protocol: 'http', host: '127.0.0.1', port, path, timeoutMs });

  it('makes a call from inside the pod and says who made it', async function () {
    const observation = await get('/hello');
    expect(observation).to.include({ outcome: 'response', status: 200, from: 'client-0' });
    expect(observation.echo?.pod).to.equal('payment-1');
  });

  it('reports only what arrived after a mark, cheaply', async function () {
    const mark = await agent.lastRequestId();
    await get('/after-mark-1');
    await get('/after-mark-2');
    expect((await agent.received(mark)).map((r) => r.path)).to.deep.equal(['/after-mark-1', '/after-mark-2']);
    expect(await agent.lastRequestId()).to.equal(mark + 2);
    let error: unknown;
    try {
      await agent.received(-1);
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).to.contain('400');
  });

  it('fails every request in mode fail, and still records that the app saw it', async function () {
    await agent.setMode({ mode: 'fail' });
    const before = (await agent.received()).length;
    const observation = await get('/pay/1');
    expect(observation.status).to.equal(503);
    expect(observation.body).to.equal(FAILING_BODY);
    expect(observation.echo).to.equal(undefined);
    expect((await agent.received()).length).to.equal(before + 1);
  });

  it('resets connections in mode reset and never answers in mode hang', async function () {
    await agent.setMode({ mode: 'reset' });
    expect((await get()).outcome).to.equal('reset');
    await agent.setMode({ mode: 'hang' });
    expect((await get('/x', 300)).outcome).to.equal('timeout');
  });

  it('delays answers in mode slow and with ?delay=', async function () {
    await agent.setMode({ mode: 'slow', delayMs: 150 });
    expect((await get()).durationMs).to.be.at.least(140);
    await agent.setMode({ mode: 'normal' });
    expect((await get('/x?delay=120ms')).durationMs).to.be.at.least(110);
  });

  it('refuses an unknown mode with a 400 that names the choices', async function () {
    let error: unknown;
    try {
      await agent.setMode({ mode: 'explode' } as never);
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).to.contain('400').and.contain('normal, fail, reset, hang, slow, mix');
  });

  it('forwards many calls with concurrency and reports each one', async function () {
    const response = await agent.forward({ request: { protocol: 'http', host: '127.0.0.1', port, path: '/f' }, count: 40, concurrency: 4 });
    expect(response.from).to.equal('client-0');
    expect(response.results).to.have.length(40);
    expect(response.results.every((r) => r.status === 200 && r.servedBy === 'payment-1')).to.equal(true);
    expect(response.results.map((r) => r.index)).to.deep.equal([...Array(40).keys()]);
  });

  it('draws ?codes= from the seed: a 20% 503 mix comes out near 20%', async function () {
    const response = await agent.forward({ request: { protocol: 'http', host: '127.0.0.1', port, path: '/f?codes=503:20,200:80' }, count: 500, concurrency: 8 });
    const failed = response.results.filter((r) => r.status === 503);
    expect(failed.length).to.be.within(70, 130);
    expect(failed[0]?.servedBy).to.equal('payment-1');
    expect(failed[0]?.body).to.equal(FAILING_BODY);
  });

  it('fails one replica at a seeded rate in mode mix, and refuses a malformed mix', async function () {
    await agent.setMode({ mode: 'mix', codes: '503:50,200:50' });
    const response = await agent.forward({ request: { protocol: 'http', host: '127.0.0.1', port, path: '/m' }, count: 200, concurrency: 4 });
    expect(response.results.filter((r) => r.status === 503).length).to.be.within(70, 130);
    let error: unknown;
    try {
      await agent.setMode({ mode: 'mix', codes: '503:x' });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).to.contain("'503:x'");
  });

  it('reports refused calls when nothing listens, without keep-alive too', async function () {
    const response = await agent.forward({ request: { protocol: 'http', host: '127.0.0.1', port: 1, path: '/' }, count: 3, keepAlive: false });
    expect(response.results.map((r) => r.outcome)).to.deep.equal(['refused', 'refused', 'refused']);
  });
});
