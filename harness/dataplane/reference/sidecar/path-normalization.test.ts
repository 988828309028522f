import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalize, normalizePath, type PathNormalization } from './path-normalization.ts';

const MODES: readonly PathNormalization[] = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'];

/**
 * Istio's own expected outputs (tests/integration/security/normalization_test.go, as tabled in
 * istio-semantics.md §2): the path the backend receives, per mode. `same` = unchanged input.
 */
const ISTIO_TABLE: readonly [input: string, none: string, base: string, merge: string, decodeMerge: string][] = [
  ['/app#foo', '/app', '/app', '/app', '/app'],
  ['/app/../admin', 'same', '/admin', '/admin', '/admin'],
  ['/app//', 'same', '/app//', '/app/', '/app/'],
  ['/app/%2f', 'same', '/app/%2f', '/app/%2f', '/app/'],
  ['/app%2f/', 'same', '/app%2f/', '/app%2f/', '/app/'],
  ['/xyz%30..//abc', 'same', '/xyz0..//abc', '/xyz0../abc', '/xyz0../abc'],
  ['/app/%2E./admin', 'same', '/admin', '/admin', '/admin'],
  ['/app\\admin', 'same', '/app/admin', '/app/admin', '/app/admin'],
  ['/app/\\/\\/\\admin', 'same', '/app//////admin', '/app/admin', '/app/admin'],
  ['/%2Fapp%5cadmin%5Cabc', 'same', 'same', 'same', '/app/admin/abc'],
  ['/app//../admin', 'same', '/app/admin', '/app/admin', '/app/admin'],
  ['/app//../../admin', 'same', '/admin', '/admin', '/admin'],
];

/** Istio's "NotNormalized" group: unchanged under DECODE_AND_MERGE_SLASHES (and so under the weaker modes). */
const NOT_NORMALIZED = ['/..;/admin', '/;/admin', '/admin;a=b', '/.../admin', '/%252e%252e/admin', '/%c0%ae%c0%ae/admin', '/Admin', '/ADMIN'];

describe('path normalization (Envoy under Istio pathNormalization)', function () {
  describe("Istio's normalization table", function () {
    for (const [input, ...expected] of ISTIO_TABLE) {
      MODES.forEach((mode, i) => {
        const want = expected[i] === 'same' ? input : expected[i]!;
        it(`${mode}: ${input} → ${want}`, function () {
          const result = normalizePath(input, mode);
          expect(result).to.deep.include({ ok: true, path: want, urlPath: want });
        });
      });
    }
    it('DECODE_AND_MERGE_SLASHES: /%c0%2fadmin → /%c0/admin', function () {
      expect(normalizePath('/%c0%2fadmin', 'DECODE_AND_MERGE_SLASHES')).to.deep.include({ path: '/%c0/admin' });
    });
    for (const input of NOT_NORMALIZED) {
      it(`DECODE_AND_MERGE_SLASHES leaves ${input} alone`, function () {
        expect(normalizePath(input, 'DECODE_AND_MERGE_SLASHES')).to.deep.include({ ok: true, path: input });
      });
    }
  });

  describe('%00', function () {
    for (const mode of MODES) {
      it(`${mode}: /admin%00 is rejected (400)`, function () {
        expect(normalizePath('/admin%00', mode).ok).to.equal(false);
      });
    }
    it('is not looked for in the query, which is not normalized', function () {
      expect(normalizePath('/a?x=%00', 'BASE')).to.deep.include({ ok: true, path: '/a?x=%00' });
    });
  });

  describe('query and fragment', function () {
    it('keeps the query for the app and leaves it out of the matched path', function () {
      expect(normalizePath('/pay/./1?amount=%2e5&x=/../y', 'BASE')).to.deep.equal({ ok: true, path: '/pay/1?amount=%2e5&x=/../y', urlPath: '/pay/1' });
    });
    it('strips a fragment even after a query', function () {
      expect(normalizePath('/a?b=1#frag', 'NONE')).to.deep.equal({ ok: true, path: '/a?b=1', urlPath: '/a' });
    });
  });

  describe('BASE details', function () {
    it('decodes each unreserved escape once (no double decoding) and keeps others as written', function () {
      expect(normalizePath('/%61%62%63/%2D%5f%7E/%25%32%65', 'BASE')).to.deep.include({ path: '/abc/-_~/%252e' });
      expect(normalizePath('/a%20b/%3F', 'BASE')).to.deep.include({ path: '/a%20b/%3F' });
    });
    it('resolves dot segments at the ends and never climbs above the root', function () {
      expect(normalizePath('/a/b/..', 'BASE')).to.deep.include({ path: '/a/' });
      expect(normalizePath('/a/./', 'BASE')).to.deep.include({ path: '/a/' });
      expect(normalizePath('/../../x', 'BASE')).to.deep.include({ path: '/x' });
      expect(normalizePath('/public/./data/abc/../xyz', 'BASE')).to.deep.include({ path: '/public/data/xyz' });
    });
    it('percent-encodes characters a path may not hold', function () {
      expect(normalizePath('/a"<b>`', 'BASE')).to.deep.include({ path: '/a%22%3Cb%3E%60' });
    });
    it('does not change case', function () {
      expect(normalizePath('/Admin/%2e%2E/ADMIN', 'BASE')).to.deep.include({ path: '/ADMIN' });
    });
  });

  it('skips the canonicalizer only for paths it would leave as they are (property test)', function () {
    const piece = fc.constantFrom('/', '.', '..', 'a', 'Z', '9', '-', '_', '~', '%', '2e', '2F', '41', '\\', '"', ';', '=', '*', ':', '@', '`', ' ', 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const path = `/${parts.join('')}`;
        const result = normalizePath(path, 'BASE');
        if (path.includes('%00')) return !result.ok;
        return result.ok && result.urlPath === canonicalize(path);
      }),
      { numRuns: 5000, seed: 42 },
    );
  });
});
