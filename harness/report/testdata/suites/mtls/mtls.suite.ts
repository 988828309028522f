/** Fixture suite (see ../README.md): cases whose outcome MESHPROOF_FIXTURE_MODE chooses. */
import { conformanceSuite, ErrorCode, MeshproofError, type ConformanceCase } from '../../../../index.ts';

const mode = process.env.MESHPROOF_FIXTURE_MODE ?? 'pass';

const cases: ConformanceCase<{ readonly greeting: string }>[] = [
  {
    shortName: 'fixture-always-holds',
    description: 'A check that holds in every mode.',
    area: 'mtls',
    features: ['mtls.strict'],
    manifests: [],
    async test(ctx) {
      ctx.verify('the environment is the one setup made', ctx.env.greeting === 'hello' ? undefined : new Error(`got ${ctx.env.greeting}`));
    },
  },
  {
    shortName: 'fixture-controlled',
    description: 'Ends as MESHPROOF_FIXTURE_MODE says.',
    area: 'mtls',
    features: ['mtls.strict'],
    manifests: [],
    async test(ctx) {
      if (mode === 'fail') ctx.verify('plaintext GET /<script>alert(1)</script> to payment-service', new Error('expected reset, got status 200'));
      if (mode === 'error') throw new MeshproofError(ErrorCode.RuntimeUnavailable, 'the Docker engine stopped answering');
      if (mode === 'skip') ctx.skip('fixture: skipped on purpose');
      ctx.attach('tlsCheck', [{ client: 'legacy-client', clientKind: 'plaintext', service: 'payment-service.prod-namespace:80', serverMode: 'STRICT', clientMode: 'PLAINTEXT', observed: 'reset', expected: 'reset', agrees: true }]);
      ctx.verify('seed reached the case', Number.isInteger(ctx.seed) ? undefined : new Error('no seed'));
    },
  },
  {
    shortName: 'fixture-needs-migration',
    description: 'Needs a feature the fixture data plane does not claim.',
    area: 'mtls',
    features: ['mtls.migration'],
    manifests: [],
    async test() {
      throw new Error('never runs: not supported');
    },
  },
];

conformanceSuite({
  area: 'mtls',
  cases,
  async setup(options) {
    if (mode === 'setup-error') throw new MeshproofError(ErrorCode.ImageBuild, 'image meshproof/echo did not build', { hint: 'run meshproof doctor' });
    return { env: { greeting: 'hello' }, dataPlane: { name: options.dataPlane, version: 'fixture-1', claimedFeatures: ['mtls.strict'], available: true }, runtime: { kind: 'none (fixture)' } };
  },
});

if (mode === 'stray-fail') {
  describe('a test outside any case', function () {
    it('fails', function () {
      throw new Error('stray failure');
    });
  });
}
