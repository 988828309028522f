/**
 * Envoy's RBAC filter, evaluated: the matchers of envoy.config.rbac.v3 compiled to closures once
 * per config, then run per request (HTTP) or per connection (TCP).
 *
 * Semantics (Envoy `rbac_filter.cc`, `engine_impl.cc`, `matchers.cc`; envoy-mapping.md §4.1):
 * - a policy matches when one of its permissions and one of its principals match; policies are
 *   tried in key order and the first match is "the matched policy";
 * - ALLOW allows iff a policy matches; DENY allows iff none matches; LOG always allows and only
 *   records whether a policy matched;
 * - shadow rules are evaluated for their stats and never decide;
 * - filters run in order and the first denial stops the chain.
 * `authenticated` looks at the peer certificate: URI SANs, then DNS SANs, then the subject; with
 * no peer certificate (plaintext) it never matches, so `notPrincipals` and friends do.
 */
import { BlockList, isIP } from 'node:net';
import { ErrorCode, MeshproofError } from '../../../errors.ts';
import type { HeaderMatcher, MetadataMatcher, Permission, Principal, RbacAction, RbacFilter, RbacRules, StringMatcher, ValueMatcher } from '../../istiod/rbac.ts';

export interface PeerCertificateFacts {
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** RFC 2253 form; empty for Istio workload certificates. */
  readonly subject: string;
}

/** What the filter can see of the connection. */
export interface ConnectionFacts {
  /** Absent on plaintext connections. */
  readonly peer?: PeerCertificateFacts;
  readonly sourceIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  /** SNI from the ClientHello; empty when none. */
  readonly sni: string;
}

export interface RbacRequest {
  readonly connection: ConnectionFacts;
  /** `remote_ip`: the original client from X-Forwarded-For (no trusted hops) or the peer address. */
  readonly remoteIp?: string;
  /** Header lookup by lower-case name, including `:method`, `:authority`, `:path`; absent for TCP. */
  readonly header?: (name: string) => string | undefined;
  /** The path without query, after normalization; absent for TCP. */
  readonly urlPath?: string;
  /** Dynamic metadata by filter name (`envoy.filters.http.jwt_authn` → `{payload: …}`). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface FilterResult {
  readonly source: RbacFilter['source'];
  readonly action: RbacAction | undefined;
  readonly allowed: boolean;
  /** The first matching policy, if any (`none` when an ALLOW filter matched nothing). */
  readonly matchedPolicy?: string;
  readonly shadow?: { readonly allowed: boolean; readonly matchedPolicy?: string; readonly statPrefix: string };
}

export interface RbacDecision {
  readonly allowed: boolean;
  /** `rbac_access_denied_matched_policy[<policy>]`, when denied. */
  readonly responseCodeDetails?: string;
  /** Every filter that ran, in order (the chain stops at the first denial). */
  readonly filters: readonly FilterResult[];
}

type Test = (request: RbacRequest) => boolean;

interface CompiledRules {
  readonly action: RbacAction;
  readonly policies: readonly { readonly name: string; readonly test: Test }[];
}

interface CompiledFilter {
  readonly source: RbacFilter['source'];
  readonly rules?: CompiledRules;
  readonly shadow?: CompiledRules;
  readonly shadowPrefix: string;
}

export class RbacEngine {
  readonly #filters: readonly CompiledFilter[];

