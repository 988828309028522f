import { expect } from 'chai';
import type { OutlierDetectionConfig } from '../../../istiod/outbound-config.ts';
import { freshOutlierState, OutlierDetector, startSweeps, type EjectionType, type OutlierState } from './outlier-detector.ts';

interface Host {
  readonly name: string;
  readonly outlier: OutlierState;
}

const config = (over: Partial<OutlierDetectionConfig> = {}): OutlierDetectionConfig => ({
  consecutive5xx: 3,
  enforcingConsecutive5xx: true,
  consecutiveGatewayFailure: 5,
  enforcingConsecutiveGatewayFailure: false,
  splitExternalLocalOriginErrors: false,
  consecutiveLocalOriginFailure: 5,
  enforcingConsecutiveLocalOriginFailure: true,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 50,
  ...over,
});

/** A detector over `n` hosts with a clock the test moves; sweeps run at every interval, as the cluster's timer does. */
function setup(n: number, c: OutlierDetectionConfig) {
  let now = 0;
  const hosts: Host[] = Array.from({ length: n }, (_, i) => ({ name: `h${i}`, outlier: freshOutlierState() }));
  const events: string[] = [];
  const detector = new OutlierDetector<Host>(
    c,
    hosts,
    {
      detected: (h, t: EjectionType) => events.push(`detected ${h.name} ${t}`),
      ejected: (h, t, ms) => events.push(`ejected ${h.name} ${t} ${ms}`),
      overflow: (h) => events.push(`overflow ${h.name}`),
      unejected: (h) => events.push(`back ${h.name} @${now}`),
    },
    () => now,
  );
  /** Moves the clock to `t`, sweeping at each interval boundary on the way. */
  const advance = (t: number): void => {
    for (let tick = Math.floor(now / c.intervalMs) * c.intervalMs + c.intervalMs; tick <= t; tick += c.intervalMs) {
      now = tick;
      detector.sweep();
    }
    now = t;
  };
  const fail = (h: number, times: number, status = 503): void => {
    for (let i = 0; i < times; i++) detector.putHttpStatus(hosts[h]!, status);
  };
  return { hosts, events, detector, advance, fail };
}

