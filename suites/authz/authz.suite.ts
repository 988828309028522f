/**
 * Promise 2: AuthorizationPolicy permits only the allowed principals, methods and paths. The
 * seed's policy line by line and as a live matrix of hundreds of probes, DENY/AUDIT/notX/when
 * and path templates, the path-normalization bypass corpus, and the generated boundary probes,
 * each compared with the oracle at both ends of the call; with --policies and --expect, the
 * user's policies and intents too.
 */
import { conformanceSuite, type SuiteSetup } from '../../harness/index.ts';
import { securitySuiteSetup } from '../shared/security-env.ts';
import { AUTHZ_MANIFESTS } from './cases/common.ts';
import { authzCasesFor } from './cases/index.ts';
import { UserPolicyRun, type AuthzEnv } from './user-policy-run.ts';

// Which cases exist depends on --policies/--expect: the suite is a function of the run, known before mocha declares the tests.
conformanceSuite<AuthzEnv>(({ policiesDir, expectFile }) => ({
  area: 'authz',
  cases: authzCasesFor({ ...(policiesDir === undefined ? {} : { policiesDir }), ...(expectFile === undefined ? {} : { expectFile }) }),
  async setup(options): Promise<SuiteSetup<AuthzEnv>> {
    const base = await securitySuiteSetup(options, { suiteDir: import.meta.dirname, manifests: AUTHZ_MANIFESTS });
    if (base.skipReason !== undefined || options.policiesDir === undefined) return base;
    const user = new UserPolicyRun({ ...options, policiesDir: options.policiesDir }, base.env.mesh.dataPlane);
    return {
      ...base,
      env: { ...base.env, user },
      teardown: async () => {
        await user.close();
        await base.teardown?.();
      },
    };
  },
  caseTimeoutMs: 120_000,
}));
