import { expect } from 'chai';
import type { OutlierDetectionSettings } from '../model/resources.ts';
import { maxEjectedHosts } from './outlier-settings.ts';
import { simulateOutlierDetection, type OutlierEvent, type UpstreamResult } from './outlier-simulation.ts';

/** `n` consecutive results for each endpoint, 10 ms apart, starting at `start`. */
function burst(endpoints: number[], n: number, start: number, result: UpstreamResult = 503): OutlierEvent[] {
  const out: OutlierEvent[] = [];
  for (let k = 0; k < n; k++) for (const endpoint of endpoints) out.push({ at: start + k * 10 + endpoint, endpoint, result });
  return out;
}

const od = (extra: OutlierDetectionSettings): OutlierDetectionSettings => ({ consecutive5xxErrors: 3, interval: '10s', baseEjectionTime: '30s', ...extra });

describe('outlier detection: the cap (Envoy >= 1.28: 100*(active+1)/total <= max%)', function () {
  const rows: [number, number][] = [[10, 0], [25, 1], [30, 1], [50, 2], [75, 3], [100, 4]];
  for (const [percent, ejected] of rows) {
    it(`4 endpoints all failing, maxEjectionPercent ${percent} → ${ejected} ejected`, function () {
      const r = simulateOutlierDetection({ endpoints: 4, outlierDetection: od({ maxEjectionPercent: percent }), untilMs: 5_000, events: burst([0, 1, 2, 3], 3, 100) });
      expect(r.stats.ejectionsActive).to.equal(ejected);
      expect(r.stats.ejectionsOverflow).to.equal(4 - ejected);
      expect(maxEjectedHosts(4, percent)).to.equal(ejected);
    });
  }
  it('maxEjectionPercent unset or 0 means Envoy default 10%', function () {
    expect(simulateOutlierDetection({ endpoints: 10, outlierDetection: od({}), untilMs: 1000, events: burst([0, 1, 2], 3, 0) }).stats.ejectionsActive).to.equal(1);
    expect(simulateOutlierDetection({ endpoints: 10, outlierDetection: od({ maxEjectionPercent: 0 }), untilMs: 1000, events: burst([0, 1, 2], 3, 0) }).stats.ejectionsActive).to.equal(1);
  });
});

describe('outlier detection: the counter reset a busy main thread runs late (resetLagMs)', function () {
  // Cap 25 % of 4: one host out; endpoint 1 keeps failing and every 3rd 5xx is an overflow, each 10 ms apart (500s: no gateway-error count).
  const overflowing = (resetLagMs?: number): ReturnType<typeof simulateOutlierDetection> =>
    simulateOutlierDetection({ endpoints: 4, outlierDetection: od({ maxEjectionPercent: 25 }), untilMs: 5_000, events: [...burst([0], 3, 0, 500), ...burst([1], 12, 100, 500)], ...(resetLagMs === undefined ? {} : { resetLagMs }) });

  it('without a lag, every 3rd consecutive 5xx is a detection', function () {
    expect(overflowing().stats.ejectionsOverflow).to.equal(4);
    expect(overflowing(0).stats.ejectionsOverflow).to.equal(4);
  });

  it('5xx answered before the reset runs count for nothing, so a detection needs 3 more after it', function () {
    // Lag 5 ms < 10 ms between answers: nothing lost. Lag 10 ms: the answer right after each detection is lost
    // (detections at the 3rd, 7th, 11th 5xx); 25 ms: two lost each time (3rd, 8th).
    expect(overflowing(5).stats.ejectionsOverflow).to.equal(4);
    expect(overflowing(10).timeline.filter((e) => e.kind === 'overflow').map((e) => e.at)).to.deep.equal([121, 161, 201]);
    expect(overflowing(25).stats.ejectionsOverflow).to.equal(2);
    expect(overflowing(25).stats.ejectionsDetected.consecutive_5xx).to.equal(3);
  });

  it('a success during the lag is wiped too: the count starts from 0 after the reset', function () {
    const events: OutlierEvent[] = [...burst([0], 3, 0, 500), { at: 25, endpoint: 0, result: 200 }, ...burst([0], 3, 30, 500)];
    const r = simulateOutlierDetection({ endpoints: 4, outlierDetection: od({ maxEjectionPercent: 0 }), untilMs: 1000, events, resetLagMs: 40 });
    // maxEjectionPercent 0 is Envoy's 10 %: of 4 hosts none may go, so each detection is an overflow.
    expect(r.stats.ejectionsOverflow).to.equal(1);
    expect(simulateOutlierDetection({ endpoints: 4, outlierDetection: od({ maxEjectionPercent: 0 }), untilMs: 1000, events }).stats.ejectionsOverflow).to.equal(2);
  });
});

