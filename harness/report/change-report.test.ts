/**
 * The report of `meshproof diff`: report.json carries the review as `change` and is valid against
 * report.schema.json; index.html shows the change view in a real browser (widening first, the
 * matrix with the changed cells marked "BASE → HEAD", what decides each side with file:line), and
 * text from policies stays text.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ChangeReview } from '../change/change-review.ts';
import { reviewChange } from '../change/review-change.ts';
import { readIntentFile } from '../conformance/intent-file.ts';
import { readPolicyInputs } from '../model/policy-inputs.ts';
import { resolveMesh } from '../model/resolve.ts';
import { buildChangeReport } from './change-report.ts';
import { renderHtml } from './html/render-html.ts';
import { validateDefinition, validateReport } from './report-validator.ts';
import { writeReport } from './write-report.ts';

const CHROMIUM = [process.env.MESHPROOF_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p !== undefined && p !== '' && existsSync(p));
const TOPOLOGY = 'fixtures/diff/base/topology.yaml';

function side(dir: string) {
  const inputs = readPolicyInputs(dir, TOPOLOGY);
  return { dir, policies: inputs.policies.set, mesh: resolveMesh(inputs.policies.set, inputs.topology!) };
}

function reviewOf(head: string): ChangeReview {
  return reviewChange({ base: side('fixtures/diff/base'), head: side(`fixtures/diff/${head}`), topology: TOPOLOGY, intents: readIntentFile('fixtures/diff/intent.yaml') }).review;
}

const run = { id: 'mp-20261204-120000-abcd', startedAt: '2026-12-04T12:00:00.000Z', finishedAt: '2026-12-04T12:00:01.000Z', toolVersion: '0.1.0', host: { platform: 'linux x64', node: 'v24' }, command: 'meshproof diff fixtures/diff/base fixtures/diff/deny-removed', reportDir: '/tmp', seed: 7 };

describe('the report of meshproof diff', function () {
  this.timeout(60_000);

  it('report.json holds the review as `change` and is valid against report.schema.json; no promise is claimed without --live', function () {
    for (const head of ['deny-removed', 'port-permissive', 'outlier-loosened', 'unchanged']) {
      const report = buildChangeReport(reviewOf(head), run);
      expect(validateReport(JSON.parse(JSON.stringify(report))), head).to.deep.equal([]);
      expect(report.change?.head.dir).to.equal(`fixtures/diff/${head}`);
      expect(report.run.replayCommand).to.equal(run.command);
      expect(report.verdicts.map((v) => [v.result, v.summary])).to.deep.equal(
        ['mtls', 'authz', 'resilience'].map(() => ['not-run', 'Not run: meshproof diff asks the oracle only; --live sends the changed probes on running pods']),
      );
    }
  });

  it('the schema refuses a review that misnames a decision (the check can fail)', function () {
    const review = reviewOf('deny-removed');
    const bad = { ...review, matrix: { ...review.matrix, cells: [{ ...review.matrix.cells[0], head: 'maybe' }] } };
    expect(validateDefinition('changeReview', JSON.parse(JSON.stringify(bad))).join('\n')).to.match(/\/matrix\/cells\/0\/head: must be equal to one of the allowed values/);
  });

  describe('index.html in headless Chromium', function () {
    let browser: Browser;
    let page: Page;
    const dialogs: string[] = [];

    before(async function () {
      if (CHROMIUM === undefined) throw new Error('no Chromium: run sh scripts/setup.sh (installs Debian chromium) or set MESHPROOF_CHROMIUM');
      const review = reviewOf('deny-removed');
      // A caller label from a policy carrying markup must stay text.
      const hostile: ChangeReview = { ...review, notes: ['<img src=x onerror=alert(1)><script>alert(2)</script>'] };
      const written = writeReport(buildChangeReport(hostile, run), mkdtempSync(join(tmpdir(), 'meshproof-change-')));
      expect(readFileSync(written.files.html, 'utf8')).to.not.contain('<script>alert(2)');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
      page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(pathToFileURL(written.files.html).href, { waitUntil: 'load' });
    });

    after(async function () {
      await browser?.close();
    });

    it('puts the widening of access first, then the broken intent', async function () {
      const order = await page.locator('#change > *').evaluateAll((els) => els.map((e) => e.id || e.tagName.toLowerCase()));
      expect(order.indexOf('widens')).to.be.greaterThan(-1);
      expect(order.indexOf('widens')).to.be.lessThan(order.indexOf('intents-broken'));
      expect(await page.locator('#widens li').first().textContent()).to.match(/^2 request\(s\) denied before are now allowed: BASE DENY rule prod-namespace\/deny-payment-admin\/rules\[0\] \[removed in HEAD\], fixtures\/diff\/base\/payment-authorization\.yaml:33/);
    });

    it('marks exactly the changed cells of the matrix, each reading BASE → HEAD', async function () {
      const changed = await page.locator('#change table.change-matrix td.changed').evaluateAll((els) => els.map((e) => [e.getAttribute('title'), e.textContent?.replace(/\s+/g, ' ').trim()]));
      expect(changed).to.deep.equal([
        ['prod-namespace/order-service-sa POST /pay/admin/probe → prod-namespace/payment-service:8080: BASE denied, HEAD allowed', 'denied → allowed'],
        ['prod-namespace/order-service-sa POST /pay/admin/reset → prod-namespace/payment-service:8080: BASE denied, HEAD allowed', 'denied → allowed'],
      ]);
      expect(await page.locator('#change table.change-matrix td.cell:not(.changed):not(.d-none)').count()).to.be.greaterThan(10);
    });

    it('names what decides each side, with file:line and what the change did to it', async function () {
      const row = (await page.locator('#change table.change-groups tbody tr').first().innerText()).replace(/\s+/g, ' ');
      expect(row).to.contain('DENY rule prod-namespace/deny-payment-admin/rules[0] removed in HEAD fixtures/diff/base/payment-authorization.yaml:33');
      expect(row).to.contain('ALLOW rule prod-namespace/restrict-payment-access/rules[0] fixtures/diff/deny-removed/payment-authorization.yaml:13');
    });

    it('runs no script from the review', async function () {
      expect(dialogs).to.deep.equal([]);
      expect(await page.locator('#change').innerText()).to.contain('<img src=x onerror=alert(1)>');
    });
  });

  it('renders without a browser too: the change view is absent from a run report', function () {
    const report = buildChangeReport(reviewOf('unchanged'), run);
    expect(renderHtml(report)).to.contain('id="change"').and.contain('no change: the');
    const { change: _change, ...runReport } = report;
    expect(renderHtml(runReport)).to.not.contain('id="change"');
  });
});
