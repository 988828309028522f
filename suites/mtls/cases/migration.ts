/**
 * The migration the seed notes walk through (note 002; Istio's mtls-migration task): prod-namespace
 * starts PERMISSIVE, and its policy `default` is changed to STRICT on running pods. While it
 * happens, order-service calls payment-service without pause. Plaintext works before and is reset
 * after; the in-mesh client never fails at any point.
 */
import { Feature, type ConformanceCase, type ExperimentJournal } from '../../../harness/index.ts';
import { holdToTable, settle } from '../../shared/case-support.ts';
import { SteadyTraffic } from '../../shared/steady-traffic.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { LEGACY_CLIENT, ORDER_CLIENT, PAYMENT, PROD_STRICT } from './common.ts';

const PERMISSIVE = 'cases/prod-namespace-permissive.yaml';
/** Requests of steady traffic wanted before the change and after it. */
const STEADY_EACH_SIDE = 10;

export const migrationCase: ConformanceCase<SecurityEnv> = {
  shortName: 'permissive-to-strict-migration',
  description:
    "prod-namespace's PeerAuthentication `default` goes from PERMISSIVE to STRICT on running pods: before, a plaintext POST /pay/1 reaches payment-service; after, it is reset and the app never sees it; order-service's own calls succeed, with its identity, before, during and after the change.",
  area: 'mtls',
  features: [Feature.MtlsMigration, Feature.MtlsStrict, Feature.MtlsPermissive],
  manifests: [PERMISSIVE, PROD_STRICT],
  async test(ctx) {
    const env = ctx.env;
    await env.use([PERMISSIVE]);
    const entries: ExperimentJournal['entries'][number][] = [];
    const steady = SteadyTraffic.start(env.prober, { source: { kind: 'participant', name: ORDER_CLIENT }, to: PAYMENT, method: 'POST', path: '/pay/steady' });
    const at = (): number => Date.now() - steady.startedAt;
    let steadyResults;
    let changeStart = 0;
    let changeEnd = 0;
    const plaintextProbe = { source: { kind: 'participant', name: LEGACY_CLIENT }, to: PAYMENT, method: 'POST', path: '/pay/1' } as const;
    try {
      await steady.atLeast(STEADY_EACH_SIDE);
      const before = await env.prober.run(plaintextProbe);
      holdToTable(before, 'allow', 'plaintext POST /pay/1 under PERMISSIVE');
      entries.push({ atMs: at(), phase: 'before', text: `PERMISSIVE: plaintext POST /pay/1 from legacy-client → ${before.observed}; ${steady.count} in-mesh requests so far` });

      changeStart = at();
      entries.push({ atMs: changeStart, phase: 'inject', text: `apply ${PROD_STRICT} (mode STRICT) to the running sidecars` });
      await env.use([PROD_STRICT]);
      changeEnd = at();
      entries.push({ atMs: changeEnd, phase: 'during', text: `every sidecar enforces the new policy generation ${changeEnd - changeStart} ms after the change` });

      const after = await env.prober.run(plaintextProbe);
      holdToTable(after, 'reject', 'plaintext POST /pay/1 under STRICT');
      const afterCount = steady.count;
      await steady.atLeast(afterCount + STEADY_EACH_SIDE);
      entries.push({ atMs: at(), phase: 'after', text: `STRICT: plaintext POST /pay/1 from legacy-client → ${after.observed}; ${steady.count} in-mesh requests in all` });
      settle(ctx, [before, after], 'plaintext before and after the change');
    } finally {
      steadyResults = await steady.stop();
    }
    const failedIn = (from: number, to: number): number => steadyResults.filter((r) => r.atMs >= from && r.atMs < to && !r.result.agrees).length;
    const countIn = (from: number, to: number): number => steadyResults.filter((r) => r.atMs >= from && r.atMs < to).length;
    const phases = { before: [0, changeStart], during: [changeStart, changeEnd], after: [changeEnd, Number.POSITIVE_INFINITY] } as const;
    ctx.attach('experiment', {
      hypothesis: 'order-service → payment-service keeps succeeding, with its identity, while prod-namespace moves from PERMISSIVE to STRICT; plaintext stops at the change',
      entries,
      steadyState: {
        before: failedIn(...phases.before) === 0,
        during: failedIn(...phases.during) === 0,
        after: failedIn(...phases.after) === 0,
      },
    });
    ctx.verify(
      `steady in-mesh traffic on both sides of the change (${countIn(...phases.before)} before, ${countIn(...phases.during)} during, ${countIn(...phases.after)} after)`,
      countIn(...phases.before) >= STEADY_EACH_SIDE && countIn(...phases.after) >= STEADY_EACH_SIDE ? undefined : new Error(`wanted at least ${STEADY_EACH_SIDE} requests before and after the change`),
    );
    settle(
      ctx,
      steadyResults.map((r) => r.result),
      'order-service → payment-service during the migration',
    );
  },
};
