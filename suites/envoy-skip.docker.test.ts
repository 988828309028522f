/**
 * `meshproof run --dataplane envoy` where no Envoy can be had (no binary named, the project's
 * .tools/envoy turned off with MESHPROOF_ENVOY_PROJECT=0, no image, no pull): every case must come
 * out skipped with the reason in all three report formats, never passed, and the run must say
 * that no promise was checked. Where the envoyproxy/envoy image is in the engine's store the
 * premise does not hold, and the test says so (pending) rather than pass.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checkEnvoyAvailability, dockerImageQuestions } from '../harness/index.ts';
import { projectRoot } from '../harness/project-root.ts';
import type { ConformanceReport } from '../harness/report/schema.ts';

describe('meshproof run --dataplane envoy, where Envoy cannot be had', function () {
  it('skips every case with the reason in JSON, JUnit and HTML, passes none, and exits 0 saying nothing was checked', async function () {
    const noEnvoy = { ...process.env, MESHPROOF_ENVOY_PULL: '0', MESHPROOF_ENVOY_PROJECT: '0', MESHPROOF_ENVOY_BINARY: '' };
    const availability = await checkEnvoyAvailability({ images: dockerImageQuestions(5_000), env: noEnvoy });
    if (availability.available) this.skip(); // Envoy is here: the suites run on it for real instead.
    const reportDir = mkdtempSync(join(tmpdir(), 'meshproof-envoy-skip-'));
    try {
      const r = spawnSync('sh', [join(projectRoot, 'bin/meshproof'), 'run', '--dataplane', 'envoy', '--seed', '7', '--report', reportDir], {
        cwd: projectRoot,
        encoding: 'utf8',
        env: noEnvoy,
        timeout: 120_000,
      });
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.match(/0 passed, 0 failed, \d+ skipped/);

      const report = JSON.parse(readFileSync(join(reportDir, 'latest', 'report.json'), 'utf8')) as ConformanceReport;
      expect(new Set(report.cases.map((c) => c.area))).to.deep.equal(new Set(['mtls', 'authz', 'resilience']));
      for (const c of report.cases) {
        if (c.outcome.status === 'not-supported') continue; // a feature Envoy's adapter does not claim
        expect(c.outcome, c.shortName).to.have.property('status', 'skipped');
        expect((c.outcome as { reason: string }).reason, c.shortName).to.match(/^envoy unavailable: .*envoyproxy\/envoy/);
      }
      expect(report.cases.filter((c) => c.outcome.status === 'skipped').length).to.be.greaterThan(20);
      expect(report.verdicts.map((v) => v.result)).to.deep.equal(['not-run', 'not-run', 'not-run']);

      const junit = readFileSync(join(reportDir, 'latest', 'junit.xml'), 'utf8');
      expect((junit.match(/<testcase /g) ?? []).length).to.equal(report.cases.length);
      expect((junit.match(/<skipped message="envoy unavailable: /g) ?? []).length).to.equal(report.cases.filter((c) => c.outcome.status === 'skipped').length);
      expect(junit).not.to.match(/<failure|<error/);

      const html = readFileSync(join(reportDir, 'latest', 'index.html'), 'utf8');
      expect(html).to.include('envoy unavailable: ');
    } finally {
      rmSync(reportDir, { recursive: true, force: true });
    }
  });
});
