/**
 * Cases for the user's own inputs, present only when the run is given them:
 * - `--policies DIR`: the generated boundary probes for DIR's policies, sent live on DIR's topology;
 * - `--expect FILE`: each intent of FILE probed live ("order-service-sa POST /pay/1 → allow").
 * The CLI has already checked both statically (an intent the policies contradict stops the run
 * before anything starts); these say whether the data plane does what the policies say.
 */
import { Feature, parseRequestSource, readIntentFile, formatLocation, type AuthzMatrixCell, type ConformanceCase, type IntentDecision } from '../../../harness/index.ts';
import { settle } from '../../shared/case-support.ts';
import { generatedFindings, probesFor, runGenerated } from '../../shared/generated-probes.ts';
import type { LiveDecision } from '../../shared/live-decision.ts';
import { notRunnableLive, type LiveProbeResult } from '../../shared/live-prober.ts';
import { liveRuleCoverage, matrixCell, rulesOf } from '../../shared/report-rows.ts';
import type { AuthzEnv, UserPolicyRun } from '../user-policy-run.ts';

function userRun(env: AuthzEnv): UserPolicyRun {
  if (env.user === undefined) throw new Error('this case runs only with --policies');
  return env.user;
}

export function userPoliciesCase(policiesDir: string): ConformanceCase<AuthzEnv> {
  return {
    shortName: 'user-policies-boundary-matrix',
    description: `The generated boundary probes for the policies in ${policiesDir} (a match and a just-miss per rule and field, notX edges, plaintext and normalization variants), sent live on its topology: every outcome is what Istio does.`,
    area: 'authz',
    features: [Feature.AuthzAllow],
    manifests: [policiesDir],
    async test(ctx) {
      const env = await userRun(ctx.env).env();
      const run = await runGenerated(env.prober, probesFor(env.mesh.mesh));
      if (run.inputs.length === 0) ctx.skip(`the policies in ${policiesDir} give no probe that can be sent live`);
      ctx.attach('authzMatrix', run.inputs.map((i) => matrixCell(i.result)));
      const coverage = liveRuleCoverage(rulesOf(env.mesh.mesh), run.inputs);
      ctx.attach('ruleCoverage', coverage);
      for (const text of generatedFindings(run)) ctx.finding(text);
      const unexercised = coverage.filter((r) => !r.exercised).map((r) => r.rule);
      if (unexercised.length > 0) ctx.finding(`rules no agreeing live probe matched: ${unexercised.join(', ')}`);
      settle(
        ctx,
        run.inputs.map((i) => i.result),
        `generated probes for ${policiesDir}`,
      );
    },
  };
}

/** Whether what was observed is what the intent file says; `deny` covers a 400 too (the app never sees it either way). */
function intentHolds(intent: IntentDecision, observed: LiveDecision): boolean {
  return intent === 'deny' ? observed === 'deny' || observed === 'bad-request' : observed === intent;
}

export function userIntentsCase(expectFile: string): ConformanceCase<AuthzEnv> {
  return {
    shortName: 'user-intents-live',
    description: `Each intent in ${expectFile} (who calls which workload with which method and path, and whether it must be allowed, denied or rejected) probed live against the policies of --policies: the data plane does what was intended.`,
    area: 'authz',
    features: [Feature.AuthzAllow],
    manifests: [expectFile],
    async test(ctx) {
      const run = userRun(ctx.env);
      const env = await run.env();
      const intents = readIntentFile(expectFile);
      const cells: AuthzMatrixCell[] = [];
      const results: LiveProbeResult[] = [];
      const wrong: string[] = [];
      for (const intent of intents) {
        const request = { source: parseRequestSource(intent.from, env.mesh.mesh.mesh.trustDomain, 'from', intent.location), to: intent.to, method: intent.method, path: intent.path, ...(intent.port === undefined ? {} : { port: intent.port }) };
        const why = notRunnableLive(request);
        if (why !== undefined) {
          ctx.finding(`${formatLocation(intent.location)}not probed live: ${why}`);
          continue;
        }
        const result = await env.prober.run(env.prober.fromRequest(request));
        results.push(result);
        const holds = intentHolds(intent.expect, result.observed);
        if (!holds) wrong.push(`${formatLocation(intent.location)}${intent.from} ${intent.method} ${intent.path} → ${intent.to} must be ${intent.expect}, was ${result.observed}`);
        cells.push({ ...matrixCell(result), expected: intent.expect, agrees: holds && result.agrees });
      }
      ctx.attach('authzMatrix', cells);
      ctx.verify(`every intent of ${expectFile} holds live (${results.length} probed)`, wrong.length === 0 ? undefined : new Error(wrong.join('; ')));
      settle(ctx, results, `intents of ${expectFile}`);
    },
  };
}
