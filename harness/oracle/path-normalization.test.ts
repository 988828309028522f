import { expect } from 'chai';
import type { PathNormalization } from '../model/mesh-config.ts';
import { normalizePath } from './path-normalization.ts';

/**
 * Istio's own expected outputs (tests/integration/security/normalization_test.go, reproduced in
 * istio-semantics.md §2): input → path the backend receives, per normalization option.
 * `same` = unchanged; undefined = the reference gives no expectation for that option.
 */
const same = Symbol('same');
type Want = string | typeof same | undefined;
const table: [string, Want, Want, Want, Want][] = [
  //  input                      NONE   BASE                 MERGE_SLASHES     DECODE_AND_MERGE_SLASHES
  ['/app#foo', '/app', '/app', '/app', '/app'],
  ['/app/../admin', same, '/admin', '/admin', '/admin'],
  ['/app//', same, '/app//', '/app/', '/app/'],
  ['/app/%2f', same, '/app/%2f', '/app/%2f', '/app/'],
  ['/app%2f/', same, '/app%2f/', '/app%2f/', '/app/'],
  ['/xyz%30..//abc', same, '/xyz0..//abc', '/xyz0../abc', '/xyz0../abc'],
  ['/app/%2E./admin', same, '/admin', '/admin', '/admin'],
  ['/app\\admin', same, '/app/admin', '/app/admin', '/app/admin'],
  ['/app/\\/\\/\\admin', same, '/app//////admin', '/app/admin', '/app/admin'],
  ['/%2Fapp%5cadmin%5Cabc', same, same, same, '/app/admin/abc'],
  ['/app//../admin', same, '/app/admin', '/app/admin', '/app/admin'],
  ['/app//../../admin', same, '/admin', '/admin', '/admin'],
  ['/%c0%2fadmin', undefined, undefined, undefined, '/%c0/admin'],
];
const modes: PathNormalization[] = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'];

/** The "NotNormalized" group: unchanged even under DECODE_AND_MERGE_SLASHES. */
const notNormalized = ['/..;/admin', '/;/admin', '/admin;a=b', '/.../admin', '/%252e%252e/admin', '/%c0%ae%c0%ae/admin', '/Admin', '/ADMIN'];

describe('path normalization (Istio normalization_test.go table)', function () {
  for (const [input, ...wants] of table) {
    modes.forEach((mode, i) => {
      const want = wants[i];
      if (want === undefined) return;
      const expected = want === same ? input : want;
      it(`${mode}: ${input} → ${expected}`, function () {
        const r = normalizePath(input, mode);
        expect(r.ok).to.equal(true);
        if (r.ok) expect(r.forwarded).to.equal(expected);
      });
    });
  }
  for (const input of notNormalized) {
    it(`DECODE_AND_MERGE_SLASHES leaves ${input} unchanged`, function () {
      const r = normalizePath(input, 'DECODE_AND_MERGE_SLASHES');
      expect(r.ok && r.forwarded).to.equal(input);
    });
  }
  for (const mode of modes) {
    it(`${mode}: /admin%00 → 400`, function () {
      expect(normalizePath('/admin%00', mode)).to.deep.include({ ok: false, status: 400 });
    });
  }
  it('keeps the query for forwarding and drops it for matching', function () {
    expect(normalizePath('/a/./b?x=/../y#f', 'BASE')).to.deep.equal({ ok: true, urlPath: '/a/b', forwarded: '/a/b?x=/../y' });
  });
});