  constructor(filters: readonly RbacFilter[]) {
    this.#filters = filters.map((f) => ({
      source: f.source,
      ...(f.rules === undefined ? {} : { rules: compileRules(f.rules) }),
      ...(f.shadowRules === undefined ? {} : { shadow: compileRules(f.shadowRules) }),
      shadowPrefix: f.shadowRulesStatPrefix ?? '',
    }));
  }

  get filterCount(): number {
    return this.#filters.length;
  }

  evaluate(request: RbacRequest): RbacDecision {
    const results: FilterResult[] = [];
    for (const filter of this.#filters) {
      let shadow: FilterResult['shadow'];
      if (filter.shadow !== undefined) {
        const matched = firstMatch(filter.shadow, request);
        shadow = { allowed: allows(filter.shadow.action, matched), ...(matched === undefined ? {} : { matchedPolicy: matched }), statPrefix: filter.shadowPrefix };
      }
      if (filter.rules === undefined) {
        results.push({ source: filter.source, action: undefined, allowed: true, ...(shadow === undefined ? {} : { shadow }) });
        continue;
      }
      const matched = firstMatch(filter.rules, request);
      const allowed = allows(filter.rules.action, matched);
      const reported = matched ?? (filter.rules.action === 'ALLOW' ? 'none' : undefined);
      results.push({ source: filter.source, action: filter.rules.action, allowed, ...(reported === undefined ? {} : { matchedPolicy: reported }), ...(shadow === undefined ? {} : { shadow }) });
      if (!allowed) return { allowed: false, responseCodeDetails: `rbac_access_denied_matched_policy[${reported ?? 'none'}]`, filters: results };
    }
    return { allowed: true, filters: results };
  }
}

function allows(action: RbacAction, matched: string | undefined): boolean {
  if (action === 'ALLOW') return matched !== undefined;
  if (action === 'DENY') return matched === undefined;
  return true;
}

function firstMatch(rules: CompiledRules, request: RbacRequest): string | undefined {
  for (const policy of rules.policies) if (policy.test(request)) return policy.name;
  return undefined;
}

function compileRules(rules: RbacRules): CompiledRules {
  // Envoy keeps policies in a std::map: lexicographic (byte) order of the keys.
  const names = Object.keys(rules.policies).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    action: rules.action,
    policies: names.map((name) => {
      const policy = rules.policies[name]!;
      const permissions = policy.permissions.map(compilePermission);
      const principals = policy.principals.map(compilePrincipal);
      return { name, test: (r: RbacRequest) => permissions.some((p) => p(r)) && principals.some((p) => p(r)) };
    }),
  };
}

export function compilePermission(p: Permission): Test {
  if ('any' in p) return () => true;
  if ('andRules' in p) return all(p.andRules.rules.map(compilePermission));
  if ('orRules' in p) return some(p.orRules.rules.map(compilePermission));
  if ('notRule' in p) return not(compilePermission(p.notRule));
  if ('header' in p) return compileHeader(p.header);
  if ('urlPath' in p) {
    const m = compileString(p.urlPath.path);
    return (r) => r.urlPath !== undefined && m(r.urlPath);
  }
  if ('uriTemplate' in p) {
    const re = uriTemplateRegex(p.uriTemplate.pathTemplate);
    return (r) => r.urlPath !== undefined && re.test(r.urlPath);
  }
  if ('destinationIp' in p) {
    const contains = cidrTest(p.destinationIp);
    return (r) => contains(r.connection.destinationIp);
  }
  if ('destinationPort' in p) return (r) => r.connection.destinationPort === p.destinationPort;
  if ('requestedServerName' in p) {
    const m = compileString(p.requestedServerName);
    return (r) => m(r.connection.sni);
  }
  if ('metadata' in p) return compileMetadata(p.metadata);
  throw unknownShape('permission', p);
}

export function compilePrincipal(p: Principal): Test {
  if ('any' in p) return () => true;
  if ('andIds' in p) return all(p.andIds.ids.map(compilePrincipal));
  if ('orIds' in p) return some(p.orIds.ids.map(compilePrincipal));
  if ('notId' in p) return not(compilePrincipal(p.notId));
  if ('authenticated' in p) {
    const name = p.authenticated.principalName;
    const m = name === undefined ? undefined : compileString(name);
    return (r) => {
      const peer = r.connection.peer;
      if (peer === undefined) return false;
      if (m === undefined) return true;
      return peer.uriSans.some(m) || peer.dnsSans.some(m) || m(peer.subject);
    };
  }
  if ('directRemoteIp' in p) {
    const contains = cidrTest(p.directRemoteIp);
    return (r) => contains(r.connection.sourceIp);
  }
  if ('remoteIp' in p) {
    const contains = cidrTest(p.remoteIp);
    return (r) => contains(r.remoteIp ?? r.connection.sourceIp);
  }
  if ('header' in p) return compileHeader(p.header);
  if ('metadata' in p) return compileMetadata(p.metadata);
  throw unknownShape('principal', p);
}

