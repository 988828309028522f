/**
 * Compiles one AuthorizationPolicy rule into a predicate over AuthzContext, following istiod's
 * model.go: `from` entries OR, `to` entries OR, `when` conditions AND into every entry; within
 * an entry fields AND, values OR, `notX` is NOT(OR(values)) ANDed in (istio-semantics.md §2).
 *
 * TCP (§2 "TCP handling of HTTP-only fields"): for ALLOW a rule using any HTTP-only field is
 * dropped (never matches); for DENY and AUDIT only the HTTP-only fields are dropped.
 */
import { BlockList, isIP } from 'node:net';
import type { AuthorizationAction, AuthorizationCondition, AuthorizationOperation, AuthorizationRule, AuthorizationSource } from '../model/resources.ts';
import { NO, UNKNOWN, YES, not, type AuthzContext, type Tri } from './authz-context.ts';
import { escapeRegExp, headerMatcher, pathMatcher, stringMatcher, type StringTest } from './string-match.ts';
import { expandPrincipals, expandTrustDomains } from './trust-domain.ts';

export type Predicate = (ctx: AuthzContext) => Tri;

export interface CompileOptions {
  readonly protocol: 'http' | 'tcp';
  readonly action: AuthorizationAction;
  /** The policy's namespace: serviceAccounts without `ns/` use it. */
  readonly policyNamespace: string;
  /** Mesh trust domain first, then aliases. */
  readonly trustDomains: readonly string[];
}

/** A compiled rule. `never` is true when the rule can match nothing (ALLOW rule dropped on TCP). */
export interface CompiledRule {
  readonly match: Predicate;
  readonly dropped?: string;
}

const SPIFFE = 'spiffe://';
const always: Predicate = () => YES;
const never: Predicate = () => NO;

const HTTP_ONLY_CONDITION = /^(request\.headers\[|request\.auth\.)/;

class HttpOnlyOnTcp extends Error {}

function anyOf(tests: readonly StringTest[], read: (ctx: AuthzContext) => string | undefined): Predicate {
  return (ctx) => {
    const v = read(ctx);
    for (const t of tests) if (t(v)) return YES;
    return NO;
  };
}

/** A field with values and notValues: (OR values) AND NOT(OR notValues); absent parts drop out. */
function field(values: readonly string[] | undefined, notValues: readonly string[] | undefined, compile: (vs: readonly string[]) => Predicate): Predicate[] {
  const out: Predicate[] = [];
  if (values !== undefined && values.length > 0) out.push(compile(values));
  if (notValues !== undefined && notValues.length > 0) {
    const inner = compile(notValues);
    const negated: Predicate = (ctx) => not(inner(ctx));
    NEGATED.add(negated);
    out.push(negated);
  }
  return out;
}

/** `notX` parts: evaluated after positive parts (AND is order-free; positives fail faster). */
const NEGATED = new WeakSet<Predicate>();

function allOf(unordered: readonly Predicate[]): Predicate {
  const parts = [...unordered].sort((a, b) => Number(NEGATED.has(a)) - Number(NEGATED.has(b)));
  if (parts.length === 0) return always;
  if (parts.length === 1) return parts[0] ?? always;
  return (ctx) => {
    let unknown = false;
    for (const p of parts) {
      const r = p(ctx);
      if (r === NO) return NO;
      if (r === UNKNOWN) unknown = true;
    }
    return unknown ? UNKNOWN : YES;
  };
}

function oneOf(parts: readonly Predicate[]): Predicate {
  return (ctx) => {
    let unknown = false;
    for (const p of parts) {
      const r = p(ctx);
      if (r === YES) return YES;
      if (r === UNKNOWN) unknown = true;
    }
    return unknown ? UNKNOWN : NO;
  };
}

const peerOf = (ctx: AuthzContext): string | undefined => ctx.peer;

function principals(values: readonly string[], o: CompileOptions): Predicate {
  return anyOf(expandPrincipals(values, o.trustDomains).map((v) => stringMatcher(v, { prefix: SPIFFE })), peerOf);
}

function regexOnPeer(patterns: readonly RegExp[]): Predicate {
  return (ctx) => (ctx.peer !== undefined && patterns.some((re) => re.test(ctx.peer ?? '')) ? YES : NO);
}

// istiod matches namespaces with the regex ".*/ns/<ns>/.*" (a star becomes ".*"); without a star that is "contains /ns/<ns>/".
function namespaces(values: readonly string[]): Predicate {
  const plain = values.filter((v) => !v.includes('*')).map((v) => `/ns/${v}/`);
  const patterns = values.filter((v) => v.includes('*')).map((v) => new RegExp(`^.*/ns/${v.split('*').map(escapeRegExp).join('.*')}/.*$`));
  return (ctx) => {
    const peer = ctx.peer;
    if (peer === undefined) return NO;
    for (const p of plain) if (peer.includes(p)) return YES;
    for (const re of patterns) if (re.test(peer)) return YES;
    return NO;
  };
}

function serviceAccounts(values: readonly string[], o: CompileOptions): Predicate {
  return regexOnPeer(
    values.map((v) => {
      const slash = v.indexOf('/');
      const ns = slash === -1 ? o.policyNamespace : v.slice(0, slash);
      const sa = slash === -1 ? v : v.slice(slash + 1);
      return new RegExp(`^spiffe://.+/ns/${escapeRegExp(ns)}/(.+/|)sa/${escapeRegExp(sa)}(/.+)?$`);
    }),
  );
}

/**
 * trustDomains (istio-semantics.md §2): exact → the peer's SPIFFE id is in that trust domain; `*` →
 * any SPIFFE peer; `x*` / `*x` → a trust domain with that prefix / suffix. Validation allows one
 * `*`, at an end; a value read here with more keeps the later ones as literal characters.
 */
function trustDomains(values: readonly string[], o: CompileOptions): Predicate {
  const expanded = expandTrustDomains(values, o.trustDomains);
  const anyTd = expanded.includes('*');
  const tests = expanded.map((v): ((td: string) => boolean) => {
    if (v === '*') return () => true;
    const star = v.indexOf('*');
    if (star < 0) return (td) => td === v;
    const head = v.slice(0, star);
    const tail = v.slice(star + 1);
    return (td) => td.length >= head.length + tail.length && td.startsWith(head) && td.endsWith(tail);
  });
  return (ctx) => {
    const peer = ctx.peer;
    if (peer === undefined || !peer.startsWith(SPIFFE)) return NO;
    const rest = peer.slice(SPIFFE.length);
    const slash = rest.indexOf('/');
    // Only `*` takes a SPIFFE id with no path after its trust domain.
    if (slash < 0) return anyTd ? YES : NO;
    const td = rest.slice(0, slash);
    return tests.some((t) => t(td)) ? YES : NO;
  };
}

function ipMatcher(values: readonly string[], read: (ctx: AuthzContext) => string | undefined): Predicate {
  const list = new BlockList();
  for (const v of values) {
    const [addr = '', prefix] = v.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(prefix), family);
  }
  return (ctx) => {
    const ip = read(ctx);
    if (ip === undefined || isIP(ip) === 0) return NO;
    return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4') ? YES : NO;
  };
}

