/**
 * The security suites can fail. On each data plane (the reference sidecar, and Envoy where it can
 * be had), one environment (the security topology in containers) runs the mtls and authz cases
 * against the data plane wrapped in BreakableDataPlane:
 * - faithfully rendered, every case the reference data plane claims passes;
 * - with each breakage (STRICT rendered PERMISSIVE, a DENY dropped, paths ignored, …) the cases
 *   that hold the mesh to that promise fail, with a message naming what went wrong, and a case
 *   that does not depend on it still passes (the failure is the breakage's, not the harness's).
 * Cases run through runCase, exactly as the suite files run them. Each plane ends by printing its
 * kill rate: the breakages caught out of those tried, and any not expressible on it, with why.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { chromium } from 'playwright-core';
import { buildReport, createDataPlane, resolveRunOptions, runCase, writeReport, type CaseResult, type ConformanceCase, type DataPlaneAdapter } from '../harness/index.ts';
import { authzCases } from './authz/cases/index.ts';
import { userIntentsCase, userPoliciesCase } from './authz/cases/user-policies.ts';
import { UserPolicyRun, type AuthzEnv } from './authz/user-policy-run.ts';
import { mtlsCases } from './mtls/cases/index.ts';
import { BASE_MANIFESTS } from './mtls/cases/common.ts';
import { startSecurityEnv, type SecurityEnv, type StartedSecurityEnv } from './shared/security-env.ts';
import { FIXTURES_DIR } from './shared/fixtures-dir.ts';
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
      'strict-refuses-raw-plaintext': /\[GET \/ HTTP\/1\.0 with Host\] \(namespace STRICT\).*the peer answered 'HTTP\/1\.[01] \d{3}[^']*': plaintext reached an HTTP stack/,
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
      'strict-refuses-raw-plaintext': /\(port-level STRICT\) → product-service:8083.*plaintext reached an HTTP stack/,
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
  'tls-floor-tls10': {
    fail: { 'tls-version-floor': /handshake completed \(TLSv1\): the server accepted TLSv1\b/ },
    pass: 'strict-mode-matrix',
  },
  'xfcc-plaintext-forwarded': {
    fail: {
      'forged-xfcc-not-trusted': /legacy-client GET \/xfcc\/plaintext-permissive → product-service:8082: .*spiffe:\/\/cluster\.local\/ns\/prod-namespace\/sa\/admin/,
      // Forwarding only, the sidecar no longer appends its own element on mutual TLS either.
      'strict-mode-matrix': /order-client POST \/pay\/1 → payment-service:80: allowed as expected, but the app was told the caller is \(no identity\)/,
    },
    pass: 'strict-refuses-raw-plaintext',
  },
  'tcp-rbac-skipped': {
    fail: { 'tcp-port-authorization': /product-client GET \/ledger → ledger-service:9000: expected denied \(the TCP connection closed with no byte, the app never sees it\) because TCP port 9000 .* is denied: DENY rule legacy\/ledger-tcp-deny\/rules\[0\] matches; got status 200/ },
    pass: 'deny-beats-allow',
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
    fail: { 'audit-marks-without-deciding': /access_log_hint true\): its inbound line\(s\) carry access_log_hint (undefined|\(no line\))/ },
    pass: 'deny-beats-allow',
  },
  'ignore-when': {
    fail: { 'when-header-condition': /x-tenant.*expected denied|POST \/products\/1 .*expected denied/ },
    pass: 'seed-policy-spec',
  },
  // The wire catches a sidecar that forwards in cleartext between pods, whatever the ends see.
  'plaintext-to-strict-peer': {
    fail: {
      'strict-on-the-wire': /order-client → payment-service\.prod-namespace:80 \(STRICT\): the canary crossed the pod network readable \(in the request on [\d.:]+ → [\d.:]+\): a passive eavesdropper reads this request/,
      'permissive-on-the-wire': /order-client → product-service\.prod-namespace:8082 \(PERMISSIVE\): the canary crossed the pod network readable/,
      'strict-mode-matrix': /live probes disagree with what Istio does/,
    },
    pass: 'disable-on-the-wire',
  },
  'disable-for-in-mesh': {
    fail: {
      'permissive-on-the-wire': /order-client → product-service\.prod-namespace:8082 \(PERMISSIVE\): the canary crossed the pod network readable \(in the request on/,
      'strict-on-the-wire': /order-client → payment-service\.prod-namespace:80 \(STRICT\): the canary crossed the pod network readable/,
    },
    pass: 'disable-on-the-wire',
  },
  'secure-naming-accepts-impostor': {
    fail: { 'secure-naming-refuses-impostor-server': /none held: expected the TLS handshake rejected.*status 200/ },
    pass: 'strict-mode-matrix',
  },
  'no-path-normalization': {
    fail: {
      'path-normalization-corpus': /\/app\/\.\.\/admin .*expected denied/,
    },
    pass: 'seed-policy-spec',
  },
};

type Plane = 'reference' | 'envoy';

/**
 * Breakages a data plane cannot be made to show, with the reason: each is reported as not
 * expressible in the kill rate, never skipped silently. Every breakage of the catalogue is
 * expressible on both data planes today.
 */