describe('outlier detection: durations', function () {
  it('ejects on the Nth consecutive 5xx, not before; a success resets the count', function () {
    const events: OutlierEvent[] = [...burst([0], 2, 0), { at: 50, endpoint: 0, result: 200 }, ...burst([0], 2, 100)];
    expect(simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100 }), untilMs: 1000, events }).timeline).to.deep.equal([]);
    const third = simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100 }), untilMs: 1000, events: burst([0], 3, 0) });
    expect(third.timeline[0]).to.include({ at: 20, endpoint: 0, kind: 'ejected', type: 'consecutive_5xx', ejectionMs: 30_000, backoff: 1 });
  });

  it('the host returns at the first interval tick after base*backoff: 30-40 s for base 30 s, interval 10 s', function () {
    const r = simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100 }), untilMs: 60_000, events: burst([0], 3, 1_000) });
    const back = r.timeline.find((e) => e.kind === 'unejected');
    expect(back?.at).to.equal(40_000);
    expect(r.ejectedAt(39_999)).to.deep.equal([0]);
    expect(r.ejectedAt(40_000)).to.deep.equal([]);
    const onTick = simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100 }), untilMs: 60_000, events: [{ at: 9_990, endpoint: 0, result: 503 }, { at: 9_995, endpoint: 0, result: 503 }, { at: 10_000, endpoint: 0, result: 503 }] });
    expect(onTick.timeline.map((e) => `${e.kind}@${e.at}`)).to.deep.equal(['ejected@10000', 'unejected@40000']);
  });

  it('re-ejected within one interval of returning: 2 x base; after staying healthy the multiplier decays', function () {
    const quick = simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100 }), untilMs: 200_000, events: [...burst([0], 3, 1_000), ...burst([0], 3, 40_001)] });
    const ejections = quick.timeline.filter((e) => e.kind === 'ejected');
    expect(ejections.map((e) => e.ejectionMs)).to.deep.equal([30_000, 60_000]);
    expect(quick.timeline.filter((e) => e.kind === 'unejected').map((e) => e.at)).to.deep.equal([40_000, 110_000]);
    // Returned at 40 s, healthy at the 50 s tick (one interval later): backoff 1 → 0, so 30 s again.
    const late = simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100 }), untilMs: 200_000, events: [...burst([0], 3, 1_000), ...burst([0], 3, 55_000)] });
    expect(late.timeline.filter((e) => e.kind === 'ejected').map((e) => e.ejectionMs)).to.deep.equal([30_000, 30_000]);
  });

  it('caps at max_ejection_time 300 s: base 3m gives a second ejection of 300 s', function () {
    const r = simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100, baseEjectionTime: '3m' }), untilMs: 1_000_000, events: [...burst([0], 3, 1_000), ...burst([0], 3, 190_001)] });
    expect(r.timeline.filter((e) => e.kind === 'ejected').map((e) => e.ejectionMs)).to.deep.equal([180_000, 300_000]);
  });

  it('scales every policy duration by timeScale (0.02: base 30 s → 0.6 s, interval 10 s → 0.2 s)', function () {
    const r = simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100 }), untilMs: 2_000, timeScale: 0.02, events: burst([0], 3, 100) });
    expect(r.timeline.map((e) => `${e.kind}@${e.at}`)).to.deep.equal(['ejected@120', 'unejected@800']);
    expect(r.timeline[0]?.ejectionMs).to.equal(600);
  });
});

