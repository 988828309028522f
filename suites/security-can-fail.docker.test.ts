/**
 * The security suites can fail. One environment (the security topology in containers) runs the
 * mtls and authz cases against the reference data plane wrapped in BreakableDataPlane:
 * - faithfully rendered, every case the reference data plane claims passes;
 * - with each breakage (STRICT rendered PERMISSIVE, a DENY dropped, paths ignored, …) the cases
 *   that hold the mesh to that promise fail, with a message naming what went wrong, and a case
 *   that does not depend on it still passes (the failure is the breakage's, not the harness's).
 * Cases run through runCase, exactly as the suite files run them.
 */
import { resolve } from 'node:path';
import { expect } from 'chai';
import { Feature, ReferenceDataPlane, resolveRunOptions, runCase, type CaseResult, type ConformanceCase } from '../harness/index.ts';
import { authzCases } from './authz/cases/index.ts';
import { userIntentsCase, userPoliciesCase } from './authz/cases/user-policies.ts';
import { UserPolicyRun, type AuthzEnv } from './authz/user-policy-run.ts';
import { mtlsCases } from './mtls/cases/index.ts';
import { BASE_MANIFESTS } from './mtls/cases/common.ts';
import { FIXTURES_DIR, startSecurityEnv, type SecurityEnv, type StartedSecurityEnv } from './shared/security-env.ts';
import { BreakableDataPlane, BREAKAGES, RESTART_ONLY, type Breakage } from './shared/testing/breakable-data-plane.ts';

const MTLS_DIR = resolve(import.meta.dirname, 'mtls');
const AUTHZ_DIR = resolve(import.meta.dirname, 'authz');
const INTENTS = resolve(FIXTURES_DIR, 'intents/security.yaml');
const SECURITY_POLICIES = resolve(FIXTURES_DIR, 'security');

/** Which cases each breakage must fail, with a pattern their failure message must match, and one that must still pass. */
const EXPECTED: Readonly<Record<Breakage, { readonly fail: Readonly<Record<string, RegExp>>; readonly pass: string }>> = {
  'strict-as-permissive': {
    fail: {
      'strict-mode-matrix': /legacy-client POST \/pay\/1 .*expected rejected before HTTP/,
      'mesh-wide-strict': /behaves as PERMISSIVE, the table says STRICT/,
      'namespace-overrides-mesh-wide': /behaves as PERMISSIVE, the table says STRICT/,
      'workload-overrides-namespace': /product-service:8082 behaves as PERMISSIVE, the table says STRICT/,
      'port-level-overrides-workload': /payment-service:8080 behaves as PERMISSIVE/,
      'root-namespace-selector-ignored': /behaves as PERMISSIVE, the table says STRICT/,
      'oldest-namespace-policy-wins': /behaves as PERMISSIVE, the table says STRICT/,
      'permissive-to-strict-migration': /legacy-client POST \/pay\/1 .*expected rejected before HTTP/,
      'seed-policy-spec': /expected rejected before HTTP/,
    },
    pass: 'deny-beats-allow',
  },
  'default-strict': {
    fail: {
      'no-policy-means-permissive': /behaves as STRICT, the table says PERMISSIVE/,
      'not-fields-and-plaintext': /expected allowed .* got (reset|status)/,
    },
    pass: 'strict-mode-matrix',
  },
  'port-level-ignored': {
    fail: {
      'disable-mode-matrix': /expected rejected before HTTP/,
      'port-level-overrides-workload': /product-service:8083 behaves as DISABLE, the table says STRICT/,
    },
    pass: 'strict-mode-matrix',
  },
  'trust-foreign-domain': {
    fail: {
      'strict-mode-matrix': /expected rejected before HTTP .*trust domain 'evil\.example'/,
      'permissive-mode-matrix': /expected rejected before HTTP .*trust domain 'evil\.example'/,
    },
    pass: 'tls-version-floor',
  },
  'tls13-only': {
    fail: { 'tls-version-floor': /TLSv1\.2/ },
    pass: 'strict-mode-matrix',
  },
  'frozen-certificates': {
    fail: { 'rotation-under-steady-traffic': /still presents .*not the certificate issued at rotation 1/ },
    pass: 'strict-mode-matrix',
  },
  'foreign-ca-certificates': {
    fail: { 'plugin-ca-chain-verifies': /openssl s_client verified the chain against root-cert\.pem|the second certificate shown is the plug-in ca-cert\.pem/ },
    pass: 'disable-mode-matrix',
  },
  'ignore-paths': {
    fail: {
      'seed-policy-spec': /POST \/refund\/1 .*expected denied/,
      'seed-policy-live-matrix': /live probes disagree with what Istio does/,
      'path-templates-and-not-paths': /\/products\/42\/reviews .*expected denied/,
    },
    pass: 'when-header-condition',
  },
  'drop-deny': {
    fail: {
      'deny-beats-allow': /GET \/admin .*expected denied/,
      'not-fields-and-plaintext': /GET \/public\/private-report .*expected denied/,
      'path-normalization-corpus': /GET \/admin .*expected denied/,
      'fixture-policies-boundary-matrix': /live probes disagree with what Istio does/,
      'user-intents-live': /must be deny, was allow/,
      'user-policies-boundary-matrix': /live probes disagree with what Istio does/,
    },
    pass: 'seed-policy-spec',
  },
  'drop-audit': {
    fail: { 'audit-marks-without-deciding': /envoy_http_rbac_logged\{inbound_8082\} grew by the 3 audited requests: it grew by 0/ },
    pass: 'deny-beats-allow',
  },
  'ignore-when': {
    fail: { 'when-header-condition': /x-tenant.*expected denied|POST \/products\/1 .*expected denied/ },
    pass: 'seed-policy-spec',
  },
  'no-path-normalization': {
    fail: {
      'path-normalization-corpus': /\/app\/\.\.\/admin .*expected denied/,
    },
    pass: 'seed-policy-spec',
  },
};

