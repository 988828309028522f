/**
 * `meshproof run` end to end on fixture suites (harness/report/testdata/suites), which start
 * nothing: each exit code is caused on purpose through MESHPROOF_FIXTURE_MODE.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ExitCode } from '../../errors.ts';
import { projectRoot } from '../../project-root.ts';
import { validateReport } from '../../report/report-validator.ts';
import type { ConformanceReport } from '../../report/schema.ts';

const SUITES = join(projectRoot, 'harness/report/testdata/suites');
const TESTDATA = join(projectRoot, 'harness/report/testdata');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly reportDir: string;
  report(): ConformanceReport;
}

function meshproofRun(args: readonly string[], mode = 'pass'): Run {
  const reportDir = mkdtempSync(join(tmpdir(), 'meshproof-run-'));
  const r = spawnSync('sh', [join(projectRoot, 'bin/meshproof'), 'run', '--suites-dir', SUITES, '--report', reportDir, ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, MESHPROOF_FIXTURE_MODE: mode },
    timeout: 60_000,
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    reportDir,
    report: () => JSON.parse(readFileSync(join(reportDir, 'latest', 'report.json'), 'utf8')) as ConformanceReport,
  };
}

describe('meshproof run (fixture suites, no Docker)', function () {
  this.timeout(60_000);

  it('exits 0 when nothing is broken (passed and not-supported), and writes a valid report', function () {
    const r = meshproofRun(['--suite', 'mtls,resilience', '--seed', '7']);
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.Ok);
    expect(r.stdout).to.match(/passed\s+mtls\s+fixture-always-holds/);
    expect(r.stdout).to.match(/not supported\s+mtls\s+fixture-needs-migration \(\d+ ms\) — mtls\.migration/);
    expect(r.stdout).to.contain('exit code 0: no promise broken');
    const report = r.report();
    expect(validateReport(report)).to.deep.equal([]);
    expect(report.run.seed).to.equal(7);
    // No --dataplane: auto chose one and said which, and why; the report names the same one.
    const chosen = /^data plane: (\w+) \(auto: /m.exec(r.stdout)?.[1];
    expect(chosen, r.stdout).to.be.oneOf(['envoy', 'reference']);
    expect(report.dataPlane).to.deep.include({ name: chosen, version: 'fixture-1' });
    expect(report.tlsCheck).to.have.length(1);
    expect(report.verdicts.map((v) => v.result)).to.deep.equal(['partial', 'not-run', 'success']);
    expect(existsSync(join(r.reportDir, report.run.id, 'junit.xml'))).to.equal(true);
    expect(existsSync(join(r.reportDir, 'latest', 'index.html'))).to.equal(true);
  });

  it('exits 0 when a case skips itself, and the reason is in the report', function () {
    const r = meshproofRun(['--suite', 'mtls', '--seed', '7'], 'skip');
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.Ok);
    expect(r.report().cases.find((c) => c.shortName === 'fixture-controlled')?.outcome).to.deep.equal({ status: 'skipped', reason: 'fixture: skipped on purpose' });
  });

  it('exits 1 when a case fails (a promise is broken)', function () {
    const r = meshproofRun(['--suite', 'mtls', '--seed', '7'], 'fail');
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.ConformanceFailure);
    expect(r.stdout).to.match(/FAILED\s+mtls\s+fixture-controlled .* expected reset, got status 200/);
    expect(r.report().verdicts[0]?.result).to.equal('failure');
  });

  it('exits 2 on a bad flag, before anything runs', function () {
    for (const args of [['--time-scale', '0'], ['--seed', '-1'], ['--suite', 'mtls,dns'], ['--dataplane', 'linkerd']]) {
      const r = meshproofRun(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(ExitCode.BadInput);
      expect(r.stderr).to.match(/error: --(time-scale|seed|suite|dataplane) /);
      expect(readdirSync(r.reportDir)).to.deep.equal([]);
    }
  });

  it('exits 2 on a bad policy directory, naming file and line', function () {
    const r = meshproofRun(['--policies', join(TESTDATA, 'bad-policies')]);
    expect(r.status, r.stderr).to.equal(ExitCode.BadInput);
    expect(r.stderr).to.match(/bad-policies\/authorization-policy\.yaml:\d+/);
    expect(readdirSync(r.reportDir)).to.deep.equal([]);
  });

  it('exits 3 when a case ends in an infrastructure error', function () {
    const r = meshproofRun(['--suite', 'mtls', '--seed', '7'], 'error');
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.Infrastructure);
    expect(r.report().cases.find((c) => c.shortName === 'fixture-controlled')?.outcome).to.deep.equal({ status: 'error', message: 'the Docker engine stopped answering', code: 'MESHPROOF_ERR_RUNTIME_UNAVAILABLE' });
  });

  it('exits 3 when a suite file is missing, and names it', function () {
    const r = meshproofRun(['--suite', 'mtls,authz', '--seed', '7']);
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.Infrastructure);
    expect(r.stdout).to.contain('missing suite file: harness/report/testdata/suites/authz/authz.suite.ts');
    const report = r.report();
    expect(report.run.incomplete).to.deep.equal(['suite file harness/report/testdata/suites/authz/authz.suite.ts does not exist: the authz promise was not tested']);
    expect(report.verdicts[1]?.summary).to.equal('Not run: the suite file harness/report/testdata/suites/authz/authz.suite.ts does not exist');
    expect(readFileSync(join(r.reportDir, 'latest', 'junit.xml'), 'utf8')).to.contain('<error message="suite file harness/report/testdata/suites/authz/authz.suite.ts does not exist');
  });

  it('exits 3 when the suite setup fails, with every case of the suite reported as error', function () {
    const r = meshproofRun(['--suite', 'mtls', '--seed', '7'], 'setup-error');
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.Infrastructure);
    const outcomes = r.report().cases.map((c) => [c.shortName, c.outcome.status]);
    expect(outcomes).to.deep.equal([
      ['fixture-always-holds', 'error'],
      ['fixture-controlled', 'error'],
      ['fixture-needs-migration', 'error'],
    ]);
    expect(r.report().cases[0]?.outcome).to.deep.include({ message: "not run: the suite's setup failed: image meshproof/echo did not build", code: 'MESHPROOF_ERR_IMAGE_BUILD', hint: 'run meshproof doctor' });
    // The error's hint reaches the person once, not once per case, and the machine-readable reports.
    expect(r.stdout.split('\n').filter((l) => l === 'hint: run meshproof doctor')).to.have.length(1);
    expect(readFileSync(join(r.reportDir, 'latest', 'junit.xml'), 'utf8')).to.contain('hint: run meshproof doctor');
    expect(readFileSync(join(r.reportDir, 'latest', 'index.html'), 'utf8')).to.contain('to fix: run meshproof doctor');
  });

  it('exits 3 when a test outside any case fails', function () {
    const r = meshproofRun(['--suite', 'mtls', '--seed', '7'], 'stray-fail');
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.Infrastructure);
    expect(r.report().run.incomplete[0]).to.match(/^test 'a test outside any case fails' in .*mtls\.suite\.ts failed outside any case: stray failure$/);
  });

  it('runs only the cases --grep selects, and the replay command repeats the grep', function () {
    const r = meshproofRun(['--suite', 'mtls', '--seed', '7', '--grep', 'always-holds']);
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.Ok);
    const report = r.report();
    expect(report.cases.map((c) => c.shortName)).to.deep.equal(['fixture-always-holds']);
    expect(report.run.replayCommand).to.contain('--grep always-holds');
  });

  it('prints and records a random seed when none is given', function () {
    const r = meshproofRun(['--suite', 'resilience']);
    const seed = /^seed (\d+) \(random; --seed \1 replays this run\)$/m.exec(r.stdout)?.[1];
    expect(seed, r.stdout).to.not.equal(undefined);
    expect(r.report().run.seed).to.equal(Number(seed));
  });
});

describe('meshproof run --expect (the oracle, before any container)', function () {
  this.timeout(60_000);
  const seed = join(projectRoot, 'fixtures/seed');

  it('exits 1 with a clear finding when the policy contradicts the intent, and starts nothing', function () {
    const r = meshproofRun(['--policies', seed, '--expect', join(TESTDATA, 'intent-contradicts.yaml')]);
    expect(r.status, r.stderr).to.equal(ExitCode.ConformanceFailure);
    expect(r.stderr).to.match(/intent-contradicts\.yaml:8:\d+: \[1\]: your policy denies POST \/pay\/1 from prod-namespace\/product-service-sa to prod-namespace\/payment-service that you said must be allowed/);
    expect(r.stderr).to.contain('1 of 3 expectations');
    expect(r.stdout).to.not.contain('meshproof run mp-');
    expect(readdirSync(r.reportDir)).to.deep.equal([]);
  });

  it('runs the suites when every expectation agrees with the policy', function () {
    const r = meshproofRun(['--policies', seed, '--expect', join(TESTDATA, 'intent-agrees.yaml'), '--suite', 'resilience', '--seed', '3']);
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.Ok);
    expect(r.stdout).to.contain('expect: all 3 checkable expectations agree with the policies');
    expect(r.report().run.replayCommand).to.match(/--policies \S+fixtures\/seed --expect \S+intent-agrees\.yaml/);
  });

  it('exits 2 on a malformed intent file, naming file, line and field', function () {
    const r = meshproofRun(['--policies', seed, '--expect', join(TESTDATA, 'intent-bad.yaml')]);
    expect(r.status, r.stderr).to.equal(ExitCode.BadInput);
    expect(r.stderr).to.match(/intent-bad\.yaml:5:\d+: \[0\]\.expect: 'expect' must be one of allow, deny, reject, found 'permit'/);
  });

  it('exits 2 for --expect without --policies', function () {
    const r = meshproofRun(['--expect', join(TESTDATA, 'intent-agrees.yaml')]);
    expect(r.status).to.equal(ExitCode.BadInput);
    expect(r.stderr).to.contain('--expect needs --policies');
  });

  it('--dataplane reference,envoy runs each in turn and writes one report side by side, with each one\'s full report and one JUnit of both', function () {
    const r = meshproofRun(['--suite', 'mtls', '--seed', '7', '--dataplane', 'reference,envoy']);
    expect(r.status, r.stdout + r.stderr).to.equal(ExitCode.Ok);
    expect(r.stdout).to.match(/^data plane: reference, envoy \(a differential run\)$/m);
    expect(r.stdout).to.match(/differential: reference fixture-1 vs envoy fixture-1; 0 of \d+ probes observed differently/);
    const latest = join(r.reportDir, 'latest');
    const d = JSON.parse(readFileSync(join(latest, 'differential.json'), 'utf8')) as { kind: string; dataPlanes: { info: { name: string } }[]; cases: { shortName: string; outcomes: Record<string, string> }[]; probesCompared: number };
    expect(d.kind).to.equal('DifferentialReport');
    expect(d.dataPlanes.map((p) => p.info.name)).to.deep.equal(['reference', 'envoy']);
    expect(d.cases.find((c) => c.shortName === 'fixture-always-holds')?.outcomes).to.deep.equal({ reference: 'passed', envoy: 'passed' });
    expect(d.probesCompared).to.be.greaterThan(0);
    for (const plane of ['reference', 'envoy']) expect(validateReport(JSON.parse(readFileSync(join(latest, plane, 'report.json'), 'utf8')) as ConformanceReport), plane).to.deep.equal([]);
    const junit = readFileSync(join(latest, 'junit.xml'), 'utf8');
    expect(junit).to.contain('classname="meshproof.reference.mtls"').and.contain('classname="meshproof.envoy.mtls"');
    expect(readFileSync(join(latest, 'index.html'), 'utf8')).to.contain('meshproof differential report');
  });

  it('a differential run fails (exit 1) when a case fails on any data plane', function () {
    expect(meshproofRun(['--suite', 'mtls', '--seed', '7', '--dataplane', 'all'], 'fail').status).to.equal(ExitCode.ConformanceFailure);
  });

  it('refuses an unknown data plane in a list before anything starts (exit 2)', function () {
    const r = meshproofRun(['--suite', 'mtls', '--dataplane', 'reference,linkerd']);
    expect(r.status).to.equal(ExitCode.BadInput);
    expect(r.stderr).to.match(/'linkerd' is not a data plane/);
  });
});