function unknownShape(what: string, value: unknown): MeshproofError {
  return new MeshproofError(ErrorCode.ConfigInvalid, `unknown RBAC ${what} ${JSON.stringify(value)}`, { hint: 'the sidecar understands the envoy.config.rbac.v3 subset in harness/dataplane/reference/rbac.ts' });
}

const all = (tests: readonly Test[]): Test => (r) => tests.every((t) => t(r));
const some = (tests: readonly Test[]): Test => (r) => tests.some((t) => t(r));
const not = (test: Test): Test => (r) => !test(r);

/** Envoy's MetadataMatcher: the value at the path of the filter's metadata; a missing key matches nothing. */
function compileMetadata(m: MetadataMatcher): Test {
  const value = compileValue(m.value);
  return (r) => {
    let v: unknown = r.metadata?.[m.filter];
    for (const key of m.path) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
    return v !== undefined && value(v);
  };
}

function compileValue(m: ValueMatcher): (v: unknown) => boolean {
  if ('stringMatch' in m) {
    const s = compileString(m.stringMatch);
    return (v) => typeof v === 'string' && s(v);
  }
  if ('listMatch' in m) {
    const one = compileValue(m.listMatch.oneOf);
    return (v) => Array.isArray(v) && v.some(one);
  }
  const any = m.orMatch.valueMatchers.map(compileValue);
  return (v) => any.some((f) => f(v));
}

function compileHeader(h: HeaderMatcher): Test {
  const name = h.name.toLowerCase();
  const m = h.stringMatch === undefined ? undefined : compileString(h.stringMatch);
  const test: Test = (r) => {
    const value = r.header?.(name);
    if (value === undefined) return false;
    return m === undefined ? h.presentMatch !== false : m(value);
  };
  return h.invertMatch === true ? not(test) : test;
}

export function compileString(m: StringMatcher): (value: string) => boolean {
  if ('safeRegex' in m) {
    // RE2 full match. Istio's old host matchers start with (?i); JavaScript wants a flag instead.
    const insensitive = m.safeRegex.regex.startsWith('(?i)');
    const re = new RegExp(`^(?:${insensitive ? m.safeRegex.regex.slice(4) : m.safeRegex.regex})$`, insensitive ? 'is' : 's');
    return (v) => re.test(v);
  }
  const fold = m.ignoreCase === true ? (s: string) => s.toLowerCase() : (s: string) => s;
  if ('exact' in m) {
    const want = fold(m.exact);
    return (v) => fold(v) === want;
  }
  if ('prefix' in m) {
    const want = fold(m.prefix);
    return (v) => fold(v).startsWith(want);
  }
  if ('suffix' in m) {
    const want = fold(m.suffix);
    return (v) => fold(v).endsWith(want);
  }
  if ('contains' in m) {
    const want = fold(m.contains);
    return (v) => fold(v).includes(want);
  }
  throw unknownShape('string matcher', m);
}

/** RFC 3986 pchar without `*` (Envoy uri_template: `*` is one segment, `**` any number of them) [derived]. */
const PCHAR = "a-zA-Z0-9._~%!$&'()+,;:@=\\-";

export function uriTemplateRegex(template: string): RegExp {
  const segments = template.split('/').map((segment) => {
    if (segment === '*') return `[${PCHAR}]+`;
    if (segment === '**') return `[${PCHAR}/]*`;
    return segment.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}$`);
}

function cidrTest(cidr: string): (ip: string) => boolean {
  const [address = '', bits] = cidr.split('/');
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  list.addSubnet(address, bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits), family);
  return (ip) => {
    const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    const ipFamily = isIP(plain);
    if (ipFamily === 0) return false;
    return list.check(plain, ipFamily === 6 ? 'ipv6' : 'ipv4');
  };
}