const NOT_EXPRESSIBLE: Readonly<Record<Plane, Readonly<Partial<Record<Breakage, string>>>>> = { reference: {}, envoy: {} };

/** Breakages tried and caught on one data plane, for the kill rate the run prints. */
class KillRate {
  readonly caught: Breakage[] = [];
  readonly missed: Breakage[] = [];
  readonly notExpressible: [Breakage, string][] = [];

  async tryBreakage(breakage: Breakage, run: () => Promise<void>): Promise<void> {
    try {
      await run();
      this.caught.push(breakage);
    } catch (error) {
      this.missed.push(breakage);
      throw error;
    }
  }

  summary(plane: Plane): string {
    const tried = this.caught.length + this.missed.length;
    const rate = tried === 0 ? 'none tried' : `${this.caught.length}/${tried} caught (${Math.round((100 * this.caught.length) / tried)}%)`;
    const missed = this.missed.length === 0 ? '' : `; missed: ${this.missed.join(', ')}`;
    const inexpressible = this.notExpressible.length === 0 ? '' : `; not expressible on ${plane}: ${this.notExpressible.map(([b, why]) => `${b} (${why})`).join(', ')}`;
    return `kill rate on ${plane}: ${rate}${missed}${inexpressible}`;
  }
}

/** Restart-only breakages, grouped so that each group shares one freshly started environment. */
const RESTART_GROUPS: readonly (readonly Breakage[])[] = [['tls13-only', 'frozen-certificates'], ['foreign-ca-certificates']];

/** The cases, with the environment each runs in, for one running security environment. */
function caseRunner(started: StartedSecurityEnv, breakable: BreakableDataPlane) {
  const mtls = started.forSuite(MTLS_DIR);
  // The user's-policies cases run on this same environment, as if --policies named its policies.
  const user = Object.assign(new UserPolicyRun({ ...resolveRunOptions({ seed: 1 }), policiesDir: SECURITY_POLICIES }, breakable), { env: async () => started });
  const authz: AuthzEnv = { ...started.forSuite(AUTHZ_DIR), user };
  const envFor = (testCase: ConformanceCase<AuthzEnv>): AuthzEnv => ((mtlsCases as readonly ConformanceCase<AuthzEnv>[]).includes(testCase) ? mtls : authz);
  return async (name: string): Promise<CaseResult> => {
    const testCase = byName(name);
    return runCase(testCase, { env: envFor(testCase), seed: 1, supportedFeatures: breakable.features });
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
    expect(message, `${name} under ${breakage}: ${message.slice(0, 600)}`).to.match(pattern);
  }
  const control = await run(expected.pass);
  expect(control.outcome.status, `${expected.pass} under ${breakage}: ${JSON.stringify(control.outcome).slice(0, 800)}`).to.equal('passed');
}

const CHROMIUM = [process.env.MESHPROOF_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p !== undefined && p !== '' && existsSync(p));

