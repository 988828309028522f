import { expect } from 'chai';
import type { OutlierDetectionSettings } from '../../harness/index.ts';
import { judgeEjections, type ObservedRequest } from './ejection-judge.ts';

const PODS = ['p-0', 'p-1', 'p-2', 'p-3'];
const SEED_OD: OutlierDetectionSettings = { consecutive5xxErrors: 3, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 };
const SCALE = 0.02;

interface FakeSidecar {
  /** Replicas that answer 503. */
  readonly failing: ReadonlySet<number>;
  /** Sweep phase (ms). */
  readonly phaseMs: number;
  /** Each sweep this much later than one interval after the last (ms). */
  readonly driftMs?: number;
  readonly consecutive?: number;
  readonly intervalMs?: number;
  readonly baseMs?: number;
  /** Bugs: never eject; no doubling; first ejection twice as long; no cap; no panic. */
  readonly eject?: boolean;
  readonly doubling?: boolean;
  readonly firstLonger?: boolean;
  readonly maxEjected?: number;
  readonly panicPercent?: number;
  /** Jitter added to each request's times (deterministic). */
  readonly jitterMs?: number;
  /** The balancer sees a host's ejection, and its end, this late (Envoy's update_merge_window). */
  readonly healthLagMs?: number;
  readonly durationMs?: number;
  /** 503s after each detection over the cap that count for nothing (Envoy's main thread resetting the count late). */
  readonly lostAfterDetection?: number;
  /** Filled with the detections it counted as overflow (the cap reached). */
  readonly counted?: { overflow: number };
}

/**
 * A client sidecar in a few lines: round robin over replicas not ejected (all of them in panic),
 * a request every 10 ms taking 4 ms, ejection on the Nth consecutive 503 at the answer, return at
 * the first sweep after base × multiplier, multiplier decays after one healthy interval.
 */
function fakeTraffic(f: FakeSidecar): ObservedRequest[] {
  const interval = f.intervalMs ?? 200;
  const base = f.baseMs ?? 600;
  const consecutive = f.consecutive ?? 3;
  const hosts = PODS.map(() => ({ out: false, at: 0, back: undefined as number | undefined, k: 0, c: 0, first: true, lost: 0 }));
  const out: ObservedRequest[] = [];
  let rr = 0;
  let nextSweep = f.phaseMs;
  for (let t = 0, i = 0; t < (f.durationMs ?? 3000); t += 10, i++) {
    while (nextSweep <= t) {
      for (const h of hosts) {
        if (!h.out) {
          if (h.back !== undefined && nextSweep - h.back >= interval && h.k > 0 && f.doubling !== false) h.k--;
          continue;
        }
        const length = (h.first && f.firstLonger === true ? 2 : 1) * base * (f.doubling === false ? 1 : h.k);
        if (nextSweep - h.at >= length) Object.assign(h, { out: false, back: nextSweep, c: 0, first: false });
      }
      nextSweep += interval + (f.driftMs ?? 0);
    }
    const lag = f.healthLagMs ?? 0;
    // What the balancer sees: ejections and returns `lag` ms late.
    const seenOut = (h: (typeof hosts)[number]): boolean => (h.out ? t >= h.at + lag : h.back !== undefined && t < h.back + lag);
    const healthy = hosts.map((h, j) => (seenOut(h) ? -1 : j)).filter((j) => j >= 0);
    const panic = (f.panicPercent ?? 0) > 0 && (100 * healthy.length) / PODS.length < f.panicPercent!;
    const set = panic ? PODS.map((_, j) => j) : healthy;
    const jitter = f.jitterMs === undefined ? 0 : ((i * 7919) % (2 * f.jitterMs + 1)) - f.jitterMs;
    const start = t + jitter;
    if (set.length === 0) {
      out.push({ startMs: start, endMs: start + 1, status: 503, flags: 'UH' });
      continue;
    }
    const j = set[rr++ % set.length]!;
    const status = f.failing.has(j) ? 503 : 200;
    out.push({ startMs: start, endMs: start + 4, endpoint: PODS[j]!, status, flags: '-' });
    const h = hosts[j]!;
    if (h.lost > 0) h.lost--;
    else if (status === 503) {
      h.c++;
      if (h.c === consecutive) {
        h.c = 0;
        const ejected = hosts.filter((x) => x.out).length;
        if (!h.out && f.eject !== false && ejected < (f.maxEjected ?? 2)) Object.assign(h, { out: true, at: start + 4, k: h.k + 1 });
        else if (!h.out) {
          h.lost = f.lostAfterDetection ?? 0;
          if (f.counted !== undefined) f.counted.overflow++;
        }
      }
    } else h.c = 0;
  }
  return out;
}

