/**
 * How istiod turns one AuthorizationPolicy value into one Envoy RBAC matcher
 * (istio/istio pilot/pkg/security/authz/model/generator.go and matcher/{string,header}.go;
 * istio-semantics.md §2, envoy-mapping.md §4.2). Each function takes a value as written in the
 * policy and returns the matcher, or throws a TranslateError that authz-translator.ts handles the
 * way istiod's checkError does (drop the rule for ALLOW, drop the value for DENY and AUDIT).
 */
import { isIP } from 'node:net';
import { SPIFFE_PREFIX } from '../../model/identity.ts';
import type { Cidr, HeaderMatcher, Permission, Principal, StringMatcher, ValueMatcher } from './rbac.ts';

export class TranslateError extends Error {
  override readonly name = 'TranslateError';
}

/** Go's regexp.QuoteMeta (the characters `\.+*?()|[]{}^$`), which istiod uses; the result is valid RE2 and JavaScript. */
export function quoteMeta(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * `StringMatcherWithPrefix`: `*` → any non-empty value (regex `.+`); `*x` → suffix (a regex when
 * a prefix is added, as Envoy has no "prefix and suffix" matcher); `x*` → prefix; else exact.
 */
export function stringMatcher(value: string, prefix = ''): StringMatcher {
  if (value === '*') return { safeRegex: { regex: '.+' } };
  if (value.startsWith('*')) {
    return prefix === '' ? { suffix: value.slice(1) } : { safeRegex: { regex: `${quoteMeta(prefix)}.*${quoteMeta(value.slice(1))}` } };
  }
  if (value.endsWith('*')) return { prefix: prefix + value.slice(0, -1) };
  return { exact: prefix + value };
}

/** `matcher.HeaderMatcher`: `*` means "present"; other values as stringMatcher. */
export function headerMatcher(name: string, value: string): HeaderMatcher {
  return value === '*' ? { name, presentMatch: true } : { name, stringMatch: stringMatcher(value) };
}

/** `matcher.HostMatcher`: like headerMatcher on `:authority`, ignoring case (CVE-2021-39155). */
export function hostMatcher(value: string): HeaderMatcher {
  if (value === '*') return { name: ':authority', presentMatch: true };
  return { name: ':authority', stringMatch: { ...stringMatcher(value), ignoreCase: true } as StringMatcher };
}

/** Path templates use `{*}` and `{**}` (Envoy ≥ 1.30 `uri_template`, written there as `*` and `**`). */
export function isPathTemplate(value: string): boolean {
  return value.includes('{*}') || value.includes('{**}');
}

export function pathPermission(value: string): Permission {
  if (isPathTemplate(value)) return { uriTemplate: { pathTemplate: value.replaceAll('{**}', '**').replaceAll('{*}', '*') } };
  return { urlPath: { path: stringMatcher(value) } };
}

/** `util.AddrStrToCidrRange`: an address is a /32 (/128); anything else must be a CIDR block. */
export function cidr(value: string): Cidr {
  const [address, bits, extra] = value.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) throw new TranslateError(`'${value}' is not an IP address or CIDR block`);
  if (bits === undefined) return value;
  const n = Number(bits);
  if (!/^\d+$/.test(bits) || n > (family === 4 ? 32 : 128)) throw new TranslateError(`'${value}' has an invalid prefix length`);
  return value;
}

export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new TranslateError(`'${value}' is not a port number (0-65535)`);
  return n;
}

export function authenticated(name: StringMatcher): Principal {
  return { authenticated: { principalName: name } };
}

/** `source.namespaces` / `source.namespace`: Istio's regex (any text, then `/ns/<ns>/`, then any text) on the peer principal; `*` in a value means any text. */
export function namespacePrincipal(value: string): Principal {
  const ns = value.split('*').map(quoteMeta).join('.*');
  return authenticated({ safeRegex: { regex: `.*/ns/${ns}/.*` } });
}

/**
 * `source.serviceAccounts` / `source.serviceAccount`: `ns/sa` or `sa` (the policy's namespace).
 * istiod ≥ 1.29.3 quotes both names before placing them in the regex, so `my.sa` matches the
 * account `my.sa` and not `my-sa`.
 */
export function serviceAccountPrincipal(value: string, policyNamespace: string): Principal {
  const slash = value.indexOf('/');
  const ns = slash < 0 ? policyNamespace : value.slice(0, slash);
  const sa = slash < 0 ? value : value.slice(slash + 1);
  return authenticated({ safeRegex: { regex: `spiffe://.+/ns/${quoteMeta(ns)}/(.+/|)sa/${quoteMeta(sa)}(/.+)?` } });
}

