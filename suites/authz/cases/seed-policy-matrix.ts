/**
 * The seed's policy as a live matrix: every caller × method × path below (in an order drawn from
 * the run seed), plus the oracle's generated boundary probes for payment-service. Each probe's
 * outcome, at both ends, is compared with what the oracle says Istio does; the report gets the
 * whole grid and which rules and branches the traffic exercised.
 *
 * The paths are the boundary of `/pay/*` and the path-normalization tricks that move a request
 * across it (Istio's normalization table, CVE-2021-31920 and CVE-2021-39156 shapes).
 */
import { Feature, SeededRandom, type ConformanceCase } from '../../../harness/index.ts';
import { settle } from '../../shared/case-support.ts';
import { generatedFindings, probesFor, runGenerated } from '../../shared/generated-probes.ts';
import type { LiveProbe, LiveProbeResult } from '../../shared/live-prober.ts';
import { liveRuleCoverage, matrixCell, rulesOf, type CoverageInput } from '../../shared/report-rows.ts';
import { rowSource } from '../../shared/spec-table.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { AUTHZ_MANIFESTS, PAYMENT } from './common.ts';

export const SOURCES = [
  'order-client',
  'product-client',
  'identity:prod-namespace/order-service-sa',
  'identity:legacy/order-service-sa',
  'identity:prod-namespace/order-service-sa-v2',
  'kit:rogue-ca',
  'plaintext',
] as const;

export const METHODS = ['POST', 'GET', 'PUT', 'DELETE', 'HEAD', 'PATCH'] as const;

export const PATHS = [
  '/pay/1',
  '/pay/',
  '/pay',
  '/pay/1/2',
  '/payx/1',
  '/PAY/1',
  '/pay/1?amount=3',
  '/pay/1#fragment',
  '//pay/1',
  '/pay//1',
  '/pay/./1',
  '/x/../pay/1',
  '/pay/%2e%2e/admin',
  '/%70ay/1',
  '/pay%2F1',
  '/pay/1%00',
] as const;

/** At least this many live probes for the seed policy, or the case fails: the matrix is the point. */
export const MIN_SEED_PROBES = 500;

export const seedPolicyMatrixCase: ConformanceCase<SecurityEnv> = {
  shortName: 'seed-policy-live-matrix',
  description: `Seed note 000's policy against ${SOURCES.length} callers × ${METHODS.length} methods × ${PATHS.length} paths (boundary and normalization tricks around /pay/*) and the generated boundary probes: every live outcome, at both ends, is what Istio does, and the one rule is exercised by matching and just-missing traffic.`,
  area: 'authz',
  features: [Feature.AuthzAllow, Feature.AuthzPathNormalization, Feature.MtlsStrict],
  manifests: AUTHZ_MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    const mesh = await env.use(AUTHZ_MANIFESTS);
    const probes: LiveProbe[] = [];
    for (const from of SOURCES) {
      const source = await rowSource(env, from);
      for (const path of PATHS) for (const method of METHODS) probes.push({ source, to: PAYMENT, method, path });
    }
    // Sent in an order drawn from the run seed; reported in the order declared (grid rows and columns read in order).
    const results = new Map<LiveProbe, LiveProbeResult>();
    for (const probe of new SeededRandom(ctx.seed).fork('authz:seed-matrix').shuffle(probes)) results.set(probe, await env.prober.run(probe));
    const inputs: CoverageInput[] = probes.map((probe) => ({ result: results.get(probe)! }));
    const generated = await runGenerated(env.prober, probesFor(mesh, [PAYMENT]));
    const all = [...inputs, ...generated.inputs];
    ctx.verify(`at least ${MIN_SEED_PROBES} live probes for the seed policy`, all.length >= MIN_SEED_PROBES ? undefined : new Error(`only ${all.length} ran`));
    const coverage = liveRuleCoverage(rulesOf(mesh, [PAYMENT]), all);
    ctx.attach('authzMatrix', all.map((i) => matrixCell(i.result)));
    ctx.attach('ruleCoverage', coverage);
    for (const text of generatedFindings(generated)) ctx.finding(text);
    const tally = (d: string): number => all.filter((i) => i.result.observed === d).length;
    ctx.finding(`${all.length} live probes to payment-service (${inputs.length} from the matrix, ${generated.inputs.length} generated): ${tally('allow')} allowed, ${tally('deny')} denied, ${tally('reject')} rejected before HTTP, ${tally('bad-request')} bad requests, ${tally('other')} other`);
    settle(
      ctx,
      all.map((i) => i.result),
      "the seed's policy, live matrix",
    );
    for (const row of coverage) {
      ctx.verify(`rule ${row.rule} exercised by live traffic, matched and just missed`, row.exercised && row.probesJustMissing > 0 ? undefined : new Error(`${row.probesMatching} probes matched it and ${row.probesJustMissing} just missed it`));
    }
  },
};
