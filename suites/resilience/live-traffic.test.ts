import { expect } from 'chai';
import type { MeshForwardEvidence, MeshForwardResult } from '../../harness/index.ts';
import { onAxis, phasedHypothesis, requestsUntil, successAtLeast, tally } from './live-traffic.ts';

const result = (r: Partial<MeshForwardResult>): MeshForwardResult => ({ index: 0, startedAtMs: 0, durationMs: 2, outcome: 'response', status: 200, ...r });

describe('load through a service, as the resilience cases read it', function () {
  it('puts a forward on the experiment axis: start and end times, replica, status, flags', function () {
    const forward: MeshForwardEvidence = {
      label: 'x',
      from: 'order-client',
      to: 'payment-eject:80',
      startedAt: 1_000_250,
      received: {},
      receipts: [],
      accessLog: [],
      results: [result({ startedAtMs: 10, durationMs: 4, servedBy: 'p-1', responseFlags: '-' }), result({ index: 1, startedAtMs: 20, durationMs: 1, status: 503, responseFlags: 'UH' })],
    };
    expect(onAxis(forward, 1_000_000)).to.deep.equal([
      { startMs: 260, endMs: 264, endpoint: 'p-1', status: 200, flags: '-' },
      { startMs: 270, endMs: 271, status: 503, flags: 'UH' },
    ]);
  });

  it('tallies statuses with their flags, most first', function () {
    expect(tally([result({}), result({ status: 503, responseFlags: 'UO' }), result({}), result({ status: undefined, outcome: 'timeout' })])).to.equal('2 × 200, 1 × 503 UO, 1 × timeout');
  });

  it('a success ratio holds at or above its threshold, and never on no traffic', function () {
    const judge = successAtLeast(0.9);
    const batch = (ok: number, bad: number) => [...Array.from({ length: ok }, () => result({})), ...Array.from({ length: bad }, () => result({ status: 503 }))];
    expect(judge(batch(9, 1)).holds).to.equal(true);
    expect(judge(batch(8, 2))).to.deep.equal({ holds: false, detail: '8 of 10 requests succeeded (80.0%, needed 90%): 8 × 200, 2 × 503' });
    expect(judge([]).holds).to.equal(false);
  });

  it('a phased hypothesis measures the before, during and after phase in turn', async function () {
    const seen: string[] = [];
    const h = phasedHypothesis('d', [async () => 'before', async () => 'during', async () => 'after'], (m: string) => (seen.push(m), { holds: m !== 'during', detail: m }));
    const verdicts = [await h.probe(), await h.probe(), await h.probe()];
    expect(seen).to.deep.equal(['before', 'during', 'after']);
    expect(verdicts.map((v) => v.holds)).to.deep.equal([true, false, true]);
  });

  it('counts requests until a time and some more, never fewer than one, however late it is', function () {
    // 100/s for 300 ms left and 3 intervals of 200 ms: 90 requests.
    expect(requestsUntil(1_300, 1_000, 600, 100)).to.equal(90);
    // Later than the end (a busy machine, or no ejection left: the end was taken as 0): only the extra time. This once gave -12.
    expect(requestsUntil(0, 75_000, 600, 100)).to.equal(60);
    expect(requestsUntil(0, 75_000, 1, 100)).to.equal(1);
    expect(() => requestsUntil(0, 0, 0, 100)).to.throw(RangeError);
    expect(() => requestsUntil(0, 0, 600, 0)).to.throw(RangeError);
  });
});
