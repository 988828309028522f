import { expect } from 'chai';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { subscribe } from '../events.ts';
import type { Observation } from '../traffic/types.ts';
import type { ConformanceCase } from './case.ts';
import { reset } from './checks.ts';
import { Feature } from '../spec/features.ts';
import { runCase, type CaseResult } from './case-runner.ts';

const resetObs: Observation = { request: { protocol: 'http', host: 'h', port: 1 }, outcome: 'reset', startedAt: 0, durationMs: 1 };
const okObs: Observation = { request: { protocol: 'http', host: 'h', port: 1 }, outcome: 'response', status: 200, startedAt: 0, durationMs: 1 };
const evidence = (observation: Observation) => ({ label: 'plaintext GET / → payment:8080', from: 'plaintext', to: 'payment:8080', observation });

function makeCase(test: ConformanceCase<null>['test'], features: Feature[] = [Feature.MtlsStrict]): ConformanceCase<null> {
  return { shortName: 'strict-rejects-plaintext', description: 'd', area: 'mtls', features, manifests: [], test };
}

const run = (c: ConformanceCase<null>, extra: { skipReason?: string; supported?: Feature[] } = {}) =>
  runCase(c, { env: null, seed: 1, supportedFeatures: new Set(extra.supported ?? [Feature.MtlsStrict]), skipReason: extra.skipReason });

describe('case runner', function () {
  it('passes when every check holds, and keeps the evidence', async function () {
    const result = await run(makeCase(async (ctx) => ctx.expect(evidence(resetObs), reset())));
    expect(result.outcome).to.deep.equal({ status: 'passed' });
    expect(result.checks).to.equal(1);
    expect(result.evidence).to.have.length(1);
  });

  it('fails with the call in the message when a check fails', async function () {
    const result = await run(makeCase(async (ctx) => ctx.expect(evidence(okObs), reset())));
    expect(result.outcome).to.deep.equal({ status: 'failed', message: 'plaintext GET / → payment:8080: expected the connection reset with no response, got status 200' });
  });

  it('fails a case that checked nothing', async function () {
    const result = await run(makeCase(async () => undefined));
    expect(result.outcome.status).to.equal('failed');
  });

  it('does not run a case whose features the data plane does not claim', async function () {
    let ran = false;
    const result = await run(makeCase(async () => void (ran = true), [Feature.MtlsStrict, Feature.AuthzCustom]));
    expect(result.outcome).to.deep.equal({ status: 'not-supported', features: [Feature.AuthzCustom] });
    expect(ran).to.equal(false);
  });

  it('reports a skip with its reason, from the environment or from the case', async function () {
    expect((await run(makeCase(async () => undefined), { skipReason: 'envoy unavailable' })).outcome).to.deep.equal({ status: 'skipped', reason: 'envoy unavailable' });
    expect((await run(makeCase(async (ctx) => ctx.skip('needs two nodes')))).outcome).to.deep.equal({ status: 'skipped', reason: 'needs two nodes' });
  });

  it('calls infrastructure trouble an error, never a failure; a policy that never converges is a failure', async function () {
    const infra = await run(makeCase(async () => {
      throw new MeshproofError(ErrorCode.RuntimeUnavailable, 'engine gone');
    }));
    expect(infra.outcome).to.deep.equal({ status: 'error', message: 'engine gone', code: ErrorCode.RuntimeUnavailable });
    const hinted = await run(makeCase(async () => {
      throw new MeshproofError(ErrorCode.RuntimeUnavailable, 'engine gone', { hint: 'start dockerd' });
    }));
    expect(hinted.outcome).to.deep.equal({ status: 'error', message: 'engine gone', code: ErrorCode.RuntimeUnavailable, hint: 'start dockerd' });
    const stuck = await run(makeCase(async () => {
      throw new MeshproofError(ErrorCode.ConvergenceTimeout, 'STRICT never took effect');
    }));
    expect(stuck.outcome).to.deep.equal({ status: 'failed', message: 'STRICT never took effect' });
    const bug = await run(makeCase(async () => {
      throw new TypeError('undefined is not a function');
    }));
    expect(bug.outcome).to.deep.include({ status: 'error', code: ErrorCode.Internal });
  });

  it('verify() counts as a check and fails the case with its context', async function () {
    const result = await run(makeCase(async (ctx) => ctx.verify('ejections_active after 3 failures', new Error('expected 1, scraped 0'))));
    expect(result.outcome).to.deep.equal({ status: 'failed', message: 'ejections_active after 3 failures: expected 1, scraped 0' });
  });

  it('publishes case:end with the result', async function () {
    const seen: CaseResult[] = [];
    const unsubscribe = subscribe('case:end', ({ result }) => seen.push(result));
    try {
      await run(makeCase(async (ctx) => ctx.expect(evidence(resetObs), reset())));
    } finally {
      unsubscribe();
    }
    expect(seen.map((r) => r.outcome.status)).to.deep.equal(['passed']);
  });
});
