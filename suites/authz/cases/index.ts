/**
 * The authorization suite's cases, in the order they run (an explicit list: nothing registers
 * itself on import). The user's cases join only when the run is given --policies / --expect.
 */
import type { ConformanceCase, RunOptions } from '../../../harness/index.ts';
import type { AuthzEnv } from '../user-policy-run.ts';
import { fixtureBoundaryCase } from './fixture-boundary.ts';
import { notFieldsCase } from './inventory-policies.ts';
import { pathNormalizationCase } from './path-normalization.ts';
import { auditCase, denyBeatsAllowCase, pathTemplatesCase, whenConditionsCase } from './product-policies.ts';
import { requestAuthenticationCase } from './request-authentication.ts';
import { seedPolicyMatrixCase } from './seed-policy-matrix.ts';
import { seedPolicySpecCase } from './seed-policy-spec.ts';
import { tcpPoliciesCase } from './tcp-policies.ts';
import { userIntentsCase, userPoliciesCase } from './user-policies.ts';

export const authzCases: readonly ConformanceCase<AuthzEnv>[] = [
  seedPolicySpecCase,
  seedPolicyMatrixCase,
  denyBeatsAllowCase,
  whenConditionsCase,
  pathTemplatesCase,
  auditCase,
  notFieldsCase,
  tcpPoliciesCase,
  pathNormalizationCase,
  requestAuthenticationCase,
  fixtureBoundaryCase,
];

/** The suite's cases for a run: its own, and the user's when the run names their policies or intents. */
export function authzCasesFor(options: Pick<RunOptions, 'policiesDir' | 'expectFile'>): readonly ConformanceCase<AuthzEnv>[] {
  return [
    ...authzCases,
    ...(options.policiesDir === undefined ? [] : [userPoliciesCase(options.policiesDir)]),
    ...(options.policiesDir === undefined || options.expectFile === undefined ? [] : [userIntentsCase(options.expectFile)]),
  ];
}
