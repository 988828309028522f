/**
 * Pieces VirtualService routes share, validated as Istio does (validation.go and
 * virtualservice.go, Istio 1.30.3): string matches and RE2 regexes, header names and values,
 * destinations and weights, gateway names, ports.
 */
import { createRequire } from 'node:module';
import type { Destination, HeaderOperations, StringMatch } from '../resources.ts';
import type { FieldPath } from '../source-map.ts';
import type { IssueCollector } from './checks.ts';
import { fqdnProblem, isDns1123Label, wildcardDomainProblem } from './hostnames.ts';

interface Re2Constructor {
  new (pattern: string, flags: string): unknown;
}
let re2: Re2Constructor | undefined;

/**
 * Istio compiles regexes with Go's regexp (RE2 syntax: no lookaround, no backreferences, `(?i)`
 * and `[[:alpha:]]` allowed). JavaScript's RegExp would judge a different language, so this uses
 * RE2 itself (re2-wasm), loaded on the first regex.
 */
export function regexProblem(re: string, where: string): string | undefined {
  if (re.length > 1024) return `"${where}": regex is too large, max length allowed is 1024`;
  re2 ??= (createRequire(import.meta.url)('re2-wasm') as { RE2: Re2Constructor }).RE2;
  try {
    new re2(re, 'u');
    return undefined;
  } catch (error) {
    const detail = String((error as Error).message).replace(/^Invalid regular expression: \/.*\/u: /s, '');
    return `"${where}": ${detail}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)`;
  }
}

/** validateStringMatch (allowEmptyPrefix: validateStringMatchRegexp, used for `uri`). */
export function validateStringMatch(c: IssueCollector, at: FieldPath, sm: StringMatch | null | undefined, where: string, options: { allowEmptyPrefix?: boolean } = {}): void {
  if (sm === undefined || sm === null) return;
  if (sm.prefix !== undefined && sm.prefix === '' && options.allowEmptyPrefix !== true) c.error([...at, 'prefix'], `"${where}": prefix string match should not be empty`);
  if (sm.regex !== undefined) {
    if (sm.regex === '') c.error([...at, 'regex'], `"${where}": regex string match should not be empty`);
    else {
      const problem = regexProblem(sm.regex, where);
      if (problem !== undefined) c.error([...at, 'regex'], problem);
    }
  }
}

const TCHAR_NAME = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
const JWT_CLAIM_PREFIX = '@request.auth.claims';

/** jwt.ToRoutingClaim(...).Match: `@request.auth.claims.a.b` or `@request.auth.claims[a][b]`. */
export function isJwtClaimRoute(name: string): boolean {
  if (!name.toLowerCase().startsWith(JWT_CLAIM_PREFIX)) return false;
  const rest = name.slice(JWT_CLAIM_PREFIX.length);
  return (rest.startsWith('.') && rest.length > 1) || (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2);
}

/** ValidateHTTPHeaderNameOrJwtClaimRoute: a token, a pseudo-header, or a JWT claim route. */
export function headerMatchNameProblem(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (isJwtClaimRoute(name) || PSEUDO_HEADERS.has(name)) return undefined;
  return TCHAR_NAME.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

export function isAuthorityHeader(name: string): boolean {
  return name.toLowerCase() === ':authority' || name.toLowerCase() === 'host';
}
const isInternalHeader = (name: string): boolean => name.startsWith(':') || name.toLowerCase() === 'host';

// eslint-disable-next-line no-control-regex
const HEADER_VALUE = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;

/** Envoy's header_parser.cc grammar for `%VAR%` / `%VAR(["a","b"])%` in header values (as Istio ports it). */
function headerFormatProblem(value: string): string | undefined {
  type State = 'literal' | 'name' | 'array' | 'string' | 'inString' | 'delimiter' | 'argsEnd' | 'varEnd';
  let state: State = 'literal';
  for (let pos = 0; pos < value.length; pos++) {
    const ch = value[pos];
    const hasNext = pos + 1 < value.length;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (!hasNext) return 'invalid header configuration. Un-escaped %';
        if (value[pos + 1] === '%') pos++;
        else state = 'name';
        break;
      case 'name':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'array';
        break;
      case 'array':
        if (ch === '[') state = 'string';
        else if (ch !== ' ') state = 'inString';
        break;
      case 'delimiter':
        if (ch === ',') state = 'string';
        else if (ch === ']') state = 'argsEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ',', ']', or whitespace";
        break;
      case 'string':
        if (ch === '"') state = 'inString';
        else if (ch !== ' ') return 'invalid header configuration. Expecting \'"\'';
        break;
      case 'inString':
        if (ch === '\\') {
          if (!hasNext) return 'invalid header configuration. Un-terminated backslash in JSON string';
          pos++;
        } else if (ch === ')') state = 'varEnd';
        else if (ch === '"') state = 'delimiter';
        break;
      case 'argsEnd':
        if (ch === ')') state = 'varEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ')' or whitespace";
        break;
      case 'varEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return "invalid header configuration. Expecting '%' or whitespace after";
        break;
    }
  }
  return state === 'literal' ? undefined : `invalid header configuration. Un-terminated variable expression '${value}'`;
}

export function headerValueProblem(value: string): string | undefined {
  if (!HEADER_VALUE.test(value)) return `header value configuration ${JSON.stringify(value)} is invalid`;
  const problem = headerFormatProblem(value);
  return problem === undefined ? undefined : `header value configuration: ${problem}`;
}

