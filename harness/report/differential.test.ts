import { expect } from 'chai';
import { KNOWN_DIFFERENCES } from '../dataplane/known-differences.ts';
import { buildDifferentialReport, decisionOf, detailsOf } from './differential.ts';
import { renderDifferentialHtml } from './html/render-differential.ts';
import type { ConformanceReport, EvidenceReport } from './schema.ts';

function evidence(label: string, outcome: EvidenceReport['client']['outcome'], status: number | undefined, received: number, flags = '-', alert?: string): EvidenceReport {
  return {
    label,
    from: 'order-client',
    to: 'payment-service:80',
    request: { protocol: 'http', host: '127.0.0.1', port: 15001, method: 'GET', path: '/' },
    client: { outcome, ...(status === undefined ? {} : { status }), ...(alert === undefined ? {} : { tls: { alert, serverChain: [] } }), durationMs: 3 },
    server: { observed: true, received: Array.from({ length: received }, () => ({ pod: 'payment-0', method: 'GET', path: '/' })) },
    accessLog: [{ time: 't', direction: 'inbound', pod: 'payment-0', status: status ?? 0, responseFlags: flags, durationMs: 1 }],
  };
}

function report(plane: string, evidences: readonly EvidenceReport[], outcome: 'passed' | 'failed' = 'passed'): ConformanceReport {
  return {
    apiVersion: 'meshproof.dev/v1alpha1',
    kind: 'ConformanceReport',
    tool: { name: 'meshproof', version: 't' },
    run: { id: `r-${plane}`, startedAt: '2026-12-04T10:00:00.000Z', finishedAt: '2026-12-04T10:00:01.000Z', durationMs: 1000, seed: 7, timeScale: 0.02, suites: ['mtls'], replayCommand: `./bin/meshproof run --dataplane ${plane} --seed 7`, host: { platform: 'linux', node: 'v24' }, incomplete: [] },
    dataPlane: { name: plane, version: '1', claimedFeatures: [], available: true },
    runtime: { kind: 'docker' },
    verdicts: [],
    areas: [],
    cases: [{ shortName: 'c1', description: '', area: 'mtls', features: [], manifests: [], outcome: { status: outcome, ...(outcome === 'failed' ? { message: 'x' } : {}) } as never, startedAt: '', durationMs: 1, checks: 1, evidence: evidences, metrics: [], findings: [] }],
    findings: [],
    tlsCheck: [],
    wire: [],
    authzMatrix: [{ source: 'plaintext', request: 'GET /', destination: 'payment-service:8080', expected: 'reject', observed: plane === 'envoy' ? 'allow' : 'reject', agrees: plane !== 'envoy' }],
    ruleCoverage: [],
    ejectionTimelines: [],
    experiments: [],
  };
}

describe('differential report: the same probes on several data planes', function () {
  it('lists a probe decided differently as a disagreement, one differing only in flags or alerts as a detail, and identical ones as neither', function () {
    const ref = report('reference', [evidence('GET / → a', 'response', 200, 1), evidence('GET / → b', 'reset', undefined, 0, 'NR'), evidence('TLS → c', 'tls-error', undefined, 0, '-', 'certificate required')]);
    const envoy = report('envoy', [evidence('GET / → a', 'response', 200, 1), evidence('GET / → b', 'response', 426, 0, '-'), evidence('TLS → c', 'tls-error', undefined, 0, '-', 'handshake failure')], 'failed');
    const d = buildDifferentialReport('r', [
      { report: ref, path: 'reference' },
      { report: envoy, path: 'envoy' },
    ]);
    expect(d.probesCompared).to.equal(4);
    expect(d.disagreements.map((x) => x.probe)).to.deep.equal(['GET / → b', 'plaintext GET / → payment-service:8080']);
    expect(d.disagreements[0]?.observed).to.deep.equal({ reference: 'rejected before HTTP; app saw nothing [reset; log: NR]', envoy: 'response 426; app saw nothing [log: -]' });
    expect(d.detailDifferences.map((x) => [x.probe, x.observed])).to.deep.equal([['TLS → c', { reference: 'tls-error; alert: certificate required; log: -', envoy: 'tls-error; alert: handshake failure; log: -' }]]);
    expect(d.cases).to.deep.equal([{ shortName: 'c1', area: 'mtls', outcomes: { reference: 'passed', envoy: 'failed' } }]);
    expect(d.run.replayCommand).to.equal('./bin/meshproof run --dataplane reference,envoy --seed 7');
    // Reference against Envoy: the kept known differences come with it (and only those).
    expect(d.knownDifferences.map((k) => k.id)).to.deep.equal(KNOWN_DIFFERENCES.filter((k) => k.status === 'kept').map((k) => k.id));
    expect(d.knownDifferences.length).to.be.greaterThan(0);
    expect(renderDifferentialHtml(d)).to.contain('id="known-differences"');
  });

  it('lists no known differences when reference and Envoy are not both compared', function () {
    const d = buildDifferentialReport('r', [
      { report: report('reference', [evidence('a', 'response', 200, 1)]), path: 'reference' },
      { report: report('other', [evidence('a', 'response', 200, 1)]), path: 'other' },
    ]);
    expect(d.knownDifferences).to.deep.equal([]);
    expect(renderDifferentialHtml(d)).to.not.contain('id="known-differences"');
  });

  it('reads a decision from both ends (answered and its status, or rejected; whether the app received it), and the rest as details', function () {
    const e = { ...evidence('x', 'response', 200, 1), server: { observed: true, received: [{ pod: 'p', method: 'GET', path: '/', peerIdentity: 'spiffe://cluster.local/ns/a/sa/b' }] } };
    expect(decisionOf(e)).to.equal('response 200; app received it');
    expect(detailsOf(e)).to.equal('app told: spiffe://cluster.local/ns/a/sa/b; log: -');
    // A reset and a TLS alert are the same decision (rejected before HTTP), different details.
    expect(decisionOf(evidence('y', 'reset', undefined, 0, 'NR'))).to.equal(decisionOf(evidence('z', 'tls-error', undefined, 0, '-', 'unknown ca')));
    expect(detailsOf(evidence('y', 'reset', undefined, 0, 'NR'))).to.equal('reset; log: NR');
  });
});
