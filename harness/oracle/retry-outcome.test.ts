import { expect } from 'chai';
import type { HttpRoute } from '../model/resources.ts';
import { requestOutcome, type AttemptResult } from './retry-outcome.ts';

const seedRoute: HttpRoute = { timeout: '3s', retries: { attempts: 3, perTryTimeout: '1s', retryOn: '5xx,gateway-error,connect-failure' } };
const status = (s: number, latencyMs = 0): AttemptResult => ({ kind: 'response', status: s, latencyMs });
const connectFailure: AttemptResult = { kind: 'connect-failure' };

/** Retries and timeouts (istio-semantics.md §4): route, attempt results → attempts, status, flags. */
const rows: { name: string; route: HttpRoute | undefined; results: AttemptResult[]; attempts: number; status: number; flags: string[]; faultRoll?: number; mesh?: HttpRoute['retries'] }[] = [
  { name: 'no VirtualService: default policy retries a connect failure twice', route: undefined, results: [connectFailure], attempts: 3, status: 503, flags: ['UF', 'URX'] },
  { name: 'no VirtualService: connect failure then success', route: undefined, results: [connectFailure, status(200)], attempts: 2, status: 200, flags: [] },
  { name: 'default policy does not retry a 503 response (since 1.24)', route: undefined, results: [status(503)], attempts: 1, status: 503, flags: [] },
  { name: 'attempts: 0 disables retries, the default included', route: { retries: { attempts: 0 } }, results: [connectFailure], attempts: 1, status: 503, flags: ['UF'] },
  { name: 'seed route: 5xx retried 3 times then URX', route: seedRoute, results: [status(503)], attempts: 4, status: 503, flags: ['URX'] },
  { name: 'seed route: success on the third attempt', route: seedRoute, results: [status(500), status(502), status(200)], attempts: 3, status: 200, flags: [] },
  { name: 'seed route: 2 s answers hit the 1 s per-try timeout, then the 3 s route timeout', route: seedRoute, results: [status(200, 2000)], attempts: 3, status: 504, flags: ['UT'] },
  { name: 'per-try timeout without 5xx/gateway-error/reset in retryOn is not retried', route: { retries: { attempts: 3, perTryTimeout: '1s' } }, results: [status(200, 2000)], attempts: 1, status: 504, flags: ['UT'] },
  { name: 'route timeout alone: 504 UT, no retry', route: { timeout: '1s' }, results: [status(200, 5000)], attempts: 1, status: 504, flags: ['UT'] },
  { name: 'retryOn integer codes: 503 retried, 500 not', route: { retries: { attempts: 2, retryOn: '503' } }, results: [status(503), status(500)], attempts: 2, status: 500, flags: [] },
  { name: 'a reset is retried by "reset", not by the default policy', route: { retries: { attempts: 1, retryOn: 'reset' } }, results: [{ kind: 'reset' }], attempts: 2, status: 503, flags: ['UR', 'URX'] },
  { name: 'fault abort 100%: no upstream attempt, no retry', route: { ...seedRoute, fault: { abort: { httpStatus: 503, percentage: { value: 100 } } } }, results: [status(200)], attempts: 0, status: 503, flags: ['FI'] },
  { name: 'fault abort without percentage aborts nothing', route: { fault: { abort: { httpStatus: 418 } } }, results: [status(200)], attempts: 1, status: 200, flags: [] },
  { name: 'fault abort 50% with a roll of 60: not applied', route: { fault: { abort: { httpStatus: 418, percentage: { value: 50 } } } }, results: [status(200)], attempts: 1, status: 200, flags: [], faultRoll: 60 },
  { name: 'fault delay 5 s with route timeout 2 s does not time out', route: { timeout: '2s', fault: { delay: { fixedDelay: '5s', percentage: { value: 100 } } } }, results: [status(200, 100)], attempts: 1, status: 200, flags: ['DI'] },
  { name: 'meshConfig.defaultHttpRetryPolicy replaces the default', route: undefined, mesh: { attempts: 1, retryOn: '5xx' }, results: [status(500)], attempts: 2, status: 500, flags: ['URX'] },
];

describe('retries, timeouts and faults', function () {
  for (const row of rows) {
    it(`${row.name} → ${row.attempts} attempt(s), ${row.status} ${row.flags.join(',') || '-'}`, function () {
      const r = requestOutcome({ route: row.route, results: row.results, ...(row.faultRoll === undefined ? {} : { faultRoll: row.faultRoll }), ...(row.mesh === undefined ? {} : { meshDefaultRetryPolicy: row.mesh }) });
      expect({ attempts: r.attempts, status: r.status, flags: r.flags }, r.reason).to.deep.equal({ attempts: row.attempts, status: row.status, flags: row.flags });
    });
  }
  it('names the policy used and the bodies Envoy sends', function () {
    expect(requestOutcome({ route: undefined, results: [connectFailure] })).to.deep.include({ body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure' });
    expect(requestOutcome({ route: undefined, results: [connectFailure] }).retryPolicy.source).to.equal('istio-default');
    expect(requestOutcome({ route: { timeout: '1s' }, results: [status(200, 5000)] })).to.deep.include({ body: 'upstream request timeout', elapsedMs: 1000 });
    expect(requestOutcome({ route: { fault: { abort: { httpStatus: 418, percentage: { value: 100 } } } }, results: [status(200)] }).body).to.equal('fault filter abort');
  });
});
