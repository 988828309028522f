/**
 * Which VirtualService HTTP route a request takes: the first route with no `match`, or with a
 * match entry whose conditions all hold (entries OR, conditions AND). Supports uri, method,
 * authority and headers (exact / prefix / regex, `ignoreUriCase`) and port.
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
}

function stringMatches(m: StringMatch, value: string | undefined, ignoreCase = false): boolean {
  if (value === undefined) return false;
  const v = ignoreCase ? value.toLowerCase() : value;
  if (m.exact !== undefined) return v === (ignoreCase ? m.exact.toLowerCase() : m.exact);
  if (m.prefix !== undefined) return v.startsWith(ignoreCase ? m.prefix.toLowerCase() : m.prefix);
  if (m.regex !== undefined) return new RegExp(`^(?:${m.regex})$`).test(value);
  return true;
}

export function matchRequest(match: HttpMatchRequest, req: RouteRequest): boolean {
  if (match.uri !== undefined && !stringMatches(match.uri, req.path, match.ignoreUriCase === true)) return false;
  if (match.method !== undefined && !stringMatches(match.method, req.method)) return false;
  if (match.authority !== undefined && !stringMatches(match.authority, req.authority)) return false;
  if (match.port !== undefined && match.port !== req.port) return false;
  for (const [name, m] of Object.entries(match.headers ?? {})) if (!stringMatches(m, req.headers?.[name.toLowerCase()])) return false;
  return true;
}

/** The route taken, or undefined (no VirtualService route matches: Istio's default route). */
export function selectRoute(routes: readonly HttpRoute[], req: RouteRequest): HttpRoute | undefined {
  return routes.find((r) => r.match === undefined || r.match.length === 0 || r.match.some((m) => matchRequest(m, req)));
}
