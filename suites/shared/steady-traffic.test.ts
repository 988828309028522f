import { expect } from 'chai';
import type { LiveProbe, LiveProbeResult, LiveProber } from './live-prober.ts';
import { SteadyTraffic } from './steady-traffic.ts';

/** A prober that answers after a tick, and can be told to throw (an infrastructure fault). */
function fakeProber(failAfter = Number.POSITIVE_INFINITY): { prober: LiveProber; calls: () => number; paths: string[] } {
  let calls = 0;
  const paths: string[] = [];
  const prober = {
    run: async (probe: LiveProbe) => {
      calls += 1;
      paths.push(probe.path ?? '/');
      await new Promise((r) => setTimeout(r, 1));
      if (calls > failAfter) throw new Error('agent socket gone');
      return { agrees: true, tag: `p${calls}` } as unknown as LiveProbeResult;
    },
  } as unknown as LiveProber;
  return { prober, calls: () => calls, paths };
}

describe('SteadyTraffic', function () {
  const probe = { source: { kind: 'plaintext' as const }, to: 'prod-namespace/payment-service' };

  it('sends one probe at a time until stopped, keeping every result with its start time', async function () {
    const { prober, calls } = fakeProber();
    const steady = SteadyTraffic.start(prober, probe);
    await steady.atLeast(5);
    const results = await steady.stop();
    expect(results.length).to.be.at.least(5);
    expect(results.length).to.equal(calls());
    expect(results.map((r) => r.atMs)).to.deep.equal([...results.map((r) => r.atMs)].sort((a, b) => a - b));
    expect(steady.between(0, Number.POSITIVE_INFINITY)).to.have.length(results.length);
  });

  it('makes the probe anew for each request when given a function, and keeps when each was answered', async function () {
    const { prober, paths } = fakeProber();
    const steady = SteadyTraffic.start(prober, (n) => ({ ...probe, path: `/pay/${n}` }));
    await steady.atLeast(3);
    const results = await steady.stop();
    expect(paths.slice(0, 3)).to.deep.equal(['/pay/0', '/pay/1', '/pay/2']);
    for (const r of results) expect(r.doneMs).to.be.at.least(r.atMs);
  });

  it('stops on an infrastructure error and rethrows it from stop(), releasing whoever waits', async function () {
    const { prober } = fakeProber(3);
    const steady = SteadyTraffic.start(prober, probe);
    await steady.atLeast(100);
    expect(steady.count).to.equal(3);
    let thrown: unknown;
    await steady.stop().catch((e: unknown) => (thrown = e));
    expect((thrown as Error).message).to.equal('agent socket gone');
  });
});
