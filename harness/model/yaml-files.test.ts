import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isMeshproofError } from '../errors.ts';
import { LineCounter, parseAllDocuments } from 'yaml';
import { DocumentSource } from './source-map.ts';
import { listYamlFiles, readYamlText, splitDocuments } from './yaml-files.ts';

/** What reading the text as one parse gives: each document's data, first line and a nested field's location, and the errors. */
function wholeParse(text: string): unknown {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  return {
    documents: list.filter((d) => d.errors.length === 0 && d.toJS() !== null).map((d) => {
      const source = new DocumentSource('f.yaml', d, lines);
      return { data: d.toJS() as unknown, line: source.startLine, at: source.locate(['spec', 'x']) };
    }),
    errors: list.flatMap((d) => d.errors.map((e) => lines.linePos(e.pos[0]).line)),
  };
}

function pieceParse(text: string): unknown {
  const read = readYamlText('f.yaml', text);
  return {
    documents: read.documents.map((d) => ({ data: d.data, line: d.source.startLine, at: d.source.locate(['spec', 'x']) })),
    errors: read.issues.map((i) => i.location.line),
  };
}

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

  it('reads each document on its own and gives what one parse of the whole file gives (data, lines, errors)', function () {
    const texts = [
      '# a comment first\n---\nkind: A\nspec:\n  x: 1\n---\nkind: B\nspec: {x: 2}\n',
      'kind: A\n---\n---\nkind: B\nspec:\n  x: [1,\n    2]\n--- {kind: C, spec: {x: 3}}\n',
      'kind: A\r\n---\r\nkind: B\r\nspec:\r\n  x: 2\r\n',
      'kind: A\nspec:\n  x: |\n    text\n    --- not a marker\n---\nkind: B\n  bad: indent\n---\nkind: C\nspec:\n  x: ok\n',
      '%YAML 1.2\n---\nkind: A\n...\n---\nkind: B\nspec: {x: 1}\n',
      '---\nkind: A\nkind: A\n---\nkind: B\nspec: {x: 1}\n',
    ];
    for (const text of texts) expect(pieceParse(text), JSON.stringify(text)).to.deep.equal(wholeParse(text));
  });

  it('ends an unterminated quoted scalar at the next marker, as YAML 1.2 says (one parse runs on to the end of the file)', function () {
    const read = readYamlText('f.yaml', 'a: "quoted\n---\nb: 1\n');
    expect(read.issues.map((i) => i.location.line)).to.deep.equal([2]);
    expect(read.documents.map((d) => d.data)).to.deep.equal([{ b: 1 }]);
  });

  it('cuts only at markers that start a line, and keeps text with directives whole', function () {
    expect(splitDocuments('a: 1\n---\nb: ---\n--- x\n').map((p) => p.line)).to.deep.equal([0, 1, 3]);
    expect(splitDocuments('%YAML 1.2\n---\na: 1\n---\nb: 2\n')).to.have.length(1);
  });
});
