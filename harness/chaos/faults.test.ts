import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ControlServer } from '../apps/echo/control-server.ts';
import { EchoServer } from '../apps/echo/echo-server.ts';
import { MeshCa } from '../pki/mesh-ca.ts';
import { readWorkloadFiles, writeWorkloadFiles } from '../pki/workload-files.ts';
import { inspectCertificate } from '../pki/certificate-info.ts';
import { AgentClient } from '../traffic/agent-client.ts';
import { withFaults } from './fault.ts';
import { expiredCertificate, failingEndpoint, flakyEndpoint, hungEndpoint } from './faults.ts';

describe('faults against a live echo app', function () {
  let echo: EchoServer;
  let control: ControlServer;
  let agent: AgentClient;

  before(async function () {
    echo = new EchoServer({ pod: 'payment-1', host: '127.0.0.1', port: 0, seed: 11 });
    await echo.listen();
    const socketPath = join(mkdtempSync(join(tmpdir(), 'faults-')), 'agent.sock');
    control = new ControlServer({ pod: 'payment-1', socketPath, echo, echoPort: echo.port() });
    await control.listen();
    agent = new AgentClient(socketPath, 10_000);
  });

  after(async function () {
    await agent.close();
    await control.close();
    await echo.close();
  });

  const statuses = async (count: number) =>
    (await agent.forward({ request: { protocol: 'http', host: '127.0.0.1', port: echo.port(), path: '/', timeoutMs: 300 }, count, concurrency: 4 })).results.map((r) => r.status ?? r.outcome);

  it('a failing endpoint answers 503 while injected and 200 once reverted', async function () {
    const target = { pod: 'payment-1', agent };
    const during = await withFaults([failingEndpoint(target)], () => statuses(5));
    expect(during).to.deep.equal([503, 503, 503, 503, 503]);
    expect(await statuses(3)).to.deep.equal([200, 200, 200]);
  });

  it('a flaky endpoint fails about its share of requests', async function () {
    const during = await withFaults([flakyEndpoint({ pod: 'payment-1', agent }, 503, 20)], () => statuses(400));
    expect(during.filter((s) => s === 503).length).to.be.within(50, 110);
  });

  it('a hung endpoint never answers while injected', async function () {
    const during = await withFaults([hungEndpoint({ pod: 'payment-1', agent })], () => statuses(2));
    expect(during).to.deep.equal(['timeout', 'timeout']);
  });
});

describe('expired certificate fault', function () {
  it('gives the sidecar an expired certificate for its own identity, and a fresh one on revert', async function () {
    const ca = await MeshCa.create();
    const workload = { namespace: 'prod-namespace', serviceAccount: 'payment-service-sa' };
    const dir = mkdtempSync(join(tmpdir(), 'certs-'));
    await writeWorkloadFiles(dir, await ca.issue(workload));
    const fault = expiredCertificate(ca, workload, dir, 'payment-1');
    await fault.inject();
    const expired = inspectCertificate((await readWorkloadFiles(dir)).certChainPem);
    expect(expired.notAfter.getTime()).to.be.below(Date.now());
    expect(expired.uriSans).to.deep.equal([ca.spiffeUriOf(workload)]);
    await fault.revert();
    const fresh = inspectCertificate((await readWorkloadFiles(dir)).certChainPem);
    expect(fresh.notAfter.getTime()).to.be.above(Date.now());
  });
});
