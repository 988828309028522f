/**
 * The generated boundary matrix for the fixture policies (product-service and inventory-service):
 * for every rule a request that matches it, one that just misses it per field, each notX value,
 * the plaintext variant and the path-normalization variants, with the oracle's expected decision,
 * sent live. Reports the matrix and which rules live traffic exercised.
 */
import { Feature, type ConformanceCase } from '../../../harness/index.ts';
import { settle } from '../../shared/case-support.ts';
import { generatedFindings, probesFor, runGenerated } from '../../shared/generated-probes.ts';
import { liveRuleCoverage, matrixCell, rulesOf } from '../../shared/report-rows.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { AUTHZ_MANIFESTS, INVENTORY, PRODUCT } from './common.ts';

export const fixtureBoundaryCase: ConformanceCase<SecurityEnv> = {
  shortName: 'fixture-policies-boundary-matrix',
  description: "The oracle's boundary probes for product-service's and inventory-service's policies (DENY, ALLOW with notX, when, templates, AUDIT), sent live: every outcome is what Istio does, and every rule is exercised by traffic that matches it.",
  area: 'authz',
  features: [Feature.AuthzAllow, Feature.AuthzDeny, Feature.AuthzAudit, Feature.AuthzConditions, Feature.AuthzPathNormalization],
  manifests: AUTHZ_MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    const mesh = await env.use(AUTHZ_MANIFESTS);
    const workloads = [PRODUCT, INVENTORY];
    const run = await runGenerated(env.prober, probesFor(mesh, workloads));
    const coverage = liveRuleCoverage(rulesOf(mesh, workloads), run.inputs);
    ctx.attach('authzMatrix', run.inputs.map((i) => matrixCell(i.result)));
    ctx.attach('ruleCoverage', coverage);
    for (const text of generatedFindings(run)) ctx.finding(text);
    settle(
      ctx,
      run.inputs.map((i) => i.result),
      'generated boundary probes for the fixture policies',
    );
    for (const row of coverage) ctx.verify(`rule ${row.rule} exercised by live traffic`, row.exercised ? undefined : new Error(`no agreeing live probe matched it (${row.probesJustMissing} just missed it)`));
  },
};