describe('outlier detector (Envoy ≥ 1.28 rules)', function () {
  it('ejects on exactly the Nth consecutive 5xx; a success in between starts the count again', function () {
    const { hosts, detector, fail } = setup(4, config());
    fail(0, 2);
    detector.putHttpStatus(hosts[0]!, 200);
    fail(0, 2);
    expect(hosts[0]!.outlier.ejected).to.equal(false);
    fail(0, 1);
    expect(hosts[0]!.outlier.ejected).to.equal(true);
    expect(detector.ejectionsActive).to.equal(1);
  });

  const caps: [percent: number, most: number][] = [
    [10, 0],
    [25, 1],
    [30, 1],
    [50, 2],
    [75, 3],
    [100, 4],
  ];
  for (const [percent, most] of caps) {
    it(`with 4 hosts all failing, maxEjectionPercent ${percent} ejects ${most} and counts the rest as overflow`, function () {
      const { detector, fail, events } = setup(4, config({ maxEjectionPercent: percent }));
      for (let h = 0; h < 4; h++) fail(h, 3);
      expect(detector.ejectionsActive).to.equal(most);
      expect(events.filter((e) => e.startsWith('overflow'))).to.have.length(4 - most);
    });
  }

  it('returns a host at the first sweep after base × multiplier; re-ejected within an interval it stays out twice as long', function () {
    const { hosts, fail, advance, events } = setup(4, config());
    advance(5_000);
    fail(1, 3); // ejected at 5 s for 30 s
    advance(34_999);
    expect(hosts[1]!.outlier.ejected).to.equal(true);
    advance(40_000); // sweeps at 10, 20, 30, 40 s: back at 40 s (30 s rounded up to the sweep)
    expect(hosts[1]!.outlier.ejected).to.equal(false);
    advance(45_000);
    fail(1, 3); // again before the next sweep: multiplier 2
    expect(events.at(-1)).to.equal('ejected h1 consecutive_5xx 60000');
    advance(104_999);
    expect(hosts[1]!.outlier.ejected).to.equal(true);
    advance(110_000);
    expect(events.filter((e) => e.startsWith('back'))).to.deep.equal(['back h1 @40000', 'back h1 @110000']);
  });

  it('lets the multiplier decay by one per interval spent healthy, and caps an ejection at max_ejection_time', function () {
    const { hosts, fail, advance, events } = setup(4, config({ baseEjectionTimeMs: 200_000, maxEjectionTimeMs: 300_000 }));
    fail(0, 3);
    advance(200_000);
    expect(hosts[0]!.outlier.ejected).to.equal(false);
    fail(0, 3);
    expect(events.at(-1)).to.equal('ejected h0 consecutive_5xx 300000'); // min(2 × 200 s, 300 s)
    advance(500_000);
    expect(hosts[0]!.outlier.backoff).to.equal(2);
    advance(530_000); // healthy for three sweeps after returning at 500 s
    expect(hosts[0]!.outlier.backoff).to.equal(0);
    fail(0, 3);
    expect(events.at(-1)).to.equal('ejected h0 consecutive_5xx 200000');
  });

  it('counts gateway errors only when enforced, and another 5xx breaks that run', function () {
    const { hosts, fail, detector, events } = setup(4, config({ consecutive5xx: 0, enforcingConsecutive5xx: false, consecutiveGatewayFailure: 2, enforcingConsecutiveGatewayFailure: true }));
    fail(0, 1, 502);
    fail(0, 1, 500);
    fail(0, 1, 504);
    expect(hosts[0]!.outlier.ejected).to.equal(false);
    fail(0, 1, 503);
    expect(hosts[0]!.outlier.ejected).to.equal(true);
    expect(events).to.include('ejected h0 consecutive_gateway_failure 30000');
    expect(detector.ejectionsActive).to.equal(1);
  });

  it('detects without ejecting when the type is not enforced', function () {
    const { hosts, fail, events } = setup(4, config({ consecutiveGatewayFailure: 2, consecutive5xx: 10 }));
    fail(0, 2, 503);
    expect(hosts[0]!.outlier.ejected).to.equal(false);
    expect(events).to.deep.equal(['detected h0 consecutive_gateway_failure']);
  });

  it('counts local-origin failures as 503 (connect failure, reset) and 504 (timeout) without the split; only as local origin with it', function () {
    const plain = setup(4, config());
    plain.detector.putLocalOrigin(plain.hosts[0]!, 'connect-failure');
    plain.detector.putLocalOrigin(plain.hosts[0]!, 'timeout');
    plain.detector.putLocalOrigin(plain.hosts[0]!, 'reset');
    expect(plain.hosts[0]!.outlier.ejected).to.equal(true);
    const split = setup(4, config({ splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 2 }));
    split.detector.putLocalOrigin(split.hosts[0]!, 'connect-failure');
    split.fail(0, 2);
    expect(split.hosts[0]!.outlier.ejected).to.equal(false);
    split.detector.putLocalOrigin(split.hosts[0]!, 'timeout');
    split.detector.putLocalOrigin(split.hosts[0]!, 'timeout');
    expect(split.events.at(-1)).to.equal('ejected h0 consecutive_local_origin_failure 30000');
  });

  it('sweeps at least one interval apart by the detector\'s clock, never early, re-armed after each sweep', async function () {
    // The clock is the test's: the real timer fires after about 10 ms, but no sweep may run until
    // the clock says the interval is over.
    let clock = 1_000;
    const swept: number[] = [];
    const sweeps = startSweeps(() => swept.push(clock), 10, () => clock);
    const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      await wait(40);
      expect(swept, 'the clock has not moved').to.deep.equal([]);
      clock = 1_009.6; // a fraction of a millisecond early, as setInterval could be
      await wait(30);
      expect(swept).to.deep.equal([]);
      clock = 1_010;
      await wait(30);
      expect(swept).to.deep.equal([1_010]);
      clock = 1_019.9;
      await wait(30);
      expect(swept, 'the next is due one interval after the last sweep').to.deep.equal([1_010]);
      clock = 1_020;
      await wait(30);
      expect(swept).to.deep.equal([1_010, 1_020]);
    } finally {
      sweeps.stop();
    }
    clock = 2_000;
    await wait(30);
    expect(swept, 'stopped').to.deep.equal([1_010, 1_020]);
  });
});
