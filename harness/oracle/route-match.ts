/**
 * Which VirtualService HTTP route a request takes at the client sidecar: the first route with no
 * `match`, or with a match entry whose conditions all hold (entries OR, conditions AND), as istiod
 * translates them (route.go translateRouteMatch): uri, method, authority and scheme; headers (a
 * regex of `*` means "present"); withoutHeaders (inverted, a missing header counting as empty);
 * queryParams; port; sourceNamespace and sourceLabels of the caller; and per-match `gateways`
 * (a match naming gateways applies to sidecars only if one of them is `mesh`).
 */
import type { HttpMatchRequest, HttpRoute, StringMatch } from '../model/resources.ts';

export interface RouteRequest {
  readonly method?: string;
  /** Path without query. */
  readonly path?: string;
  readonly authority?: string;
  /** Lower-case header names. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The service port called. */
  readonly port?: number;
  /** Query parameters (first value of each). */
  readonly query?: Readonly<Record<string, string>>;
  /** Default `http`. */
  readonly scheme?: string;
  /** The caller's namespace and workload labels, when known. */
  readonly sourceNamespace?: string;
  readonly sourceLabels?: Readonly<Record<string, string>>;
}

/** `*` as a regex is not RE2: istiod turns it into a present match. */
const isPresentMatch = (m: StringMatch | null | undefined): boolean => m === undefined || m === null || (m.exact === undefined && m.prefix === undefined && (m.regex === undefined || m.regex === '*'));

function stringMatches(m: StringMatch, value: string | undefined, ignoreCase = false): boolean {
  if (value === undefined) return false;
  const v = ignoreCase ? value.toLowerCase() : value;
  if (m.exact !== undefined) return v === (ignoreCase ? m.exact.toLowerCase() : m.exact);
  if (m.prefix !== undefined) return v.startsWith(ignoreCase ? m.prefix.toLowerCase() : m.prefix);
  // Envoy's case_sensitive does not apply to safe_regex.
  if (m.regex !== undefined) return new RegExp(`^(?:${m.regex})$`).test(value);
  return true;
}

function headerMatches(m: StringMatch | null | undefined, value: string | undefined): boolean {
  return isPresentMatch(m) ? value !== undefined : stringMatches(m as StringMatch, value);
}

export function matchRequest(match: HttpMatchRequest, req: RouteRequest): boolean {
  if (match.gateways !== undefined && match.gateways.length > 0 && !match.gateways.includes('mesh')) return false;
  if (match.uri !== undefined && !stringMatches(match.uri, req.path, match.ignoreUriCase === true)) return false;
  if (match.method !== undefined && !stringMatches(match.method, req.method)) return false;
  if (match.authority !== undefined && !stringMatches(match.authority, req.authority)) return false;
  if (match.scheme !== undefined && !stringMatches(match.scheme, req.scheme ?? 'http')) return false;
  if (match.port !== undefined && match.port !== 0 && match.port !== req.port) return false;
  for (const [name, m] of Object.entries(match.headers ?? {})) if (!headerMatches(m, req.headers?.[name.toLowerCase()])) return false;
  for (const [name, m] of Object.entries(match.withoutHeaders ?? {})) {
    const value = req.headers?.[name.toLowerCase()];
    if (isPresentMatch(m) ? value !== undefined : stringMatches(m, value ?? '')) return false;
  }
  for (const [name, m] of Object.entries(match.queryParams ?? {})) if (!headerMatches(m, req.query?.[name])) return false;
  if (match.sourceNamespace !== undefined && match.sourceNamespace !== '' && match.sourceNamespace !== req.sourceNamespace) return false;
  for (const [key, value] of Object.entries(match.sourceLabels ?? {})) if (req.sourceLabels?.[key] !== value) return false;
  return true;
}

/** The index of the route taken and of the match entry that held (undefined: the route has no match). */
export function selectRouteIndex(routes: readonly HttpRoute[], req: RouteRequest): { readonly route: number; readonly match: number | undefined } | undefined {
  for (const [i, r] of routes.entries()) {
    if (r.match === undefined || r.match.length === 0) return { route: i, match: undefined };
    const j = r.match.findIndex((m) => matchRequest(m, req));
    if (j !== -1) return { route: i, match: j };
  }
  return undefined;
}

/** The route taken, or undefined (no VirtualService route matches: Istio's default route). */
export function selectRoute(routes: readonly HttpRoute[], req: RouteRequest): HttpRoute | undefined {
  const at = selectRouteIndex(routes, req);
  return at === undefined ? undefined : routes[at.route];
}