/** What a reader of index.html sees of the security views (the browser path of harness/report's own page test). */
async function showInChromium(file: string): Promise<{ tlsRows: number; tlsDisagreeing: number; wireRows: number; wireReadable: number; grids: { destination: string; probes: number }[]; cells: number; mismatchedCells: number; coverageRows: number; coverageNotExercised: number; experiments: string }> {
  if (CHROMIUM === undefined) throw new Error('no Chromium: run sh scripts/setup.sh (installs Debian chromium) or set MESHPROOF_CHROMIUM');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return {
      tlsRows: await page.locator('#tls-check tbody tr').count(),
      tlsDisagreeing: await page.locator('#tls-check td.agree-no').count(),
      wireRows: await page.locator('#wire tbody tr').count(),
      wireReadable: await page.locator('#wire td.wire-cleartext').count(),
      grids: (await page.locator('#authz-matrix h3').allTextContents())
        .map((t) => /^(\S+) (\d+) probes/.exec(t))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ destination: m[1]!, probes: Number(m[2]) })),
      cells: await page.locator('#authz-matrix td.cell:not(.d-none)').count(),
      mismatchedCells: await page.locator('#authz-matrix td.mismatch').count(),
      coverageRows: await page.locator('#rule-coverage tbody tr').count(),
      coverageNotExercised: await page.locator('#rule-coverage td.agree-no').count(),
      experiments: (await page.locator('#experiments').textContent()) ?? '',
    };
  } finally {
    await browser.close();
  }
}

/** `convergenceMs` shortens how long a change that never takes effect is waited for (the frozen certificates). */
function start(breakable: BreakableDataPlane, convergenceMs?: number): Promise<StartedSecurityEnv> {
  return startSecurityEnv({ suiteDir: MTLS_DIR, manifests: BASE_MANIFESTS, dataPlane: breakable, seed: 1, timeScale: 0.02, observeWire: true, ...(convergenceMs === undefined ? {} : { timeouts: { convergence: convergenceMs } }) });
}

