/**
 * Request path normalization as Envoy's HTTP connection manager does it under Istio's
 * `meshConfig.pathNormalization` (istio-semantics.md §2 "Path normalization"; Istio's
 * authorization normalization reference; Envoy `ConnectionManagerUtility::maybeNormalizePath`).
 *
 * Order, as Envoy applies it:
 * 1. the fragment (`#…`) is stripped (CVE-2021-39156), in every mode;
 * 2. `%00` in the path is rejected with 400 — "always", per Istio's normalization reference;
 * 3. DECODE_AND_MERGE_SLASHES: `%2F`/`%2f` → `/` and `%5C`/`%5c` → `\` (path_with_escaped_slashes_action
 *    UNESCAPE_AND_FORWARD), before anything else;
 * 4. BASE and above (normalize_path): one pass of decoding the unreserved characters
 *    (`%2d %2e %30-%39 %41-%5a %5f %61-%7a %7e`, no double decoding), `\` → `/`, RFC 3986 dot
 *    segments; characters a URL path may not hold are percent-encoded (Chromium's canonicalizer,
 *    which Envoy uses: controls, space, `"`, `<`, `>`, `` ` ``, DEL and non-ASCII bytes) [derived];
 * 5. MERGE_SLASHES and DECODE_AND_MERGE_SLASHES: runs of `/` become one.
 * Only the part before `?` is normalized; the query is kept and forwarded. No case change.
 */

export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

export type NormalizedPath =
  | {
      readonly ok: true;
      /** What is forwarded to the app: the normalized path plus the original query. */
      readonly path: string;
      /** What `paths`/`notPaths` match (Envoy's url_path): the normalized path without the query. */
      readonly urlPath: string;
    }
  | { readonly ok: false; readonly reason: string };

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** A path BASE leaves as it is: no escapes, no backslash, nothing to escape, no dot segments. */
const ALREADY_CANONICAL = /^\/(?:[A-Za-z0-9\-_~!$&'()*+,;=:@]|\.(?![./]|$)|\/(?!\.(?:\.?)(?:\/|$)))*$/;

export function normalizePath(target: string, mode: PathNormalization): NormalizedPath {
  const hash = target.indexOf('#');
  const noFragment = hash < 0 ? target : target.slice(0, hash);
  const question = noFragment.indexOf('?');
  let path = question < 0 ? noFragment : noFragment.slice(0, question);
  const query = question < 0 ? '' : noFragment.slice(question);
  if (/%00/.test(path)) return { ok: false, reason: 'path contains %00' };
  if (mode === 'DECODE_AND_MERGE_SLASHES') path = path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
  if (mode !== 'NONE' && !ALREADY_CANONICAL.test(path)) path = canonicalize(path);
  if (mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES') path = path.replace(/\/{2,}/g, '/');
  return { ok: true, path: path + query, urlPath: path };
}

/** Decodes unreserved escapes once, turns `\` into `/`, escapes what a path may not hold, resolves dot segments. */
export function canonicalize(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '%' && i + 2 < path.length && /^[0-9a-fA-F]{2}$/.test(path.slice(i + 1, i + 3))) {
      const decoded = String.fromCharCode(parseInt(path.slice(i + 1, i + 3), 16));
      out += UNRESERVED.test(decoded) ? decoded : path.slice(i, i + 3);
      i += 2;
      continue;
    }
    if (c === '\\') {
      out += '/';
      continue;
    }
    const code = c.charCodeAt(0);
    if (code <= 0x20 || code >= 0x7f || c === '"' || c === '<' || c === '>' || c === '`') {
      out += `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
      continue;
    }
    out += c;
  }
  return removeDotSegments(out.startsWith('/') ? out : `/${out}`);
}

/** RFC 3986 §5.2.4 for an absolute path. */
export function removeDotSegments(path: string): string {
  const segments = path.split('/').slice(1);
  const out: string[] = [];
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '.') {
      if (last) out.push('');
    } else if (segment === '..') {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  });
  return `/${out.join('/')}`;
}
