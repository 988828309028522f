/**
 * `meshproof run --suite mtls` where the pod network cannot be captured: the wire cases come out
 * skipped with the reason in all three report formats, never passed, the other mtls cases still
 * run, and the promise reads "holds for what ran". Here the capture is made impossible by naming
 * a tcpdump that does not exist (MESHPROOF_TCPDUMP); a tcpdump that cannot capture (no
 * permission, no interface) takes the same path with its own words (wire-tap.docker.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../harness/project-root.ts';
import type { ConformanceReport } from '../harness/report/schema.ts';

describe('meshproof run --suite mtls, where the pod network cannot be captured', function () {
  this.timeout(300_000);

  it('skips the wire cases with the reason in JSON, JUnit and HTML, passes none of them, and runs the rest', function () {
    const reportDir = mkdtempSync(join(tmpdir(), 'meshproof-wire-skip-'));
    try {
      const r = spawnSync('sh', [join(projectRoot, 'bin/meshproof'), 'run', '--suite', 'mtls', '--dataplane', 'reference', '--grep', 'on-the-wire|tls-version-floor', '--seed', '7', '--report', reportDir], {
        cwd: projectRoot,
        encoding: 'utf8',
        env: { ...process.env, MESHPROOF_TCPDUMP: '/nonexistent/tcpdump' },
        timeout: 240_000,
      });
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      const report = JSON.parse(readFileSync(join(reportDir, 'latest', 'report.json'), 'utf8')) as ConformanceReport;
      const wireCases = report.cases.filter((c) => c.shortName.endsWith('on-the-wire'));
      expect(wireCases.map((c) => c.shortName).sort()).to.deep.equal(['disable-on-the-wire', 'migration-on-the-wire', 'permissive-on-the-wire', 'strict-on-the-wire']);
      for (const c of wireCases) {
        expect(c.outcome, c.shortName).to.have.property('status', 'skipped');
        expect((c.outcome as { reason: string }).reason, c.shortName).to.match(/^what an eavesdropper on the pod network sees cannot be observed here: MESHPROOF_TCPDUMP names \/nonexistent\/tcpdump/);
      }
      expect(report.cases.find((c) => c.shortName === 'tls-version-floor')?.outcome.status).to.equal('passed');
      expect(report.wire).to.deep.equal([]);
      expect(report.verdicts.find((v) => v.area === 'mtls')?.result).to.equal('partial');

      const junit = readFileSync(join(reportDir, 'latest', 'junit.xml'), 'utf8');
      expect((junit.match(/<skipped message="what an eavesdropper on the pod network sees cannot be observed here: /g) ?? []).length).to.equal(4);
      const html = readFileSync(join(reportDir, 'latest', 'index.html'), 'utf8');
      expect(html).to.include('cannot be observed here: MESHPROOF_TCPDUMP names /nonexistent/tcpdump');
      expect(html).to.not.include('id="wire"');
    } finally {
      rmSync(reportDir, { recursive: true, force: true });
    }
  });
});