for (const plane of ['reference', 'envoy'] as const satisfies readonly Plane[]) {
describe(`the security suites can fail on ${plane}: a broken data plane fails the cases that hold it to the promise it breaks`, function () {
  this.timeout(600_000);
  let inner: DataPlaneAdapter;
  const killRate = new KillRate();

  after(function () {
    process.stdout.write(`      ${killRate.summary(plane)}\n`);
  });

  /** The test of one breakage: caught (its cases fail as expected) or missed, counted; or not expressible on this plane, said so. */
  function breakageTest(breakage: Breakage, run: () => Promise<void>): void {
    const why = NOT_EXPRESSIBLE[plane][breakage];
    it(`${breakage} (${BREAKAGES[breakage]}): ${Object.keys(EXPECTED[breakage].fail).join(', ')} fail; ${EXPECTED[breakage].pass} still passes`, async function () {
      if (why !== undefined) {
        killRate.notExpressible.push([breakage, why]);
        process.stdout.write(`      not expressible on ${plane}: ${breakage}: ${why}\n`);
        this.skip();
      }
      await killRate.tryBreakage(breakage, run);
    });
  }

  before(async function () {
    inner = createDataPlane(plane);
    const info = await inner.info();
    // Envoy is installed by scripts/setup.sh; a machine set up without it says so here, with the reason.
    if (!info.available) {
      process.stdout.write(`      skipped: ${info.unavailableReason ?? `${plane} unavailable`}\n`);
      this.skip();
    }
  });

  describe('breakages a running sidecar takes up (one environment, rendered again for each)', function () {
    let started: StartedSecurityEnv;
    let breakable: BreakableDataPlane;
    let run: (name: string) => Promise<CaseResult>;
    const baseline: CaseResult[] = [];

    before(async function () {
      breakable = new BreakableDataPlane(inner);
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

    it(`rendered faithfully, every case ${plane} claims passes (the baseline the breakages are measured against)`, async function () {
      await breakWith([]);
      const outcomes: string[] = [];
      for (const testCase of ALL) {
        const result = await run(testCase.shortName);
        baseline.push(result);
        outcomes.push(`${testCase.shortName}: ${result.outcome.status}${result.outcome.status === 'failed' || result.outcome.status === 'error' ? ` (${result.outcome.message.slice(0, 300)})` : ''}`);
      }
      // Cases needing a feature the data plane does not claim are not-supported; every other one passes.
      const unclaimed = ALL.filter((c) => c.features.some((f) => !breakable.features.has(f))).map((c) => `${c.shortName}: not-supported`);
      expect(outcomes.filter((o) => !o.endsWith(': passed') && !unclaimed.includes(o))).to.deep.equal([]);
      expect(outcomes.filter((o) => o.endsWith(': passed')).length).to.equal(ALL.length - unclaimed.length);
    });

    it("the baseline's report, opened in Chromium, shows the tls-check table, the authorization grids and rule coverage the cases attached", async function () {
      if (baseline.length === 0) this.skip();
      const report = buildReport(baseline, {
        id: 'can-fail-baseline',
        startedAt: baseline[0]!.startedAt,
        finishedAt: new Date().toISOString(),
        options: resolveRunOptions({ seed: 1, suites: 'mtls,authz' }),
        toolVersion: 'test',
        host: { platform: process.platform, node: process.version },
        dataPlane: await breakable.info(),
      });
      // Every attachment matched the report schema: none was turned into a finding and left out.
      expect(report.findings.filter((f) => /attachment/.test(f.text)).map((f) => f.text)).to.deep.equal([]);
      const attached = (name: string): number => baseline.reduce((n, r) => n + ((r.attachments[name] as unknown[] | undefined)?.length ?? 0), 0);
      expect(report.tlsCheck.length).to.equal(48);
      // The seed's topology on the wire: 3 callers × 4 ports, each as Istio says an eavesdropper sees it.
      expect(report.wire.map((r) => `${r.client} ${r.service} ${r.seen}`)).to.have.length(12);
      expect(report.wire.filter((r) => !r.agrees)).to.deep.equal([]);
      expect(report.authzMatrix.length).to.equal(attached('authzMatrix'));
      expect(report.ruleCoverage.length).to.equal(attached('ruleCoverage'));
      const shown = await showInChromium(writeReport(report, mkdtempSync(join(tmpdir(), 'meshproof-security-report-'))).files.html);
      expect(shown.tlsRows).to.equal(report.tlsCheck.length);
      expect(shown.tlsDisagreeing).to.equal(0);
      expect(shown.wireRows).to.equal(report.wire.length);
      expect(shown.wireReadable).to.equal(report.wire.filter((r) => r.seen === 'cleartext' || r.seen === 'cleartext request, no reply').length);
      expect(shown.grids.map((g) => g.destination)).to.deep.equal(['prod-namespace/payment-service:8080', 'prod-namespace/product-service:8082', 'prod-namespace/product-service:8083', 'legacy/inventory-service:9080', 'legacy/ledger-service:9000', 'legacy/ledger-service:9001']);
      // Each grid's heading counts its probes: together, every cell of the report.
      expect(shown.grids.reduce((n, g) => n + g.probes, 0)).to.equal(report.authzMatrix.length);
      expect(shown.mismatchedCells).to.equal(0);
      expect(shown.cells).to.be.greaterThan(0);
      expect(shown.coverageRows).to.equal(report.ruleCoverage.length);
      expect(shown.coverageNotExercised).to.equal(0);
      expect(shown.experiments).to.contain('permissive-to-strict-migration');
    });

    for (const breakage of (Object.keys(EXPECTED) as Breakage[]).filter((b) => !RESTART_ONLY.has(b))) {
      breakageTest(breakage, async () => {
        await breakWith([breakage]);
        try {
          await expectBroken(run, breakage);
        } finally {
          await breakWith([]);
        }
      });
    }
  });

  for (const group of RESTART_GROUPS) {
    describe(`breakages a sidecar reads only when it starts: ${group.join(', ')} (pods started with them)`, function () {
      let started: StartedSecurityEnv;
      let run: (name: string) => Promise<CaseResult>;

      before(async function () {
        const breakable = new BreakableDataPlane(inner, group);
        started = await start(breakable, 4_000);
        run = caseRunner(started, breakable);
      });

      after(async function () {
        await started?.close();
      });

      for (const breakage of group) breakageTest(breakage, () => expectBroken(run, breakage));
    });
  }
});
}
