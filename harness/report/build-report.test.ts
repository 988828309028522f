import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { CaseResult } from '../conformance/case-runner.ts';
import { chooseTimeScale } from '../conformance/auto-time-scale.ts';
import { buildReport } from './build-report.ts';
import { renderHtml } from './html/render-html.ts';
import { renderJunit } from './junit-xml.ts';
import { validateReport } from './report-validator.ts';
import type { ConformanceReport } from './schema.ts';
import { syntheticRun, type SyntheticRun } from './testdata/synthetic-run.ts';
import { writeReport } from './write-report.ts';

const XSD = new URL('./junit/jenkins-junit.xsd', import.meta.url).pathname;

function xmllint(file: string): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    const e = error as { stderr?: string; code?: string };
    if (e.code === 'ENOENT') throw new Error('xmllint not found: run sh scripts/setup.sh (installs libxml2-utils)');
    return { ok: false, output: e.stderr ?? String(error) };
  }
}

describe('buildReport', function () {
  let synthetic: SyntheticRun;
  let report: ConformanceReport;
  before(async function () {
    synthetic = await syntheticRun();
    report = buildReport(synthetic.results, synthetic.run);
  });

  it('has one verdict per promise, in promise order, from the case outcomes', function () {
    expect(report.verdicts.map((v) => [v.area, v.result])).to.deep.equal([
      ['mtls', 'partial'],
      ['authz', 'failure'],
      ['resilience', 'error'],
    ]);
    expect(report.areas.find((a) => a.area === 'authz')?.failedCases).to.deep.equal(['dot-segments-normalized-before-match']);
  });

  it('gathers named attachments into the cross-case views and metrics into their case', function () {
    expect(report.tlsCheck).to.have.length(7);
    expect(report.wire.map((r) => r.seen)).to.deep.equal(['encrypted', 'cleartext request, no reply', 'cleartext']);
    expect(report.authzMatrix.filter((c) => !c.agrees)).to.have.length(1);
    expect(report.ruleCoverage).to.have.length(2);
    expect(report.ejectionTimelines[0]?.case).to.equal('outlier-ejects-after-3-5xx');
    expect(report.experiments).to.have.length(1);
    expect(report.cases.find((c) => c.shortName === 'outlier-ejects-after-3-5xx')?.metrics).to.have.length(4);
  });

  it('never lets certificate material into a wire excerpt, even one its case left in', function () {
    const excerpt = report.wire.find((r) => r.seen === 'cleartext')?.excerpt ?? '';
    expect(excerpt).to.contain('x-meshproof-canary: ‹canary›');
    expect(excerpt).to.not.match(/BEGIN|MIIB/);
    expect(excerpt).to.contain('[certificate removed from the report]');
  });

  it('keeps every skip and not-supported reason', function () {
    const skipped = report.cases.find((c) => c.shortName === 'connection-pool-overflow')?.outcome;
    expect(skipped).to.deep.equal({ status: 'skipped', reason: 'needs 200 concurrent connections from one client; the client container is limited to 64 on this host (ulimit -n)' });
    expect(report.cases.find((c) => c.shortName === 'custom-action-ext-authz')?.outcome).to.deep.equal({ status: 'not-supported', features: ['authz.custom'] });
  });

  it('turns a malformed or unknown attachment into a finding, not into the report', function () {
    const base = synthetic.results[0]!;
    const bad: CaseResult = { ...base, shortName: 'bad-attachments', attachments: { tlsCheck: [{ client: 'x' }], ejectionTimeline: 'not an object', tlscheck: [] } };
    const r = buildReport([bad], synthetic.run);
    expect(r.tlsCheck).to.deep.equal([]);
    expect(r.ejectionTimelines).to.deep.equal([]);
    const texts = r.findings.map((f) => f.text);
    expect(texts.some((t) => /attachment 'tlsCheck'\[0\] does not match tlsCheckRow/.test(t))).to.equal(true);
    expect(texts.some((t) => /attachment 'ejectionTimeline' does not match ejectionTimeline/.test(t))).to.equal(true);
    expect(texts.some((t) => /attachment 'tlscheck' is not shown in the report/.test(t))).to.equal(true);
  });

  it('records the run: seed, time scale, replay command, suites not selected', function () {
    expect(report.run.seed).to.equal(1_834_091_577);
    expect(report.run.replayCommand).to.equal('./bin/meshproof run --suite mtls,authz,resilience --dataplane reference --seed 1834091577 --time-scale 0.02');
    const onlyMtls = buildReport([], { ...synthetic.run, options: { ...synthetic.run.options, suites: ['mtls'] }, missingSuites: [{ area: 'mtls', file: 'suites/mtls/mtls.suite.ts' }] });
    expect(onlyMtls.verdicts.map((v) => v.summary)).to.deep.equal([
      'Not run: the suite file suites/mtls/mtls.suite.ts does not exist',
      'Not run: not selected (--suite mtls)',
      'Not run: not selected (--suite mtls)',
    ]);
    expect(onlyMtls.run.incomplete).to.deep.equal(['suite file suites/mtls/mtls.suite.ts does not exist: the mtls promise was not tested']);
  });

  it('report.json validates against report.schema.json, and a broken one does not', function () {
    const json = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    expect(validateReport(json)).to.deep.equal([]);
    const broken = JSON.parse(JSON.stringify(report)) as { cases: { outcome: unknown }[]; run: Record<string, unknown> };
    broken.cases[0]!.outcome = { status: 'skipped' };
    delete broken.run.seed;
    const problems = validateReport(broken);
    expect(problems.join('\n')).to.match(/must have required property 'seed'/);
    expect(problems.join('\n')).to.match(/\/cases\/0\/outcome/);
  });

  it('records how the time scale was chosen (run.timing) in report.json, valid against the schema, and in the HTML header', function () {
    const timing = chooseTimeScale({ samples: 190, p50Ms: 0.2, p99Ms: 1, maxMs: 4 });
    const r = buildReport(synthetic.results, { ...synthetic.run, options: { ...synthetic.run.options, timeScale: timing.timeScale, timing } });
    expect(r.run.timing).to.deep.equal(timing);
    expect(r.run.timeScale).to.equal(0.05);
    expect(validateReport(JSON.parse(JSON.stringify(r)) as Record<string, unknown>)).to.deep.equal([]);
    const page = renderHtml(r);
    expect(page).to.match(/chosen from the measured jitter/);
    expect(page).to.match(/timer lateness at the start p99 1 ms, max 4 ms/);
    const bad = JSON.parse(JSON.stringify(r)) as { run: { timing: Record<string, unknown> } };
    bad.run.timing['timeScaleFrom'] = 'guess';
    expect(validateReport(bad).join('\n')).to.match(/timing\/timeScaleFrom/);
  });

  it('junit.xml validates against the JUnit schema (xmllint), with skips, failures and errors as CI reads them', function () {
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-junit-'));
    const written = writeReport(report, dir);
    const xml = readFileSync(written.files.junit, 'utf8');
    expect(xmllint(written.files.junit)).to.deep.include({ ok: true });
    expect(xml).to.contain('<skipped message="needs 200 concurrent connections from one client; the client container is limited to 64 on this host (ulimit -n)"/>');
    expect(xml).to.contain('<skipped message="not supported by this data plane: authz.custom"/>');
    expect(xml).to.match(/<failure message="order-client POST \/pay\/..\/admin → payment-service:80: expected denied[^"]*" type="ConformanceFailure">/);
    expect(xml).to.match(/<error message="container payment-service-3-sidecar did not log its ready line[^"]*" type="MESHPROOF_ERR_CONTAINER_START">/);
    expect(xml).to.match(/<testsuites name="meshproof mp-20261123-020004-7c1e" time="36.400" tests="11" failures="1" errors="1">/);
  });

  it('the JUnit check can fail: a <skipped> inside <properties> is rejected', function () {
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-junit-'));
    const file = join(dir, 'junit.xml');
    const xml = renderJunit(report).replace('<properties>', '<properties><skipped message="x"/>');
    execFileSync('sh', ['-c', 'cat > "$1"', 'sh', file], { input: xml });
    expect(xmllint(file).ok).to.equal(false);
  });

  it('junit.xml carries characters XML cannot (a NUL in a path) as U+FFFD and stays valid', function () {
    const base = synthetic.results.find((r) => r.outcome.status === 'failed')!;
    const r = buildReport([{ ...base, outcome: { status: 'failed', message: 'GET /a\u0000b\u0007: expected 400' } }], synthetic.run);
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-junit-'));
    const written = writeReport(r, dir);
    expect(readFileSync(written.files.junit, 'utf8')).to.contain('GET /a\uFFFDb\uFFFD: expected 400');
    expect(xmllint(written.files.junit).ok).to.equal(true);
  });

  it('writes the run folder and a latest/ copy with the three files', function () {
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-reports-'));
    const first = writeReport(report, dir);
    const second = writeReport({ ...report, run: { ...report.run, id: 'mp-second' } }, dir);
    expect(readFileSync(join(dir, 'latest', 'report.json'), 'utf8')).to.contain('"id": "mp-second"');
    expect(readFileSync(first.files.json, 'utf8')).to.contain('"id": "mp-20261123-020004-7c1e"');
    expect(second.latest).to.equal(join(dir, 'latest'));
    expect(readFileSync(join(dir, 'latest', 'index.html'), 'utf8')).to.match(/^<!doctype html>/);
  });

  it('renders the verdicts, an area table per area, the matrix, tls-check, timeline and the replay command into index.html', function () {
    const page = renderHtml(report);
    for (const id of ['verdicts', 'area-mtls', 'area-authz', 'area-resilience', 'tls-check', 'wire', 'authz-matrix', 'rule-coverage', 'ejection-timelines', 'experiments', 'replay']) expect(page, id).to.contain(`id="${id}"`);
    expect(page).to.contain('--seed 1834091577');
    expect(page).to.contain('class="cell d-allow mismatch"');
  });
});
