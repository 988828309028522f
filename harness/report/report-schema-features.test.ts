/**
 * report.schema.json names every Feature a data plane may claim: a feature added to features.ts
 * without the schema made every report of a data plane claiming it invalid (the reference sidecar
 * claims observability.istio-metrics).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ALL_FEATURES } from '../conformance/features.ts';
import { REPORT_SCHEMA_PATH } from './report-validator.ts';

describe('report.schema.json and the features', function () {
  it('lists exactly the features of features.ts', function () {
    const schema = JSON.parse(readFileSync(REPORT_SCHEMA_PATH, 'utf8')) as { $defs: { feature: { enum: string[] } } };
    expect([...schema.$defs.feature.enum].sort()).to.deep.equal([...ALL_FEATURES].sort());
  });
});