const judge = (requests: ObservedRequest[], od: OutlierDetectionSettings = SEED_OD, resetLagMs?: number) =>
  judgeEjections({ endpoints: PODS, requests, outlierDetection: od, timeScale: SCALE, maxMissedRequests: 5, toleranceMs: 15, lateSweepMs: 20, ...(resetLagMs === undefined ? {} : { resetLagMs }) });

describe('ejection judge: live traffic against the oracle', function () {
  it('agrees with a sidecar that follows Envoy, for its sweep phase, and reads each ejection: after 3 failures, ×1 then ×2 then ×3', function () {
    const r = judge(fakeTraffic({ failing: new Set([2]), phaseMs: 73 }));
    expect(r.disagreements).to.deep.equal([]);
    expect(r.agreeingPhases.some((p) => Math.abs(p - 73) <= 10)).to.equal(true);
    expect(r.episodes.map((e) => [e.expected.endpoint, e.failuresBefore, e.expected.multiplier])).to.deep.equal([
      ['p-2', 3, 1],
      ['p-2', 3, 2],
      ['p-2', 3, 3],
    ]);
    const [first, second] = r.episodes;
    expect(first!.backAfterMs).to.be.within(600, 800 + 40);
    expect(second!.backAfterMs).to.be.within(1200, 1400 + 40);
    expect(r.range((s) => s.ejectionsEnforced.consecutive_5xx)).to.deep.equal([3, 3]);
  });

  it("allows Envoy's health-update lag only where the data plane has one: a sidecar whose balancer sees ejections 60 ms late (one round of 4 at 10 ms) agrees with a 65 ms lag and disagrees with none; a never-ejecting one disagrees either way", function () {
    const late = fakeTraffic({ failing: new Set([2]), phaseMs: 73, healthLagMs: 60 });
    const withLag = (requests: ObservedRequest[]) => judgeEjections({ endpoints: PODS, requests, outlierDetection: SEED_OD, timeScale: SCALE, maxMissedRequests: 5, toleranceMs: 15, lateSweepMs: 20, hostHealthLagMs: 65 });
    expect(withLag(late).disagreements).to.deep.equal([]);
    expect(judge(late).disagreements.join('\n')).to.match(/p-2 was sent request \d+ at \d+ ms.*but the oracle ejects it/);
    expect(withLag(fakeTraffic({ failing: new Set([2]), phaseMs: 73, eject: false })).disagreements.join('\n')).to.match(/after its 3rd consecutive 5xx/);
  });

  it('still agrees when every time is off by up to ±5 ms', function () {
    expect(judge(fakeTraffic({ failing: new Set([1]), phaseMs: 150, jitterMs: 5 })).disagreements).to.deep.equal([]);
  });

  it('agrees with sweeps that drift 8 ms later each interval (a loaded timer loop), and finds the drift; with no drift tried it cannot', function () {
    const drifting = fakeTraffic({ failing: new Set([2]), phaseMs: 30, driftMs: 8, durationMs: 5000 });
    const r = judge(drifting);
    expect(r.disagreements).to.deep.equal([]);
    expect(r.agreeing.every((a) => a.driftMs >= 5)).to.equal(true);
    expect(r.episodes.map((e) => e.expected.multiplier)).to.deep.equal([1, 2, 3, 4]);
    expect(judgeEjections({ endpoints: PODS, requests: drifting, outlierDetection: SEED_OD, timeScale: SCALE, maxMissedRequests: 5, toleranceMs: 15, lateSweepMs: 20, driftsMs: [0] }).agreeing).to.deep.equal([]);
  });

  it('disagrees with a sidecar that never ejects, naming the replica and its 3rd consecutive 5xx', function () {
    const r = judge(fakeTraffic({ failing: new Set([2]), phaseMs: 73, eject: false }));
    expect(r.agreeingPhases).to.deep.equal([]);
    expect(r.disagreements[0]).to.match(/^p-2 was sent request \d+ at \d+ ms and \d+ more until \d+ ms, but the oracle ejects it at \d+ ms \(first ejection: at least 600 ms\b.*after its 3rd consecutive 5xx$/);
  });

  it('disagrees with a sidecar that ejects after 2 failures instead of 3', function () {
    const r = judge(fakeTraffic({ failing: new Set([2]), phaseMs: 73, consecutive: 2 }));
    expect(r.agreeingPhases).to.deep.equal([]);
    expect(r.disagreements.join('\n')).to.match(/p-2 got none of 6 requests in a row .* although the oracle has it in service all along/);
  });

  it('disagrees with a sidecar that does not double the second ejection, or keeps the first one out twice as long', function () {
    const single = judge(fakeTraffic({ failing: new Set([2]), phaseMs: 73, doubling: false }));
    expect(single.agreeing).to.deep.equal([]);
    expect(single.disagreements.join('\n')).to.match(/p-2 was sent request .*ejection ×2: at least 1200 ms|p-2 got none of \d+ requests in a row/);
    expect(judge(fakeTraffic({ failing: new Set([2]), phaseMs: 73, firstLonger: true })).disagreements.join('\n')).to.match(/p-2 got none of 6 requests in a row .*back in service since the sweep/);
  });

  it('caps at maxEjectionPercent: 3 failing of 4 with a 50% cap agree at 2 out at once; a sidecar that ejects all 3 disagrees', function () {
    const capped = judge(fakeTraffic({ failing: new Set([1, 2, 3]), phaseMs: 20 }));
    expect(capped.disagreements).to.deep.equal([]);
    expect(capped.mostEjected).to.deep.equal([2, 2]);
    expect(capped.range((s) => s.ejectionsOverflow)[0]).to.be.greaterThan(0);
    expect(judge(fakeTraffic({ failing: new Set([1, 2, 3]), phaseMs: 20, maxEjected: 3 })).agreeingPhases).to.deep.equal([]);
  });

  it("counts overflow down to what a sidecar that resets the count late makes: one 503 lost after each overflow (the next, 20 ms later) fits a 25 ms reset lag, not none", function () {
    // The fake counts no gateway errors (the oracle would count every 5th 503 as one more overflow): none configured.
    const od = { ...SEED_OD, consecutiveGatewayErrors: 0 };
    const exact = { overflow: 0 };
    // 550 ms: the two ejected stay out (600 ms), so a lost 503 moves only overflows, not which detection becomes an ejection.
    const fits = judge(fakeTraffic({ failing: new Set([1, 2, 3]), phaseMs: 20, durationMs: 550, counted: exact }), od);
    const [low, high] = fits.range((s) => s.ejectionsOverflow);
    expect(exact.overflow).to.be.within(low, high);
    const late = { overflow: 0 };
    const requests = fakeTraffic({ failing: new Set([1, 2, 3]), phaseMs: 20, durationMs: 550, lostAfterDetection: 1, counted: late });
    expect(late.overflow).to.be.below(exact.overflow);
    const strict = judge(requests, od);
    expect(strict.disagreements).to.deep.equal([]);
    expect(late.overflow).to.be.below(strict.range((s) => s.ejectionsOverflow)[0]);
    // A lag of 25 ms covers the one 503 after each detection (20 ms apart), and leaves the upper end where it was.
    const lagged = judge(requests, od, 25).range((s) => s.ejectionsOverflow);
    expect(late.overflow).to.be.within(lagged[0], lagged[1]);
    expect(lagged[1]).to.equal(strict.range((s) => s.ejectionsOverflow)[1]);
    // Too short a lag (5 ms) loses nothing and still tells the late sidecar's count apart.
    expect(late.overflow).to.be.below(judge(requests, od, 5).range((s) => s.ejectionsOverflow)[0]);
  });

  it('panic with minHealthPercent 50 routes to ejected replicas and never answers UH; a sidecar without panic answers UH and disagrees', function () {
    const od = { ...SEED_OD, maxEjectionPercent: 100, minHealthPercent: 50 };
    const all = new Set([0, 1, 2, 3]);
    expect(judge(fakeTraffic({ failing: all, phaseMs: 90, maxEjected: 4, panicPercent: 50 }), od).disagreements).to.deep.equal([]);
    expect(judge(fakeTraffic({ failing: all, phaseMs: 90, maxEjected: 4 }), od).disagreements.join('\n')).to.match(/answered 503 UH \(no healthy upstream\), but the oracle has panic routing \(minHealthPercent 50\)/);
  });

  it('without minHealthPercent, all replicas out means 503 UH; a sidecar that keeps routing to them disagrees', function () {
    const od = { ...SEED_OD, maxEjectionPercent: 100 };
    const all = new Set([0, 1, 2, 3]);
    expect(judge(fakeTraffic({ failing: all, phaseMs: 90, maxEjected: 4 }), od).disagreements).to.deep.equal([]);
    expect(judge(fakeTraffic({ failing: all, phaseMs: 90, maxEjected: 4, panicPercent: 50 }), od).agreeingPhases).to.deep.equal([]);
  });

  it('with a cap below one host (20% of 4) expects no ejection at all, and disagrees with a sidecar that ejects', function () {
    const od = { ...SEED_OD, maxEjectionPercent: 20 };
    const never = judge(fakeTraffic({ failing: new Set([3]), phaseMs: 0, eject: false }), od);
    expect(never.disagreements).to.deep.equal([]);
    expect(never.expected).to.deep.equal([]);
    expect(never.range((s) => s.ejectionsOverflow)[0]).to.be.greaterThan(10);
    expect(judge(fakeTraffic({ failing: new Set([3]), phaseMs: 0 }), od).disagreements[0]).to.match(/p-3 got none of 6 requests in a row/);
  });
});
