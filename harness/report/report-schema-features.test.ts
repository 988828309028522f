/**
 * report.schema.json names every Feature a data plane may claim: a feature added to features.ts
 * without the schema made every report of a data plane claiming it invalid (the reference sidecar
 * claims observability.istio-metrics).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ALL_FEATURES } from '../spec/features.ts';
import { REPORT_SCHEMA_PATH } from './report-validator.ts';

describe('report.schema.json and the features', function () {
  it('lists exactly the features of features.ts', function () {
    const schema = JSON.parse(readFileSync(REPORT_SCHEMA_PATH, 'utf8')) as { $defs: { feature: { enum: string[] } } };
    expect([...schema.$defs.feature.enum].sort()).to.deep.equal([...ALL_FEATURES].sort());
  });
});

describe('report.schema.json and access-log lines', function () {
  it('an Envoy log line with fields beyond AccessLogEntry, and an AUDIT hint, is valid once sanitized', async function () {
    const { sanitizeEvidence } = await import('./sanitize-evidence.ts');
    const { validateDefinition } = await import('./report-validator.ts');
    const { syntheticRun } = await import('./testdata/synthetic-run.ts');
    const synthetic = await syntheticRun();
    const evidence = synthetic.results.flatMap((r) => r.evidence).find((e) => (e.accessLog ?? []).length > 0)!;
    const line = { ...evidence.accessLog![0]!, upstreamCluster: 'outbound|80||payment-service.prod-namespace.svc.cluster.local', connectionTerminationDetails: 'x', auditHint: true };
    const report = sanitizeEvidence({ ...evidence, accessLog: [line] });
    expect(validateDefinition('evidence', report)).to.deep.equal([]);
    expect(report.accessLog[0]).to.include({ auditHint: true }).and.not.have.property('upstreamCluster');
  });
});
