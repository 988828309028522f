/**
 * Concrete values that match, or just miss, one AuthorizationPolicy value pattern. Used by the
 * probe generator to build boundary requests.
 */

/** A value that the pattern matches (`abc` exact, `abc*` prefix, `*abc` suffix, `*` any, templates). */
export function sampleFor(pattern: string, filler: string): string {
  if (pattern === '*') return filler;
  if (pattern.includes('{*}') || pattern.includes('{**}')) return pattern.replace(/\{\*\*\}/g, `${filler}/${filler}`).replace(/\{\*\}/g, filler);
  if (pattern.startsWith('*')) return `${filler}${pattern.slice(1)}`;
  if (pattern.endsWith('*')) return `${pattern.slice(0, -1)}${filler}`;
  return pattern;
}

/** A path that just misses `pattern`: one character outside its boundary. */
export function pathMiss(pattern: string): string {
  if (pattern === '*') return ''; // only the empty path misses '*', and HTTP has none: no miss exists
  if (pattern.includes('{')) return pattern.replace(/\/\{\*\*?\}.*$/, '') + '-miss';
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    // `/pay/*` → `/pay`: the closest path outside the prefix.
    return prefix.endsWith('/') && prefix.length > 1 ? prefix.slice(0, -1) : `${prefix.slice(0, -1)}~`;
  }
  if (pattern.startsWith('*')) return `/probe${pattern.slice(1)}-miss`;
  return pattern.endsWith('/') ? pattern.slice(0, -1) || '/x' : `${pattern}/`;
}

/** A method the pattern does not match, avoiding `others` (the field's other values). */
export function methodMiss(pattern: string, others: readonly string[]): string | undefined {
  const candidates = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
  return candidates.find((m) => !matchesAny(m, [pattern, ...others]));
}

/** Would any of these patterns match `value` (stringMatcher rules, no templates)? */
export function matchesAny(value: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    if (p === '*') return value.length > 0;
    if (p.startsWith('*')) return value.endsWith(p.slice(1));
    if (p.endsWith('*')) return value.startsWith(p.slice(0, -1));
    return value === p;
  });
}

/** The first address of an IP or CIDR block. */
export function addressIn(block: string): string {
  return block.split('/')[0] ?? block;
}
