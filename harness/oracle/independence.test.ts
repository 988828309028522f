/**
 * DESIGN.md: the oracle and the data plane are two independent readings of the spec. Neither
 * may import the other, and the shared model must not import the oracle.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

function tsFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? '');
}

function offenders(dir: string, forbidden: RegExp): string[] {
  return tsFiles(dir).flatMap((file) => importsOf(file).filter((spec) => forbidden.test(join(file, '..', spec)) || forbidden.test(spec)).map((spec) => `${relative('.', file)} imports ${spec}`));
}

describe('independence of oracle and data plane', function () {
  it('harness/oracle imports nothing from harness/dataplane', function () {
    expect(offenders('harness/oracle', /harness\/dataplane\//)).to.deep.equal([]);
  });
  it('harness/dataplane imports nothing from harness/oracle, nor the barrel that re-exports it', function () {
    expect(offenders('harness/dataplane', /harness\/oracle\/|harness\/index\.ts$/)).to.deep.equal([]);
  });
  it('harness/model imports nothing from harness/oracle or harness/dataplane', function () {
    expect(offenders('harness/model', /harness\/(oracle|dataplane)\//)).to.deep.equal([]);
  });
  it('the check can fail: it sees an oracle import in a file that has one', function () {
    expect(offenders('harness/cli/commands', /harness\/oracle\//).length).to.be.greaterThan(0);
  });
});
