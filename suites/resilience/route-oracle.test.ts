import { expect } from 'chai';
import type { HttpRoute, MeshForwardResult } from '../../harness/index.ts';
import { compareWithRoute, scaledRoute } from './route-oracle.ts';

/** The seed's VirtualService route. */
const SEED: HttpRoute = { route: [{ destination: { host: 'payment-service' } }], timeout: '3s', retries: { attempts: 3, perTryTimeout: '1s', retryOn: '5xx,gateway-error,connect-failure' } };

const observed = (r: Partial<MeshForwardResult>): MeshForwardResult => ({ index: 0, startedAtMs: 0, durationMs: 3, outcome: 'response', ...r });

describe('one request against what the route makes of it', function () {
  it('scales the policy durations by the time scale, and leaves the rest alone', function () {
    expect(scaledRoute(SEED, 0.02)).to.deep.include({ timeout: '60ms', retries: { attempts: 3, perTryTimeout: '20ms', retryOn: '5xx,gateway-error,connect-failure' } });
    expect(scaledRoute({ fault: { delay: { fixedDelay: '5s', percentage: { value: 50 } } } }, 0.02)?.fault?.delay?.fixedDelay).to.equal('100ms');
    expect(scaledRoute(SEED, 1)).to.equal(SEED);
  });

  it('agrees with a request retried once after a 503 (2 attempts, 200)', function () {
    const r = observed({ status: 200, responseFlags: '-', headers: { 'x-envoy-attempt-count': '2' }, servedBy: 'p-1' });
    expect(compareWithRoute(r, { route: SEED, attempts: [{ kind: 'response', status: 503 }, { kind: 'response', status: 200 }], slackMs: 5 }).error).to.equal(undefined);
  });

  it('disagrees with a data plane that does not retry: a 503 after 1 attempt, where the route retries 3 times', function () {
    const r = observed({ status: 503, responseFlags: '-', headers: { 'x-envoy-attempt-count': '1' }, servedBy: 'p-1' });
    const { error, outcome } = compareWithRoute(r, { route: SEED, attempts: [{ kind: 'response', status: 503 }], slackMs: 5 });
    expect(outcome.attempts).to.equal(4);
    expect(error?.message).to.match(/^flags -, the oracle says URX; 1 attempts, the oracle says 4 \(upstream answered 503 after 4 attempts/);
  });

  it("checks the local reply's body, the flags and the elapsed time: a route timeout is 504 UT 'upstream request timeout' no sooner than the timeout", function () {
    const route = scaledRoute({ ...SEED, retries: { attempts: 0 } }, 0.02);
    const slow = [{ kind: 'response' as const, status: 200, latencyMs: 500 }];
    const good = observed({ status: 504, responseFlags: 'UT', body: 'upstream request timeout', durationMs: 61 });
    expect(compareWithRoute(good, { route, attempts: slow, slackMs: 5 }).error).to.equal(undefined);
    expect(compareWithRoute({ ...good, durationMs: 20 }, { route, attempts: slow, slackMs: 5 }).error?.message).to.match(/answered after 20 ms, before the 60 ms/);
    // The client sidecar's own duration, where it logged one, is what is judged.
    expect(compareWithRoute({ ...good, durationMs: 20, sidecarDurationMs: 60.4 }, { route, attempts: slow, slackMs: 5 }).error).to.equal(undefined);
    expect(compareWithRoute({ ...good, sidecarDurationMs: 20 }, { route, attempts: slow, slackMs: 5 }).error?.message).to.match(/answered after 20 ms \(client sidecar\), before the 60 ms/);
    expect(compareWithRoute({ ...good, body: 'no healthy upstream' }, { route, attempts: slow, slackMs: 5 }).error?.message).to.match(/body 'no healthy upstream', the oracle says 'upstream request timeout'/);
  });

  it('a fault abort is a local reply with no upstream attempt: an answer from a replica disagrees', function () {
    const route: HttpRoute = { ...SEED, fault: { abort: { httpStatus: 503, percentage: { value: 40 } } } };
    const aborted = observed({ status: 503, responseFlags: 'FI', body: 'fault filter abort' });
    expect(compareWithRoute(aborted, { route, attempts: [{ kind: 'response', status: 200 }], faultRoll: 0, slackMs: 5 }).error).to.equal(undefined);
    expect(compareWithRoute({ ...aborted, servedBy: 'p-2' }, { route, attempts: [{ kind: 'response', status: 200 }], faultRoll: 0, slackMs: 5 }).error?.message).to.match(/answered by p-2, the oracle says no upstream attempt/);
  });
});
