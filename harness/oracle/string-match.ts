/**
 * Istio's value matching, as the oracle reads it (istio-semantics.md §2 "Value matching";
 * istiod matcher/string.go and header.go): `abc` exact, `abc*` prefix, `*abc` suffix, `*` any
 * non-empty value (for headers: present). Matching is case-sensitive except for hosts.
 */

export type StringTest = (value: string | undefined) => boolean;

/** A policy value compiled to a test. `prefix` is prepended to the pattern (e.g. `spiffe://`). */
export function stringMatcher(pattern: string, options: { prefix?: string; ignoreCase?: boolean } = {}): StringTest {
  const prefix = options.prefix ?? '';
  if (options.ignoreCase !== true) return caseSensitive(pattern, prefix);
  const fold = options.ignoreCase === true ? (s: string) => s.toLowerCase() : (s: string) => s;
  if (pattern === '*') return (v) => v !== undefined && v.length > 0;
  if (pattern.startsWith('*')) {
    // istiod: with a prefix this is the regex `<prefix>.*<suffix>`; without, a plain suffix match.
    const suffix = fold(pattern.slice(1));
    const p = fold(prefix);
    return (v) => {
      if (v === undefined) return false;
      const s = fold(v);
      return s.startsWith(p) && s.length - p.length >= suffix.length && s.endsWith(suffix);
    };
  }
  if (pattern.endsWith('*')) {
    const start = fold(prefix + pattern.slice(0, -1));
    return (v) => v !== undefined && fold(v).startsWith(start);
  }
  const exact = fold(prefix + pattern);
  return (v) => v !== undefined && fold(v) === exact;
}

function caseSensitive(pattern: string, prefix: string): StringTest {
  if (pattern === '*') return (v) => v !== undefined && v.length > 0;
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    const min = prefix.length + suffix.length;
    return (v) => v !== undefined && v.length >= min && v.startsWith(prefix) && v.endsWith(suffix);
  }
  if (pattern.endsWith('*')) {
    const start = prefix + pattern.slice(0, -1);
    return (v) => v !== undefined && v.startsWith(start);
  }
  const exact = prefix + pattern;
  return (v) => v === exact;
}

/** Header values (`:method`, `request.headers[x]`): like stringMatcher, but `*` means "present". */
export function headerMatcher(pattern: string, options: { ignoreCase?: boolean } = {}): StringTest {
  if (pattern === '*') return (v) => v !== undefined;
  return stringMatcher(pattern, options);
}

/** Envoy uri_template character classes: one segment for `{*}`, any number for `{**}`. [derived] */
const SEGMENT = "[a-zA-Z0-9\\-._~%!$&'()+,;:@=]";

export function isPathTemplate(pattern: string): boolean {
  return pattern.includes('{*}') || pattern.includes('{**}');
}

/**
 * `paths` values: templates (`/a/{*}/b`, `/a/{**}`), else stringMatcher. Reading chosen for
 * templates [derived from Envoy's uri_template]: `{*}` is one non-empty segment; `{**}` is zero or
 * more characters that may include `/`.
 */
export function pathMatcher(pattern: string): StringTest {
  if (!isPathTemplate(pattern)) return stringMatcher(pattern);
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment === '{*}') return `${SEGMENT}+`;
      if (segment === '{**}') return `(?:${SEGMENT}|/)*`;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  const re = new RegExp(`^${source}$`);
  return (v) => v !== undefined && re.test(v);
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
