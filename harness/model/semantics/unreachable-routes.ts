/**
 * The warnings Istio gives for VirtualService rules that can never be used (validation.go
 * analyzeUnreachableHTTPRules / TCP / TLS, coveredValidation): a rule after a rule without
 * matches, a rule whose every match an earlier rule already has, and a URI-prefix match that an
 * earlier, shorter prefix with the same other conditions covers.
 */
import type { HttpMatchRequest, HttpRoute, StringMatch, TcpRoute, TlsRoute } from '../resources.ts';
import type { IssueCollector } from './checks.ts';

/** A match as a canonical string: keys sorted, unset and zero values dropped (Go's omitempty), `name` ignored. */
function canonical(value: unknown, dropName: boolean): string {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(strip);
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([k]) => !(dropName && k === 'name'))
        .map(([k, x]) => [k, strip(x)] as const)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return entries.length === 0 ? undefined : Object.fromEntries(entries);
    }
    return v === null || v === 0 || v === '' || v === false ? undefined : v;
  };
  return JSON.stringify(strip(value) ?? {});
}

interface PrefixMatch {
  readonly rule: number;
  readonly match: number;
  readonly routeName: string;
  readonly matchName: string;
  readonly prefix: string;
  readonly port: number;
  readonly method: string;
  readonly authority: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly queryParams: ReadonlyMap<string, string>;
  readonly withoutHeaders: ReadonlyMap<string, string>;
}

const exactOrPrefix = (sm: StringMatch | undefined | null): string => (sm?.exact ? `exact:${sm.exact}` : sm?.prefix ? `prefix:${sm.prefix}` : '');
const toMap = (m: Readonly<Record<string, StringMatch>> | undefined): Map<string, string> => new Map(Object.entries(m ?? {}).map(([k, v]) => [k, exactOrPrefix(v)]));

function prefixMatch(route: HttpRoute, match: HttpMatchRequest, rule: number, index: number): PrefixMatch | undefined {
  const prefix = match.uri?.prefix;
  if (prefix === undefined || prefix === '') return undefined;
  return {
    rule,
    match: index,
    routeName: routeName(route, rule),
    matchName: match.name ? JSON.stringify(match.name) : `#${index}`,
    prefix,
    port: match.port ?? 0,
    method: exactOrPrefix(match.method) || 'exact:GET',
    authority: exactOrPrefix(match.authority),
    headers: toMap(match.headers),
    queryParams: toMap(match.queryParams),
    withoutHeaders: toMap(match.withoutHeaders),
  };
}

/** coveredValidation: does `a` (earlier) catch every request `b` (later) would? As Istio decides it. */
function covers(a: PrefixMatch, b: PrefixMatch): boolean {
  if (!b.prefix.startsWith(a.prefix) || a.port !== b.port) return false;
  if (a.method !== b.method && !a.method.startsWith(b.method)) return false;
  if (a.authority !== b.authority && !a.authority.startsWith(b.authority)) return false;
  for (const field of ['headers', 'queryParams', 'withoutHeaders'] as const) {
    if (a[field].size !== b[field].size) return false;
    for (const [key, value] of a[field]) {
      const other = b[field].get(key);
      if (other === undefined || (value !== other && !value.startsWith(other))) return false;
    }
  }
  return true;
}

const routeName = (route: { readonly name?: string } | null, n: number): string => (route?.name ? JSON.stringify(route.name) : `#${n}`);

export function warnUnreachableRoutes(c: IssueCollector, kind: 'http' | 'tcp' | 'tls', routes: readonly (HttpRoute | TcpRoute | TlsRoute | null)[] | undefined): void {
  const seen = new Map<string, number>();
  let emptyMatchAt = -1;
  const prefixes: PrefixMatch[] = [];
  (routes ?? []).forEach((route, rule) => {
    if (route === null || typeof route !== 'object') return;
    const at = ['spec', kind, rule];
    const name = kind === 'http' ? routeName(route as HttpRoute, rule) : `#${rule}`;
    const unused = (reason: string): void => c.warning(at, `virtualService rule ${name} not used (${reason})`);
    const matches = route.match ?? [];
    if (matches.length === 0) {
      if (emptyMatchAt >= 0) unused('only the last rule can have no matches');
      emptyMatchAt = rule;
      return;
    }
    if (emptyMatchAt >= 0) return unused('route without matches defined before');
    let duplicates = 0;
    matches.forEach((match, m) => {
      const key = canonical(match, kind === 'http');
      const first = seen.get(key);
      if (first !== undefined) {
        const matchName = kind === 'http' && (match as HttpMatchRequest | null)?.name ? JSON.stringify((match as HttpMatchRequest).name) : `#${m}`;
        const firstName = kind === 'http' ? routeName(((routes ?? [])[first] ?? null) as HttpRoute | null, first) : `#${first}`;
        c.warning([...at, 'match', m], `virtualService rule ${name} match ${matchName} is not used (duplicate/overlapping match in rule ${firstName})`);
        duplicates++;
        return;
      }
      seen.set(key, rule);
      if (kind === 'http' && match !== null) {
        const p = prefixMatch(route as HttpRoute, match as HttpMatchRequest, rule, m);
        if (p !== undefined) prefixes.push(p);
      }
    });
    if (duplicates === matches.length) unused('all matches used by prior rules');
  });
  prefixes.forEach((a, i) => {
    for (const b of prefixes.slice(i + 1)) {
      if (a.prefix === b.prefix || !covers(a, b)) continue;
      c.warning(['spec', kind, b.rule, 'match', b.match], `virtualService rule ${b.routeName} match ${b.matchName} of prefix ${b.prefix} is not used (duplicate/overlapping match in rule ${a.matchName} of prefix ${a.prefix} on ${a.routeName})`);
    }
  });
}
