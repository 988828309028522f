import { expect } from 'chai';
import { readRun } from './current-run.ts';
import { ENV_NAMES, RUN_ID_ENV, resolveRunOptions, runOptionsToEnv } from './run-options.ts';

describe('the run, read once', function () {
  it('reads options and run id from the environment, and writes back what it drew so child processes agree', function () {
    const env: NodeJS.ProcessEnv = { [ENV_NAMES.dataPlane]: 'envoy', [ENV_NAMES.suites]: 'mtls' };
    const run = readRun(env);
    expect(run).to.include({ dataPlane: 'envoy' });
    expect(run.suites).to.deep.equal(['mtls']);
    expect(env[ENV_NAMES.seed], 'the drawn seed is pinned').to.equal(String(run.seed));
    expect(env[RUN_ID_ENV], 'the drawn run id is pinned').to.equal(run.runId);
    expect(readRun(env), 'read again: the same run').to.deep.equal(run);
  });

  it('is frozen: nothing downstream can change what the run was told', function () {
    const run = readRun({ ...runOptionsToEnv(resolveRunOptions({ seed: 7 })), [RUN_ID_ENV]: 'mp-test-run' });
    expect(run).to.include({ seed: 7, runId: 'mp-test-run' });
    expect(Object.isFrozen(run)).to.equal(true);
  });
});