/** Restart-only breakages, grouped so that each group shares one freshly started environment. */
const RESTART_GROUPS: readonly (readonly Breakage[])[] = [['tls13-only', 'frozen-certificates'], ['foreign-ca-certificates']];

/** The cases, with the environment each runs in, for one running security environment. */
function caseRunner(started: StartedSecurityEnv, breakable: BreakableDataPlane) {
  const mtls = started.forSuite(MTLS_DIR);
  // The user's-policies cases run on this same environment, as if --policies named its policies.
  const user = Object.assign(new UserPolicyRun({ ...resolveRunOptions({ seed: 1 }), policiesDir: SECURITY_POLICIES }, breakable), { env: async () => started });
  const authz: AuthzEnv = { ...started.forSuite(AUTHZ_DIR), user };
  const envFor = (testCase: ConformanceCase<AuthzEnv>): AuthzEnv => ((mtlsCases as readonly ConformanceCase<AuthzEnv>[]).includes(testCase) ? mtls : authz);
  return async (name: string, extraFeatures: readonly Feature[] = []): Promise<CaseResult> => {
    const testCase = byName(name);
    return runCase(testCase, { env: envFor(testCase), seed: 1, supportedFeatures: new Set([...breakable.features, ...extraFeatures]) });
  };
}

const ALL: readonly ConformanceCase<AuthzEnv>[] = [...mtlsCases, ...authzCases, userPoliciesCase(SECURITY_POLICIES), userIntentsCase(INTENTS)];

function byName(name: string): ConformanceCase<AuthzEnv> {
  const found = ALL.find((c) => c.shortName === name);
  if (found === undefined) throw new Error(`no case ${name}`);
  return found;
}

/** The failing cases fail with their pattern, and the control passes. */
async function expectBroken(run: (name: string) => Promise<CaseResult>, breakage: Breakage): Promise<void> {
  const expected = EXPECTED[breakage];
  for (const [name, pattern] of Object.entries(expected.fail)) {
    const result = await run(name);
    const message = result.outcome.status === 'failed' ? result.outcome.message : JSON.stringify(result.outcome);
    expect(result.outcome.status, `${name} under ${breakage}: ${message.slice(0, 800)}`).to.equal('failed');
    expect(message, `${name} under ${breakage}`).to.match(pattern);
  }
  const control = await run(expected.pass);
  expect(control.outcome.status, `${expected.pass} under ${breakage}: ${JSON.stringify(control.outcome).slice(0, 800)}`).to.equal('passed');
}