/**
 * `source.trustDomains` / `source.trustDomain` (istiod ≥ 1.30 srcTrustDomainGenerator): `*` →
 * prefix `spiffe://` (any SPIFFE peer); `td` → prefix `spiffe://td/`; a value with a `*` → regex,
 * the text before and after the first `*` quoted and the `*` itself `[^/]*` (within the trust
 * domain), then `/.*`. Validation allows one `*`, at the start or the end; like istiod, a second
 * `*` is matched as the character itself.
 */
export function trustDomainPrincipal(value: string): Principal {
  if (value === '*') return authenticated({ prefix: SPIFFE_PREFIX });
  const star = value.indexOf('*');
  if (star < 0) return authenticated({ prefix: `${SPIFFE_PREFIX}${value}/` });
  const regex = `${quoteMeta(value.slice(0, star))}[^/]*${quoteMeta(value.slice(star + 1))}`;
  return authenticated({ safeRegex: { regex: `spiffe://${regex}/.*` } });
}

/** The filter whose dynamic metadata carries a verified JWT, and the key istiod has it write the payload under. */
export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';
export const JWT_PAYLOAD_KEY = 'payload';

/** `MetadataStringMatcherForJWTClaim`: one claim of the payload, as a string. */
function jwtClaimString(claim: string, m: StringMatcher): Principal {
  return { metadata: { filter: JWT_AUTHN_FILTER, path: [JWT_PAYLOAD_KEY, claim], value: { stringMatch: m } } };
}

/**
 * `requestPrincipals` / `request.auth.principal` (istiod requestPrincipalGenerator): the value is
 * split at its last `/` into issuer and subject, each matched on its own claim (`iss`, `sub`),
 * with `*` on either side meaning any non-empty value.
 */
export function requestPrincipal(value: string): Principal {
  const ANY: StringMatcher = { safeRegex: { regex: '.+' } };
  const idx = value.lastIndexOf('/');
  const found = idx >= 0;
  const iss = found ? value.slice(0, idx) : value;
  const sub = found ? value.slice(idx + 1) : '';
  let matchIss: StringMatcher;
  let matchSub: StringMatcher;
  if (value === '*') [matchIss, matchSub] = [ANY, ANY];
  else if (value.startsWith('*')) {
    if (found) [matchIss, matchSub] = [iss === '*' ? ANY : { suffix: iss.slice(1) }, { exact: sub }];
    else [matchIss, matchSub] = [ANY, { suffix: value.slice(1) }];
  } else if (value.endsWith('*')) {
    if (found) [matchIss, matchSub] = [{ exact: iss }, sub === '*' ? ANY : { prefix: sub.slice(0, -1) }];
    else [matchIss, matchSub] = [{ prefix: value.slice(0, -1) }, ANY];
  } else [matchIss, matchSub] = [{ exact: iss }, { exact: sub }];
  return { andIds: { ids: [jwtClaimString('iss', matchIss), jwtClaimString('sub', matchSub)] } };
}

/**
 * `request.auth.audiences`, `.presenter`, `.claims[a][b]` (MetadataListValueMatcherForJWTClaims
 * with the extended JWT form): the claim matches when it is the value itself or a list holding it.
 */
export function jwtClaimPrincipal(claims: readonly string[], value: string): Principal {
  const m: ValueMatcher = { stringMatch: stringMatcher(value) };
  return { metadata: { filter: JWT_AUTHN_FILTER, path: [JWT_PAYLOAD_KEY, ...claims], value: { orMatch: { valueMatchers: [{ listMatch: { oneOf: m } }, m] } } } };
}

/** extractNameInNestedBrackets: `[a][b]` → [a, b]; a single `[a.b]` stays one name. */
export function nestedBracketNames(key: string, prefix: string): string[] {
  const inner = key.slice(prefix.length);
  const names: string[] = [];
  let rest = inner;
  while (rest.length > 0) {
    const m = /^\[([^[\]]*)\]/.exec(rest);
    if (m === null) return [bracketName(key, prefix)];
    names.push(m[1] ?? '');
    rest = rest.slice(m[0].length);
  }
  if (names.length === 0 || names.some((n) => n === '')) throw new TranslateError(`'${key}' must name a claim in brackets, e.g. ${prefix}[groups]`);
  return names;
}

/** The name inside `request.headers[<name>]`. */
export function bracketName(key: string, prefix: string): string {
  const inner = key.slice(prefix.length);
  if (!inner.startsWith('[') || !inner.endsWith(']') || inner.length < 3) throw new TranslateError(`'${key}' must name a header in brackets, e.g. ${prefix}[x-token]`);
  return inner.slice(1, -1);
}
