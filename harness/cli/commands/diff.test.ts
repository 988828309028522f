/**
 * `meshproof diff` as a user runs it: what it prints, what it writes, and its exit codes
 * (0 reviewed, 1 an intent BASE kept is broken, 2 bad input on either side).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateReport } from '../../report/report-validator.ts';

function meshproof(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['scripts/node.sh', '--disable-warning=ExperimentalWarning', 'harness/cli/main.ts', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('meshproof diff (command line)', function () {
  this.timeout(60_000);

  it('prints the widening first and the grouped changes with file:line; exit 0', function () {
    const r = meshproof('diff', 'fixtures/diff/base', 'fixtures/diff/path-opened');
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.split('\n');
    expect(lines.indexOf('WIDENS ACCESS')).to.be.greaterThan(-1).and.lessThan(lines.findIndex((l) => l.startsWith('DECISIONS THAT CHANGE')));
    expect(r.stdout).to.contain('  HEAD  ALLOW rule prod-namespace/restrict-payment-access/rules[1] [added in HEAD] (fixtures/diff/path-opened/payment-authorization.yaml:21)');
    expect(r.stdout).to.match(/widens\s+deny → allow\s+prod-namespace\/product-service-sa\s+GET \/pay\/status\/probe\s+→ prod-namespace\/payment-service:8080/);
    expect(lines.at(-2)).to.equal('diff: 7 of 65 probes change decision (7 widen access, 0 narrow it, 0 other); 0 port(s) change mTLS mode; 0 resilience change(s)');
  });

  it('says "no change" for the unchanged pair', function () {
    const r = meshproof('diff', 'fixtures/diff/base', 'fixtures/diff/unchanged');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.trim().split('\n').at(-1)).to.match(/^no change: the \d+ probes of both sides get the same decisions; no port changes mTLS mode; no resilience setting changes$/);
  });

  it('--expect: exit 1 when HEAD breaks an intent BASE kept, naming the entry; --json carries the same review', function () {
    const r = meshproof('diff', 'fixtures/diff/base', 'fixtures/diff/deny-removed', '--expect', 'fixtures/diff/intent.yaml', '--json');
    expect(r.status, r.stderr).to.equal(1);
    expect(r.stderr).to.contain('diff: HEAD breaks 1 intent(s) that BASE kept (exit 1)');
    const review = JSON.parse(r.stdout) as { intents: { at: string; verdict: string }[]; summary: { intentsRegressed: number } };
    expect(review.intents.filter((i) => i.verdict === 'regressed').map((i) => i.at)).to.deep.equal(['fixtures/diff/intent.yaml:4']);
    expect(meshproof('diff', 'fixtures/diff/base', 'fixtures/diff/unchanged', '--expect', 'fixtures/diff/intent.yaml').status).to.equal(0);
  });

  it('a bad policy on either side: every problem with its file:line, exit 2, nothing compared', function () {
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-diff-'));
    cpSync('fixtures/diff/path-opened', dir, { recursive: true });
    const file = join(dir, 'payment-authorization.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('methods: ["GET"]', 'methods: "GET"'));
    const r = meshproof('diff', 'fixtures/diff/base', dir);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(new RegExp(`head error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: spec\\.rules\\[1\\]\\.to\\[0\\]\\.operation\\.methods`));
    expect(r.stderr).to.contain('nothing was compared');
    expect(r.stdout).to.equal('');
  });

  it('without a topology anywhere: exit 2 with the fix', function () {
    const r = meshproof('diff', 'fixtures/diff/path-opened', 'fixtures/diff/deny-removed');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('diff needs a topology').and.contain('--topology');
  });

  it('--report writes the compliance report with its change view, --summary appends Markdown', function () {
    const out = mkdtempSync(join(tmpdir(), 'meshproof-diff-report-'));
    const summary = join(out, 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = meshproof('diff', 'fixtures/diff/base', 'fixtures/diff/port-permissive', '--report', out, '--summary', summary);
    expect(r.status, r.stderr).to.equal(0);
    const json = JSON.parse(readFileSync(join(out, 'latest', 'report.json'), 'utf8')) as { change?: { ports: unknown[] } };
    expect(validateReport(json)).to.deep.equal([]);
    expect(json.change?.ports).to.have.length(1);
    expect(existsSync(join(out, 'latest', 'index.html'))).to.equal(true);
    const md = readFileSync(summary, 'utf8');
    expect(md.startsWith('# earlier step\n### meshproof diff: 1 of ')).to.equal(true);
    expect(md).to.contain('> **This change widens access.**').and.contain('`prod-namespace/payment-service:9090` STRICT → PERMISSIVE (widens)');
  });
});
