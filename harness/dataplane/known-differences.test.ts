import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../project-root.ts';
import { KNOWN_DIFFERENCES } from './known-differences.ts';

describe('known differences between the reference sidecar and Envoy', function () {
  it('has unique ids, and says for each what both do and why it is kept or how it is held', function () {
    expect(new Set(KNOWN_DIFFERENCES.map((k) => k.id)).size).to.equal(KNOWN_DIFFERENCES.length);
    for (const k of KNOWN_DIFFERENCES) {
      for (const field of [k.situation, k.envoy, k.reference, k.note]) expect(field.trim(), k.id).to.not.equal('');
    }
  });

  it("is the README's table: every entry is in it by id, with its status", function () {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    for (const k of KNOWN_DIFFERENCES) {
      const row = readme.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${k.id}\``));
      expect(row, `README row for ${k.id}`).to.not.equal(undefined);
      expect(row, k.id).to.contain(k.status);
    }
  });
});
