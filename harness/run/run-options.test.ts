import { expect } from 'chai';
import { isMeshproofError } from '../errors.ts';
import { projectRoot } from '../project-root.ts';
import { chooseTimeScale } from '../conformance/auto-time-scale.ts';
import { ENV_NAMES, pinRunOptions, resolveRunOptions, runOptionsFromEnv, runOptionsToEnv } from './run-options.ts';
import { DEFAULT_TIME_SCALE, replayCommand } from '../spec/run.ts';

describe('RunOptions', function () {
  it('fills defaults in one place: random seed (injected), time scale 0.02, reference, all suites', function () {
    const o = resolveRunOptions({}, () => 99);
    expect(o).to.deep.equal({ seed: 99, timeScale: DEFAULT_TIME_SCALE, dataPlane: 'reference', suites: ['mtls', 'authz', 'resilience'], reportDir: `${projectRoot}/reports`, suitesDir: `${projectRoot}/suites` });
    expect(Object.isFrozen(o) && Object.isFrozen(o.suites)).to.equal(true);
  });

  it('parses strings, keeps suites in promise order and once each', function () {
    const o = resolveRunOptions({ seed: '42', timeScale: '0.5', dataPlane: 'envoy', suites: 'resilience, mtls,mtls', grep: 'strict' });
    expect([o.seed, o.timeScale, o.dataPlane, o.suites, o.grep]).to.deep.equal([42, 0.5, 'envoy', ['mtls', 'resilience'], 'strict']);
  });

  const bad: readonly [Record<string, string>, RegExp][] = [
    [{ seed: '-1' }, /--seed '-1' is not an integer from 0 to 4294967295/],
    [{ seed: '1.5' }, /--seed/],
    [{ seed: '4294967296' }, /--seed/],
    [{ timeScale: '0' }, /--time-scale '0' is not a number from 0\.001 to 1/],
    [{ timeScale: '1e-300' }, /--time-scale '1e-300' is not a number from 0\.001 to 1/],
    [{ timeScale: '0.0009' }, /--time-scale/],
    [{ timeScale: '2' }, /--time-scale/],
    [{ timeScale: 'fast' }, /--time-scale/],
    [{ dataPlane: 'linkerd' }, /--dataplane 'linkerd' is not one of reference, envoy/],
    [{ suites: 'mtls,dns' }, /--suite 'dns' is not a suite \(mtls, authz, resilience\)/],
    [{ suites: ',' }, /--suite/],
    [{ grep: ' ' }, /--grep/],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)} as bad input naming the flag`, function () {
      try {
        resolveRunOptions(input);
        expect.fail('accepted');
      } catch (error) {
        expect(isMeshproofError(error) && error.kind === 'input', String(error)).to.equal(true);
        expect((error as Error).message).to.match(message);
      }
    });
  }

  it('round-trips through the environment, and names the variable on a bad value', function () {
    const o = resolveRunOptions({ seed: 5, timeScale: 0.1, suites: ['authz'], grep: 'a b', policiesDir: '/p', expectFile: '/e.yaml', reportDir: '/r' });
    expect(runOptionsFromEnv(runOptionsToEnv(o))).to.deep.equal(o);
    expect(() => runOptionsFromEnv({ [ENV_NAMES.seed]: 'x' })).to.throw(/MESHPROOF_SEED 'x'/);
  });

  it("carries the run's timing (how the time scale was set, the start jitter) to the mocha process", function () {
    const timing = chooseTimeScale({ samples: 190, p50Ms: 0.2, p99Ms: 1, maxMs: 4 });
    const o = Object.freeze({ ...resolveRunOptions({ seed: 7 }), timeScale: timing.timeScale, timing });
    expect(runOptionsFromEnv(runOptionsToEnv(o))).to.deep.equal(o);
    expect(runOptionsFromEnv({ ...runOptionsToEnv(o), MESHPROOF_TIMING: '' }).timing).to.equal(undefined);
    expect(() => runOptionsFromEnv({ MESHPROOF_TIMING: '{' })).to.throw(/MESHPROOF_TIMING is not JSON/);
  });

  it('pins a random seed into the environment so every later reader sees the same one', function () {
    const env: NodeJS.ProcessEnv = {};
    const first = pinRunOptions(env);
    expect(env[ENV_NAMES.seed]).to.equal(String(first.seed));
    expect(runOptionsFromEnv(env).seed).to.equal(first.seed);
  });

  it('replays with a shell-safe command', function () {
    const o = resolveRunOptions({ seed: 1, suites: 'mtls', grep: "it's /pay/*" });
    expect(replayCommand(o)).to.equal(`./bin/meshproof run --suite mtls --dataplane reference --seed 1 --time-scale 0.02 --grep 'it'\\''s /pay/*'`);
  });
});