function jwtPrincipals(values: readonly string[]): Predicate {
  // istiod extendedPrincipal: split at the last '/' into iss and sub; '*' on either side.
  const tests = values.map((value) => {
    if (value === '*') return (p: string) => p.length > 0;
    return stringMatcher(value) as (p: string) => boolean;
  });
  return (ctx) => (ctx.jwt !== undefined && tests.some((t) => t(ctx.jwt?.principal ?? '')) ? YES : NO);
}

function claimValues(ctx: AuthzContext, path: readonly string[]): string[] {
  let v: unknown = ctx.jwt?.claims;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

function listMatcher(values: readonly string[], read: (ctx: AuthzContext) => readonly string[]): Predicate {
  const tests = values.map((v) => stringMatcher(v));
  return (ctx) => (read(ctx).some((x) => tests.some((t) => t(x))) ? YES : NO);
}

function httpOnly(o: CompileOptions): boolean {
  if (o.protocol === 'http') return false;
  if (o.action === 'ALLOW') throw new HttpOnlyOnTcp();
  return true;
}

function sourcePredicate(s: AuthorizationSource, o: CompileOptions): Predicate[] {
  const parts: Predicate[] = [];
  parts.push(...field(s.principals, s.notPrincipals, (vs) => principals(vs, o)));
  if (s.requestPrincipals !== undefined || s.notRequestPrincipals !== undefined) {
    if (!httpOnly(o)) parts.push(...field(s.requestPrincipals, s.notRequestPrincipals, jwtPrincipals));
  }
  parts.push(...field(s.serviceAccounts, s.notServiceAccounts, (vs) => serviceAccounts(vs, o)));
  parts.push(...field(s.trustDomains, s.notTrustDomains, (vs) => trustDomains(vs, o)));
  parts.push(...field(s.namespaces, s.notNamespaces, namespaces));
  parts.push(...field(s.remoteIpBlocks, s.notRemoteIpBlocks, (vs) => ipMatcher(vs, (c) => c.remoteIp)));
  parts.push(...field(s.ipBlocks, s.notIpBlocks, (vs) => ipMatcher(vs, (c) => c.sourceIp)));
  return parts;
}

function operationPredicate(op: AuthorizationOperation, o: CompileOptions): Predicate[] {
  const parts: Predicate[] = [];
  const http = (values: readonly string[] | undefined, notValues: readonly string[] | undefined, compile: (vs: readonly string[]) => Predicate): void => {
    if (values === undefined && notValues === undefined) return;
    if (!httpOnly(o)) parts.push(...field(values, notValues, compile));
  };
  http(op.hosts, op.notHosts, (vs) => anyOf(vs.map((v) => headerMatcher(v, { ignoreCase: true })), (c) => c.host));
  http(op.methods, op.notMethods, (vs) => anyOf(vs.map((v) => headerMatcher(v)), (c) => c.method));
  http(op.paths, op.notPaths, (vs) => anyOf(vs.map(pathMatcher), (c) => c.urlPath));
  parts.push(...field(op.ports, op.notPorts, (vs) => (ctx) => (vs.includes(String(ctx.destinationPort)) ? YES : NO)));
  return parts;
}

/** `when` conditions, split as istiod splits them: principal-side and permission-side. */
function conditionPredicate(cond: AuthorizationCondition, o: CompileOptions): Predicate[] {
  const key = cond.key;
  if (HTTP_ONLY_CONDITION.test(key) && httpOnly(o)) return [];
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header !== null) {
    const name = (header[1] ?? '').toLowerCase();
    return field(cond.values, cond.notValues, (vs) => anyOf(vs.map((v) => headerMatcher(v)), (c) => c.headers?.get(name)));
  }
  const claim = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(key);
  if (claim !== null) {
    const path = [...(claim[1] ?? '').matchAll(/\[([^\]]+)\]/g)].map((m) => m[1] ?? '');
    return field(cond.values, cond.notValues, (vs) => listMatcher(vs, (c) => claimValues(c, path)));
  }
  switch (key) {
    case 'source.ip':
      return field(cond.values, cond.notValues, (vs) => ipMatcher(vs, (c) => c.sourceIp));
    case 'remote.ip':
      return field(cond.values, cond.notValues, (vs) => ipMatcher(vs, (c) => c.remoteIp));
    case 'destination.ip':
      return field(cond.values, cond.notValues, (vs) => ipMatcher(vs, (c) => c.destinationIp));
    case 'destination.port':
      return field(cond.values, cond.notValues, (vs) => (ctx) => (vs.includes(String(ctx.destinationPort)) ? YES : NO));
    case 'connection.sni':
      return field(cond.values, cond.notValues, (vs) => anyOf(vs.map((v) => stringMatcher(v)), (c) => c.sni));
    case 'source.principal':
      return field(cond.values, cond.notValues, (vs) => principals(vs, o));
    case 'source.namespace':
      return field(cond.values, cond.notValues, namespaces);
    case 'source.serviceAccount':
      return field(cond.values, cond.notValues, (vs) => serviceAccounts(vs, o));
    case 'source.trustDomain':
      return field(cond.values, cond.notValues, (vs) => trustDomains(vs, o));
    case 'request.auth.principal':
      return field(cond.values, cond.notValues, jwtPrincipals);
    case 'request.auth.audiences':
      return field(cond.values, cond.notValues, (vs) => listMatcher(vs, (c) => c.jwt?.audiences ?? []));
    case 'request.auth.presenter':
      return field(cond.values, cond.notValues, (vs) => listMatcher(vs, (c) => (c.jwt?.presenter === undefined ? [] : [c.jwt.presenter])));
    default:
      // experimental.envoy.filters.*: Envoy dynamic metadata the oracle cannot know.
      return [() => UNKNOWN];
  }
}

export function compileRule(rule: AuthorizationRule, o: CompileOptions): CompiledRule {
  try {
    const when = (rule.when ?? []).flatMap((c) => conditionPredicate(c, o));
    const from = rule.from === undefined || rule.from.length === 0 ? [always] : rule.from.map((f) => allOf(sourcePredicate(f.source ?? {}, o)));
    const to = rule.to === undefined || rule.to.length === 0 ? [always] : rule.to.map((t) => allOf(operationPredicate(t.operation ?? {}, o)));
    const fromMatch = from.length === 1 ? (from[0] ?? always) : oneOf(from);
    const toMatch = to.length === 1 ? (to[0] ?? always) : oneOf(to);
    return { match: allOf([fromMatch, toMatch, ...when]) };
  } catch (error) {
    if (error instanceof HttpOnlyOnTcp) return { match: never, dropped: 'uses HTTP-only fields, so an ALLOW rule is dropped on a TCP port' };
    throw error;
  }
}
