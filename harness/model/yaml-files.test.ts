import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isMeshproofError } from '../errors.ts';
import { listYamlFiles, readYamlText } from './yaml-files.ts';

describe('YAML files of a policy folder', function () {
  it('follows a symlinked folder, reads a file reached twice once, and refuses a loop', function () {
    const root = mkdtempSync(join(tmpdir(), 'yaml-files-'));
    const shared = mkdtempSync(join(tmpdir(), 'yaml-shared-'));
    writeFileSync(join(shared, 'policy.yaml'), 'a: 1\n');
    writeFileSync(join(root, 'own.yml'), 'b: 1\n');
    symlinkSync(shared, join(root, 'linked'));
    symlinkSync(shared, join(root, 'linked-again'));
    expect(listYamlFiles([root])).to.deep.equal([join(root, 'linked', 'policy.yaml'), join(root, 'own.yml')]);
    mkdirSync(join(root, 'deeper'));
    symlinkSync(root, join(root, 'deeper', 'up'));
    try {
      listYamlFiles([root]);
      expect.fail('a loop was walked');
    } catch (error) {
      expect(isMeshproofError(error, 'MESHPROOF_ERR_FILE_NOT_FOUND')).to.equal(true);
      expect((error as Error).message).to.contain('symlink loop');
    }
  });

  it('turns an alias bomb into an error issue at its file and line, and keeps the documents before it', function () {
    const bomb = ['kind: A', '---', 'a: &a [1,1,1,1,1,1,1,1,1,1,1]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]'].join('\n');
    const read = readYamlText('bomb.yaml', bomb);
    expect(read.documents.map((d) => d.data)).to.deep.equal([{ kind: 'A' }]);
    expect(read.issues).to.have.length(1);
    expect(read.issues[0]).to.deep.include({ severity: 'error', location: { file: 'bomb.yaml', line: 2 } });
    expect(read.issues[0]!.message).to.contain('YAML aliases expand past 100 references');
  });
});
