/**
 * What the server sidecar does to a request path before authorization, per the mesh's
 * `pathNormalization` (istio-semantics.md §2 "Path normalization"; Envoy HCM normalize_path,
 * merge_slashes, path_with_escaped_slashes_action). The normalized path is both what
 * AuthorizationPolicy `paths` see and what the app receives.
 *
 * Order, as Envoy applies it: reject `%00`; strip the fragment; (DECODE_AND_MERGE_SLASHES)
 * decode %2F %5C; (BASE and up) decode unreserved escapes once, `\` → `/`, resolve `.`/`..`;
 * (MERGE_SLASHES and up) merge `//`. The query is kept for forwarding and ignored for matching.
 * No case folding, no double decoding.
 */
import type { PathNormalization } from '../model/mesh-config.ts';

export type NormalizedPath =
  | {
      readonly ok: true;
      /** What authorization matches (`url_path`): normalized, without query or fragment. */
      readonly urlPath: string;
      /** What the app receives: normalized path plus the original query. */
      readonly forwarded: string;
    }
  | { readonly ok: false; readonly status: 400; readonly reason: string };

/** %2d %2e %30-%39 %41-%5a %5f %61-%7a %7e: the unreserved characters Envoy decodes. */
function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9a-fA-F]{2})/g, (whole, hex: string) => {
    const code = Number.parseInt(hex, 16);
    const unreserved =
      code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e || (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
    return unreserved ? String.fromCharCode(code) : whole;
  });
}

/** RFC 3986 §5.2.4 remove_dot_segments. */
export function removeDotSegments(path: string): string {
  let input = path;
  const output: string[] = [];
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      output.pop();
    } else if (input === '/..') {
      input = '/';
      output.pop();
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const segment = next === -1 ? input : input.slice(0, next);
      output.push(segment);
      input = next === -1 ? '' : input.slice(next);
    }
  }
  return output.join('');
}

export function normalizePath(raw: string, mode: PathNormalization): NormalizedPath {
  if (raw.includes('%00') || raw.includes('\0')) return { ok: false, status: 400, reason: 'the path contains %00, which Envoy always rejects' };
  const hash = raw.indexOf('#');
  const noFragment = hash === -1 ? raw : raw.slice(0, hash);
  const q = noFragment.indexOf('?');
  let path = q === -1 ? noFragment : noFragment.slice(0, q);
  const query = q === -1 ? '' : noFragment.slice(q);
  if (mode === 'DECODE_AND_MERGE_SLASHES') path = path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
  if (mode !== 'NONE') {
    if (path.includes('%')) path = decodeUnreserved(path);
    if (path.includes('\\')) path = path.replace(/\\/g, '/');
    if (path.includes('.')) path = removeDotSegments(path);
    if (path === '') path = '/';
  }
  if ((mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES') && path.includes('//')) path = path.replace(/\/{2,}/g, '/');
  return { ok: true, urlPath: path, forwarded: path + query };
}