/**
 * Header manipulation of a route or destination: request `set`/`add` may name `:authority`/`host`
 * (checked by validateAuthorityRewrite) but no other `:` header; `remove` and response headers
 * may name neither.
 */
export function validateHeaderOperations(c: IssueCollector, at: FieldPath, headers: HeaderOperations | null | undefined): void {
  if (headers === undefined || headers === null) return;
  for (const side of ['request', 'response'] as const) {
    const ops = headers[side];
    if (ops === undefined || ops === null) continue;
    for (const op of ['set', 'add'] as const) {
      for (const [name, value] of Object.entries(ops[op] ?? {})) {
        const p = [...at, side, op, name];
        if (name === '') c.error(p, 'header name cannot be empty');
        else if (side === 'request' && isInternalHeader(name) && !isAuthorityHeader(name)) c.error(p, `invalid header ${JSON.stringify(name)}: header cannot have ":" prefix`);
        else if (side === 'response' && name.toLowerCase() === 'host') c.error(p, `invalid header ${JSON.stringify(name)}: cannot set Host header`);
        else if (side === 'response' && isInternalHeader(name)) c.error(p, `invalid header ${JSON.stringify(name)}: header cannot have ":" prefix`);
        const problem = headerValueProblem(String(value ?? ''));
        if (problem !== undefined) c.error(p, problem);
      }
    }
    (ops.remove ?? []).forEach((name, i) => {
      const p = [...at, side, 'remove', i];
      if (name === '') c.error(p, 'header name cannot be empty');
      else if (name.toLowerCase() === 'host') c.error(p, `invalid header ${JSON.stringify(name)}: cannot set Host header`);
      else if (isInternalHeader(name)) c.error(p, `invalid header ${JSON.stringify(name)}: header cannot have ":" prefix`);
    });
  }
}

export function validatePort(c: IssueCollector, at: FieldPath, port: number | undefined | null): void {
  if (port === undefined || port === null) return;
  if (!(port >= 1 && port <= 65535)) c.error(at, `port number ${port} must be in the range 1..65535`);
}

/** validateDestination: a host (not `*`), a DNS-1123 subset name, a valid port. */
export function validateDestination(c: IssueCollector, at: FieldPath, destination: Destination | null | undefined): void {
  if (destination === undefined || destination === null) return;
  const host = destination.host ?? '';
  if (host === '*') c.error([...at, 'host'], `invalid destination host ${host}`);
  else {
    const problem = wildcardDomainProblem(host);
    if (problem !== undefined) c.error([...at, 'host'], problem);
  }
  if (destination.subset !== undefined && destination.subset !== '' && !isDns1123Label(destination.subset)) c.error([...at, 'subset'], `subset name is invalid: ${destination.subset}`);
  if (destination.port !== undefined && destination.port !== null) validatePort(c, [...at, 'port', 'number'], destination.port.number ?? 0);
}

/** validateHTTPRouteDestinations / validateRouteDestinations: destinations, weights ≥ 0, not all 0 when several. */
export function validateRouteDestinations(c: IssueCollector, at: FieldPath, routes: readonly ({ readonly destination: Destination; readonly weight?: number; readonly headers?: HeaderOperations } | null)[] | undefined): void {
  let total = 0;
  (routes ?? []).forEach((route, i) => {
    const p = [...at, i];
    if (route === null || typeof route !== 'object') return c.error(p, 'weight may not be nil');
    if (route.destination === undefined || route.destination === null) c.error([...p, 'destination'], 'destination is required');
    validateHeaderOperations(c, [...p, 'headers'], route.headers);
    validateDestination(c, [...p, 'destination'], route.destination);
    if ((route.weight ?? 0) < 0) c.error([...p, 'weight'], `weight ${route.weight} < 0`);
    total += route.weight ?? 0;
  });
  if ((routes?.length ?? 0) > 1 && total === 0) c.error(at, 'total destination weight = 0', 'give the destinations weights, or leave one destination');
}

/**
 * validateGatewayNames: `namespace/name` with DNS-1123 labels, or a legacy FQDN-style name (a
 * warning: `name.namespace…` should be written `namespace/name`). `mesh` is a valid name.
 */
export function validateGatewayNames(c: IssueCollector, at: FieldPath, names: readonly string[] | undefined): void {
  for (const [i, name] of (names ?? []).entries()) {
    const p = [...at, i];
    const slash = name.indexOf('/');
    if (slash === -1) {
      if (name.includes('.')) {
        const parts = name.split('.');
        c.warning(p, `using legacy gatewayName format ${JSON.stringify(name)}; prefer the <namespace>/<name> format: "${parts[1]}/${parts[0]}"`);
      }
      const problem = fqdnProblem(name);
      if (problem !== undefined) c.error(p, problem);
      // Istio stops at the first name without a slash.
      return;
    }
    const ns = name.slice(0, slash);
    const gw = name.slice(slash + 1);
    if (ns === '' || gw === '') c.error(p, 'config namespace and gateway name cannot be empty');
    if (!isDns1123Label(ns)) c.error(p, `invalid value for namespace: ${JSON.stringify(ns)}`);
    if (!isDns1123Label(gw)) c.error(p, `invalid value for gateway name: ${JSON.stringify(gw)}`);
  }
}
