import { expect } from 'chai';
import type { CaseResult } from '../conformance/case-runner.ts';
import { buildReport } from './build-report.ts';
import { renderHtml } from './html/render-html.ts';
import { renderJunit } from './junit-xml.ts';
import { sanitizeEvidence, scrubPem } from './sanitize-evidence.ts';
import { syntheticRun, type SyntheticRun } from './testdata/synthetic-run.ts';
import { renderJson } from './write-report.ts';

/** The base64 body of a PEM block: what must not leak even without its armour. */
const pemBody = (pem: string): string[] => pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).slice(1, 3);

describe('evidence sanitizer', function () {
  let synthetic: SyntheticRun;
  before(async function () {
    synthetic = await syntheticRun();
  });

  function caseWithSecrets(): CaseResult {
    const base = synthetic.results.find((r) => r.shortName === 'secure-naming-in-mesh-identity')!;
    const e = base.evidence[0]!;
    const xfcc = `By=spiffe://cluster.local/ns/prod-namespace/sa/payment-service-sa;Cert="${encodeURIComponent(synthetic.clientCertPem)}";URI=spiffe://cluster.local/ns/prod-namespace/sa/order-service-sa`;
    return {
      ...base,
      outcome: { status: 'failed', message: `expected 403, got a body with ${synthetic.clientKeyPem}` },
      findings: [`key seen: ${synthetic.clientKeyPem}`],
      evidence: [
        {
          ...e,
          observation: {
            ...e.observation,
            headers: { 'x-forwarded-client-cert': xfcc, 'set-cookie': 'session=abc123' },
            body: `echo of the key:\n${synthetic.clientKeyPem}\nand a truncated one: -----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG`,
          },
        },
      ],
    };
  }

  it('puts the client certificate in by fingerprint and URI SAN, never its PEM or key', function () {
    const report = sanitizeEvidence(caseWithSecrets().evidence[0]!);
    expect(report.request.clientCertificate?.uriSans).to.deep.equal(['spiffe://cluster.local/ns/prod-namespace/sa/order-service-sa']);
    expect(report.request.clientCertificate?.fingerprint256).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(report.client.tls?.serverChain[0]?.uriSans).to.deep.equal(['spiffe://cluster.local/ns/prod-namespace/sa/payment-service-sa']);
    expect(report.request.headers?.authorization).to.equal('Bearer [credential removed from the report, 53 characters]');
    expect(report.client.headers?.['set-cookie']).to.match(/^\[credential removed/);
  });

  it('no report file holds a private key or certificate PEM, even when a body, header, message or finding carries one', function () {
    const report = buildReport([caseWithSecrets(), ...synthetic.results], synthetic.run);
    const key = synthetic.clientKeyPem;
    expect(key).to.contain('-----BEGIN');
    for (const [name, text] of [['report.json', renderJson(report)], ['junit.xml', renderJunit(report)], ['index.html', renderHtml(report)]] as const) {
      expect(text, name).to.not.contain('-----BEGIN');
      expect(text, name).to.not.contain('BEGIN%20');
      for (const line of [...pemBody(key), ...pemBody(synthetic.clientCertPem)]) expect(text, `${name}: ${line}`).to.not.contain(line);
      expect(text, name).to.not.contain(encodeURIComponent(pemBody(synthetic.clientCertPem)[0]!));
    }
    expect(renderJson(report)).to.contain('[private key removed from the report]');
    expect(renderJson(report)).to.contain('[certificate removed from the report]');
  });

  it('the check above can fail: without the sanitizer the key would be in the JSON', function () {
    const raw = JSON.stringify(caseWithSecrets());
    expect(raw).to.contain(pemBody(synthetic.clientKeyPem)[0]!);
  });

  it('scrubs plain, URL-encoded and cut-off PEM blocks and leaves other text alone', function () {
    expect(scrubPem('a -----BEGIN EC PRIVATE KEY-----\nAAA\n-----END EC PRIVATE KEY----- b')).to.equal('a [ec private key removed from the report] b');
    expect(scrubPem('Cert="-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----%0A"')).to.equal('Cert="[certificate removed from the report]%0A"');
    expect(scrubPem('tail -----BEGIN PRIVATE KEY-----\nMIGH')).to.equal('tail [private key removed from the report]');
    expect(scrubPem('GET /pay/1 → 200')).to.equal('GET /pay/1 → 200');
  });

  it('cuts bodies to 2 KiB', function () {
    const e = synthetic.results[0]!.evidence[0]!;
    const report = sanitizeEvidence({ ...e, observation: { ...e.observation, body: 'x'.repeat(5000) } });
    expect(report.client.body).to.have.length.lessThan(2100);
    expect(report.client.body).to.match(/… \[2952 more characters\]$/);
  });
});

describe('index.html escapes traffic', function () {
  it('a <script> in a path, header, body, label or finding appears as text, never as markup', async function () {
    const synthetic = await syntheticRun();
    const base = synthetic.results.find((r) => r.shortName === 'dot-segments-normalized-before-match')!;
    const e = base.evidence[0]!;
    const evil = '/pay/"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const hostile: CaseResult = {
      ...base,
      description: 'x <script>alert(3)</script>',
      outcome: { status: 'failed', message: `GET ${evil}: expected 403` },
      findings: ['<script>alert(4)</script>'],
      evidence: [{ ...e, label: `order-client GET ${evil}`, observation: { ...e.observation, request: { ...e.observation.request, path: evil, headers: { 'x-evil': '<script>alert(5)</script>' } }, body: '</pre><script>alert(6)</script>' } }],
      attachments: { authzMatrix: [{ source: '<script>alert(7)</script>', request: `GET ${evil}`, destination: 'd', expected: 'deny', observed: 'allow', agrees: false }] },
    };
    const page = renderHtml(buildReport([hostile], synthetic.run));
    const scripts = page.match(/<script[\s>]/g) ?? [];
    expect(scripts, 'only the page’s own print script').to.have.length(1);
    expect(page).to.not.match(/<img[\s>]/);
    expect(page).to.contain('&lt;script>alert(1)&lt;/script>');
    expect(page).to.contain('&lt;/pre>&lt;script>alert(6)&lt;/script>');
    expect(page).to.contain('&lt;img src=x onerror=alert(2)>');
  });
});
