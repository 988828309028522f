/** Fixture suite (see ../README.md): one case that always holds. */
import { conformanceSuite } from '../../../../index.ts';

conformanceSuite({
  area: 'resilience',
  cases: [
    {
      shortName: 'fixture-resilience-holds',
      description: 'A check that holds.',
      area: 'resilience',
      features: [],
      manifests: [],
      async test(ctx) {
        ctx.verify('one is one', undefined);
      },
    },
  ],
  async setup(options) {
    return { env: {}, dataPlane: { name: options.dataPlane, version: 'fixture-1', claimedFeatures: ['mtls.strict'], available: true } };
  },
});