describe('outlier detection: settings and routing', function () {
  it('no outlierDetection block: nothing is ever ejected', function () {
    expect(simulateOutlierDetection({ endpoints: 2, outlierDetection: undefined, untilMs: 1000, events: burst([0], 20, 0) }).timeline).to.deep.equal([]);
  });
  it('consecutive5xxErrors 0 disables 5xx ejection', function () {
    expect(simulateOutlierDetection({ endpoints: 2, outlierDetection: { consecutive5xxErrors: 0, maxEjectionPercent: 100 }, untilMs: 1000, events: burst([0], 20, 0) }).stats.ejectionsActive).to.equal(0);
  });
  it('consecutiveGatewayErrors counts only 502/503/504; a 500 resets it', function () {
    const settings = { consecutive5xxErrors: 0, consecutiveGatewayErrors: 2, maxEjectionPercent: 100 };
    expect(simulateOutlierDetection({ endpoints: 2, outlierDetection: settings, untilMs: 1000, events: [{ at: 1, endpoint: 0, result: 503 }, { at: 2, endpoint: 0, result: 500 }, { at: 3, endpoint: 0, result: 502 }] }).stats.ejectionsActive).to.equal(0);
    expect(simulateOutlierDetection({ endpoints: 2, outlierDetection: settings, untilMs: 1000, events: [{ at: 1, endpoint: 0, result: 503 }, { at: 3, endpoint: 0, result: 504 }] }).stats.ejectionsEnforced.consecutive_gateway_failure).to.equal(1);
  });
  it('without the split, connect failures count as 5xx; with it, they count as local-origin failures only', function () {
    expect(simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100 }), untilMs: 1000, events: burst([0], 3, 0, 'connect-failure') }).stats.ejectionsEnforced.consecutive_5xx).to.equal(1);
    const split = simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2 }), untilMs: 1000, events: burst([0], 3, 0, 'connect-failure') });
    expect(split.stats.ejectionsEnforced).to.deep.equal({ consecutive_5xx: 0, consecutive_gateway_failure: 0, consecutive_local_origin_failure: 1 });
  });

  it('routes round-robin over healthy endpoints; all ejected with panic 0 → 503 no healthy upstream', function () {
    const r = simulateOutlierDetection({ endpoints: 2, outlierDetection: od({ maxEjectionPercent: 100 }), untilMs: 100, traffic: { everyMs: 10, respond: () => 503 } });
    expect(r.requests.slice(0, 6).map((q) => q.endpoint)).to.deep.equal([0, 1, 0, 1, 0, 1]);
    expect(r.requests.at(-1)).to.include({ result: 'no-healthy-upstream', panic: false });
  });

  it('panic (minHealthPercent 50): once healthy drops below 50 % (1 of 4), traffic goes to every endpoint, ejected ones included', function () {
    const failing = new Set([0, 1, 2]);
    const r = simulateOutlierDetection({ endpoints: 4, outlierDetection: od({ maxEjectionPercent: 100, minHealthPercent: 50 }), untilMs: 400, traffic: { everyMs: 10, respond: (e) => (failing.has(e) ? 503 : 200) } });
    expect(r.stats.ejectionsActive).to.equal(3);
    const panicked = r.requests.filter((q) => q.panic);
    expect(panicked.length).to.be.greaterThan(0);
    expect(new Set(panicked.map((q) => q.endpoint))).to.deep.equal(new Set([0, 1, 2, 3]));
    // At 2 of 4 healthy (50 %, not below the threshold) there is no panic yet.
    const firstPanic = panicked[0]?.at ?? 0;
    expect(r.requests.filter((q) => q.at < firstPanic).every((q) => !q.panic)).to.equal(true);
    expect(r.ejectedAt(firstPanic - 1)).to.have.length(3);
  });
});