/** `convergenceMs` shortens how long a change that never takes effect is waited for (the frozen certificates). */
function start(breakable: BreakableDataPlane, convergenceMs?: number): Promise<StartedSecurityEnv> {
  return startSecurityEnv({ suiteDir: MTLS_DIR, manifests: BASE_MANIFESTS, dataPlane: breakable, seed: 1, timeScale: 0.02, ...(convergenceMs === undefined ? {} : { timeouts: { convergence: convergenceMs } }) });
}

describe('the security suites can fail: a broken data plane fails the cases that hold it to the promise it breaks', function () {
  this.timeout(600_000);

  describe('breakages a running sidecar takes up (one environment, rendered again for each)', function () {
    let started: StartedSecurityEnv;
    let breakable: BreakableDataPlane;
    let run: (name: string, extraFeatures?: readonly Feature[]) => Promise<CaseResult>;

    before(async function () {
      breakable = new BreakableDataPlane(new ReferenceDataPlane());
      started = await start(breakable);
      run = caseRunner(started, breakable);
    });

    after(async function () {
      await started?.close();
    });

    async function breakWith(breakages: readonly Breakage[]): Promise<void> {
      breakable.breakages = breakages;
      await started.mesh.apply(started.mesh.mesh);
    }

    it('rendered faithfully, every case the reference data plane claims passes (the baseline the breakages are measured against)', async function () {
      await breakWith([]);
      const outcomes: string[] = [];
      for (const testCase of ALL) {
        const result = await run(testCase.shortName);
        outcomes.push(`${testCase.shortName}: ${result.outcome.status}${result.outcome.status === 'failed' || result.outcome.status === 'error' ? ` (${result.outcome.message.slice(0, 300)})` : ''}`);
      }
      expect(ALL.filter((c) => c.features.some((f) => !breakable.features.has(f))).map((c) => c.shortName)).to.deep.equal(['secure-naming-refuses-impostor-server']);
      expect(outcomes.filter((o) => !o.endsWith(': passed') && o !== 'secure-naming-refuses-impostor-server: not-supported')).to.deep.equal([]);
    });

    for (const breakage of (Object.keys(EXPECTED) as Breakage[]).filter((b) => !RESTART_ONLY.has(b))) {
      it(`${breakage} (${BREAKAGES[breakage]}): ${Object.keys(EXPECTED[breakage].fail).join(', ')} fail; ${EXPECTED[breakage].pass} still passes`, async function () {
        await breakWith([breakage]);
        try {
          await expectBroken(run, breakage);
        } finally {
          await breakWith([]);
        }
      });
    }

    it('secure naming: with the client side claimed (the harness agent does what a client sidecar does), the impostor server is refused', async function () {
      await breakWith([]);
      const result = await run('secure-naming-refuses-impostor-server', [Feature.IdentitySecureNaming]);
      expect(result.outcome, JSON.stringify(result.outcome)).to.deep.equal({ status: 'passed' });
      expect(result.evidence.at(-1)?.observation.outcome).to.equal('tls-error');
      expect(result.evidence.at(-1)?.observation.error?.message).to.match(/secure naming: server identity \[spiffe:\/\/cluster\.local\/ns\/prod-namespace\/sa\/impostor\]/);
    });
  });

  for (const group of RESTART_GROUPS) {
    describe(`breakages a sidecar reads only when it starts: ${group.join(', ')} (pods started with them)`, function () {
      let started: StartedSecurityEnv;
      let run: (name: string) => Promise<CaseResult>;

      before(async function () {
        const breakable = new BreakableDataPlane(new ReferenceDataPlane(), group);
        started = await start(breakable, 4_000);
        run = caseRunner(started, breakable);
      });

      after(async function () {
        await started?.close();
      });

      for (const breakage of group) {
        it(`${breakage} (${BREAKAGES[breakage]}): ${Object.keys(EXPECTED[breakage].fail).join(', ')} fail; ${EXPECTED[breakage].pass} still passes`, async function () {
          await expectBroken(run, breakage);
        });
      }
    });
  }
});
