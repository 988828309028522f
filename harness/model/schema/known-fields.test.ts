import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { KNOWN_FIELDS_FILE, closestName, extractFieldTree, findUnknownFields, generateKnownFields } from './known-fields.ts';

describe('known fields (derived from @kubernetes-models/istio declarations)', function () {
  it('the committed tree matches the installed package (regenerate with --write when this fails)', function () {
    expect(JSON.parse(readFileSync(KNOWN_FIELDS_FILE, 'utf8'))).to.deep.equal(generateKnownFields());
  });

  it('merges oneOf variants, keeps maps as *, and finds unknown fields by path', function () {
    const tree = extractFieldTree(`export interface IX {
      "spec"?: { "a"?: { "exact": string; "prefix"?: string; } | { "exact"?: string; "regex": string; };
        "labels"?: { [key: string]: string; }; "list"?: Array<{ "k"?: number; }>; };
    }`);
    expect(tree).to.deep.equal({ spec: { a: { exact: 1, prefix: 1, regex: 1 }, labels: { '*': 1 }, list: { k: 1 } } });
    const unknown = findUnknownFields({ spec: { a: { exat: 'x' }, labels: { any: 'v' }, list: [{ k: 1 }, { kk: 2 }] } }, tree);
    expect(unknown.map((u) => u.path)).to.deep.equal([['spec', 'a', 'exat'], ['spec', 'list', 1, 'kk']]);
    expect(closestName('exat', ['exact', 'prefix', 'regex'])).to.equal('exact');
    expect(closestName('zzzzzz', ['exact'])).to.equal(undefined);
  });
});
