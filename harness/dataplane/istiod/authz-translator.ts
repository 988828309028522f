/**
 * AuthorizationPolicies → Envoy RBAC filters, as istiod builds them for a sidecar's inbound
 * chain (istio/istio pilot/pkg/security/authz/builder/builder.go and model/model.go; read from
 * source, summarized in istio-semantics.md §2 and envoy-mapping.md §4). This is the reference
 * data plane's "control plane" half; sidecar/rbac-engine.ts evaluates what it produces. It
 * shares nothing with harness/oracle, which reads the same spec independently.
 *
 * - Filters, in chain order: CUSTOM (as "bad custom" DENY rules: meshproof has no ext_authz
 *   provider, so istiod's fail-closed rules apply), AUDIT (`LOG`), root-namespace DENY, DENY, ALLOW.
 *   A filter exists only when some policy has that action.
 * - Policy keys: `ns[<ns>]-policy[<name>]-rule[<i>]`. A policy without rules gets one policy that
 *   never matches (allow-nothing for ALLOW).
 * - Within a rule: each `from` is a principal and each `to` a permission (ORed); fields inside
 *   are ANDed, values inside ORed, `notX` is NOT(OR(...)); `when` conditions are ANDed into every
 *   principal (source.*, request.*) or every permission (destination.*, connection.sni).
 * - TCP chains: an HTTP-only field makes an ALLOW rule disappear, while in DENY and AUDIT only that
 *   value disappears (the rule grows). Same for any value istiod cannot translate.
 * - Trust domains: principals naming the mesh trust domain, an alias or `cluster.local` are
 *   expanded to every trust domain of the bundle.
 */
import { parseGoBool } from '../../model/annotations.ts';
import type { AuthorizationCondition, AuthorizationOperation, AuthorizationPolicy, AuthorizationRule, AuthorizationSource } from '../../model/resources.ts';
import { SPIFFE_PREFIX } from '../../model/identity.ts';
import {
  TranslateError,
  authenticated,
  bracketName,
  cidr,
  headerMatcher,
  hostMatcher,
  jwtClaimPrincipal,
  namespacePrincipal,
  nestedBracketNames,
  pathPermission,
  port,
  requestPrincipal,
  serviceAccountPrincipal,
  stringMatcher,
  trustDomainPrincipal,
} from './authz-matchers.ts';
import type { Permission, Principal, RbacAction, RbacFilter, RbacPolicy, RbacRules } from './rbac.ts';

export interface TranslateOptions {
  readonly protocol: 'http' | 'tcp';
  /** Mesh trust domain followed by its aliases. */
  readonly trustDomains: readonly string[];
  readonly rootNamespace: string;
}

/** Something istiod would log while building: a skipped rule or value, a fail-closed CUSTOM policy. */
export interface TranslateNote {
  readonly policy: string;
  readonly message: string;
}

export interface TranslatedAuthorization {
  readonly filters: readonly RbacFilter[];
  readonly notes: readonly TranslateNote[];
}

const DRY_RUN = 'istio.io/dry-run';
const SHADOW_ALLOW_PREFIX = 'istio_dry_run_allow_';
const SHADOW_DENY_PREFIX = 'istio_dry_run_deny_';
const BAD_CUSTOM_SUFFIX = '-deny-due-to-bad-CUSTOM-action';
const MATCH_NEVER: RbacPolicy = { permissions: [{ notRule: { any: true } }], principals: [{ notId: { any: true } }] };

type Kind = 'permission' | 'principal';
type Generate = (value: string) => Permission | Principal | undefined;

/** One field or condition of a rule: its values, its not-values, and how a value becomes a matcher. */
interface Item {
  readonly kind: Kind;
  readonly key: string;
  readonly values: readonly string[];
  readonly notValues: readonly string[];
  readonly generate: Generate;
}

export function translateAuthorization(policies: readonly AuthorizationPolicy[], options: TranslateOptions): TranslatedAuthorization {
  const notes: TranslateNote[] = [];
  const by = (test: (p: AuthorizationPolicy) => boolean): AuthorizationPolicy[] => policies.filter(test);
  const action = (p: AuthorizationPolicy): string => p.spec.action ?? 'ALLOW';
  const filters: RbacFilter[] = [];
  filters.push(...customFilters(by((p) => action(p) === 'CUSTOM'), options, notes));
  const groups: [RbacFilter['source'], RbacAction, AuthorizationPolicy[]][] = [
    ['audit', 'LOG', by((p) => action(p) === 'AUDIT')],
    ['deny-root', 'DENY', by((p) => action(p) === 'DENY' && p.namespace === options.rootNamespace)],
    ['deny', 'DENY', by((p) => action(p) === 'DENY' && p.namespace !== options.rootNamespace)],
    ['allow', 'ALLOW', by((p) => action(p) === 'ALLOW')],
  ];
  for (const [source, rbacAction, group] of groups) {
    if (group.length === 0) continue;
    const built = build(group, rbacAction, options, notes, '');
    filters.push({
      source,
      ...(built.rules === undefined ? {} : { rules: built.rules }),
      ...(built.shadow === undefined ? {} : { shadowRules: built.shadow }),
      // istiod's shadowRuleStatPrefix(shadowRules): nil rules read as action ALLOW (the proto default).
      ...(shadowPrefix(built.shadow) === '' ? {} : { shadowRulesStatPrefix: shadowPrefix(built.shadow) }),
    });
  }
  return { filters, notes };
}

function shadowPrefix(shadow: RbacRules | undefined): string {
  const a = shadow?.action ?? 'ALLOW';
  return a === 'ALLOW' ? SHADOW_ALLOW_PREFIX : a === 'DENY' ? SHADOW_DENY_PREFIX : '';
}

/** CUSTOM with no usable provider: one DENY filter per provider, denying what the rules match (fail closed). */
function customFilters(policies: readonly AuthorizationPolicy[], options: TranslateOptions, notes: TranslateNote[]): RbacFilter[] {
  const providers = [...new Set(policies.map((p) => p.spec.provider?.name ?? ''))].sort();
  return providers.map((provider) => {
    const mine = policies.filter((p) => (p.spec.provider?.name ?? '') === provider);
    for (const p of mine) notes.push({ policy: `${p.namespace}/${p.name}`, message: `CUSTOM action (provider '${provider}') is not supported: its rules deny what they match, as istiod's "bad custom" rules do` });
    const prefix = provider === '' ? 'istio-ext-authz-' : `istio-ext-authz-${provider}-`;
    const built = build(mine, 'DENY', options, notes, prefix);
    const policiesOut: Record<string, RbacPolicy> = {};
    for (const [name, policy] of Object.entries(built.rules?.policies ?? {})) policiesOut[name + BAD_CUSTOM_SUFFIX] = policy;
    return { source: 'custom' as const, rules: { action: 'DENY' as const, policies: policiesOut } };
  });
}

function build(policies: readonly AuthorizationPolicy[], action: RbacAction, options: TranslateOptions, notes: TranslateNote[], namePrefix: string): { rules?: RbacRules; shadow?: RbacRules } {
  const enforce: Record<string, RbacPolicy> = {};
  const shadow: Record<string, RbacPolicy> = {};
  let hasEnforce = false;
  let hasShadow = false;
  for (const policy of policies) {
    const ref = `${policy.namespace}/${policy.name}`;
    const dryRun = parseDryRun(policy.annotations[DRY_RUN], ref, notes);
    const target = dryRun ? shadow : enforce;
    if (dryRun) hasShadow = true;
    else hasEnforce = true;
    const rules = policy.spec.rules ?? [];
    rules.forEach((rule, i) => {
      const name = `${namePrefix}ns[${policy.namespace}]-policy[${policy.name}]-rule[${i}]`;
      try {
        target[name] = generatePolicy(rule, policy.namespace, action, options);
      } catch (error) {
        if (!(error instanceof TranslateError)) throw error;
        notes.push({ policy: ref, message: `rule ${i} skipped on the ${options.protocol.toUpperCase()} chain: ${error.message}` });
      }
    });
    if (rules.length === 0) target[`${namePrefix}ns[${policy.namespace}]-policy[${policy.name}]-rule[0]`] = MATCH_NEVER;
  }
  return {
    ...(hasEnforce ? { rules: { action, policies: enforce } } : {}),
    ...(hasShadow ? { shadow: { action, policies: shadow } } : {}),
  };
}

/** strconv.ParseBool; istiod logs an invalid value and enforces the policy. */
function parseDryRun(value: string | undefined, ref: string, notes: TranslateNote[]): boolean {
  if (value === undefined) return false;
  const parsed = parseGoBool(value);
  if (parsed !== undefined) return parsed;
  notes.push({ policy: ref, message: `annotation ${DRY_RUN}: '${value}' is not a boolean; the policy is enforced` });
  return false;
}

function generatePolicy(rule: AuthorizationRule, policyNamespace: string, action: RbacAction, options: TranslateOptions): RbacPolicy {
  const base = (rule.when ?? []).map((c) => conditionItem(c, policyNamespace, options));
  const basePermissions = base.filter((i) => i.kind === 'permission');
  const basePrincipals = base.filter((i) => i.kind === 'principal');
  const principals = (rule.from ?? [{}]).map((f) => [...sourceItems(f.source, policyNamespace, options), ...basePrincipals]);
  const permissions = (rule.to ?? [{}]).map((t) => [...operationItems(t.operation, options), ...basePermissions]);
  return {
    permissions: permissions.map((items) => ({ andRules: { rules: orAny(generateItems(items, action), { any: true } as Permission) } })),
    principals: principals.map((items) => ({ andIds: { ids: orAny(generateItems(items, action), { any: true } as Principal) } })),
  };
}

function orAny<T>(list: T[], any: T): T[] {
  return list.length === 0 ? [any] : list;
}

/** `[OR(values)]` then `[NOT(OR(notValues))]` for each item; untranslatable values follow istiod's checkError. */
function generateItems<T extends Permission | Principal>(items: readonly Item[], action: RbacAction): T[] {
  const out: T[] = [];
  for (const item of items) {
    const translate = (values: readonly string[]): T[] => {
      const matchers: T[] = [];
      for (const value of values) {
        try {
          const m = item.generate(value);
          if (m !== undefined) matchers.push(m as T);
        } catch (error) {
          // ALLOW: the whole rule goes (a narrower allow). DENY, AUDIT: only this value (a wider deny).
          if (action === 'ALLOW' || !(error instanceof TranslateError)) throw error;
        }
      }
      return matchers;
    };
    const values = translate(item.values);
    if (values.length > 0) out.push((item.kind === 'permission' ? { orRules: { rules: values } } : { orIds: { ids: values } }) as unknown as T);
    const notValues = translate(item.notValues);
    if (notValues.length > 0) out.push((item.kind === 'permission' ? { notRule: { orRules: { rules: notValues } } } : { notId: { orIds: { ids: notValues } } }) as unknown as T);
  }
  return out;
}

const item = (kind: Kind, key: string, values: readonly string[] | undefined, notValues: readonly string[] | undefined, generate: Generate): Item[] =>
  (values?.length ?? 0) + (notValues?.length ?? 0) === 0 ? [] : [{ kind, key, values: values ?? [], notValues: notValues ?? [], generate }];

function httpOnly(options: TranslateOptions, key: string, generate: Generate): Generate {
  return options.protocol === 'tcp'
    ? () => {
        throw new TranslateError(`'${key}' is HTTP only`);
      }
    : generate;
}

/** `source.principals` / `source.principal`: the peer's SPIFFE id, written without `spiffe://`. */
const principalGenerator: Generate = (value) => authenticated(stringMatcher(value, SPIFFE_PREFIX));

function sourceItems(source: AuthorizationSource | undefined, ns: string, options: TranslateOptions): Item[] {
  if (source === undefined) return [];
  const s = source;
  const requestPrincipals = httpOnly(options, 'requestPrincipals', requestPrincipal);
  return [
    ...item('principal', 'principals', expandTrustDomains(s.principals, options), expandTrustDomains(s.notPrincipals, options), principalGenerator),
    ...item('principal', 'requestPrincipals', s.requestPrincipals, s.notRequestPrincipals, requestPrincipals),
    ...item('principal', 'serviceAccounts', s.serviceAccounts, s.notServiceAccounts, (v) => serviceAccountPrincipal(v, ns)),
    ...item('principal', 'trustDomains', expandTrustDomainNames(s.trustDomains, options), expandTrustDomainNames(s.notTrustDomains, options), trustDomainPrincipal),
    ...item('principal', 'namespaces', s.namespaces, s.notNamespaces, namespacePrincipal),
    ...item('principal', 'remoteIpBlocks', s.remoteIpBlocks, s.notRemoteIpBlocks, (v) => ({ remoteIp: cidr(v) })),
    ...item('principal', 'ipBlocks', s.ipBlocks, s.notIpBlocks, (v) => ({ directRemoteIp: cidr(v) })),
  ];
}

function operationItems(operation: AuthorizationOperation | undefined, options: TranslateOptions): Item[] {
  if (operation === undefined) return [];
  const o = operation;
  return [
    ...item('permission', 'hosts', o.hosts, o.notHosts, httpOnly(options, 'hosts', (v) => ({ header: hostMatcher(v) }))),
    ...item('permission', 'methods', o.methods, o.notMethods, httpOnly(options, 'methods', (v) => ({ header: headerMatcher(':method', v) }))),
    ...item('permission', 'paths', o.paths, o.notPaths, httpOnly(options, 'paths', pathPermission)),
    ...item('permission', 'ports', o.ports, o.notPorts, (v) => ({ destinationPort: port(v) })),
  ];
}

function conditionItem(c: AuthorizationCondition, ns: string, options: TranslateOptions): Item {
  const k = c.key;
  const make = (kind: Kind, generate: Generate): Item => ({ kind, key: k, values: c.values ?? [], notValues: c.notValues ?? [], generate });
  switch (k) {
    case 'destination.ip':
      return make('permission', (v) => ({ destinationIp: cidr(v) }));
    case 'destination.port':
      return make('permission', (v) => ({ destinationPort: port(v) }));
    case 'connection.sni':
      return make('permission', (v) => ({ requestedServerName: stringMatcher(v) }));
    case 'source.ip':
      return make('principal', (v) => ({ directRemoteIp: cidr(v) }));
    case 'remote.ip':
      return make('principal', (v) => ({ remoteIp: cidr(v) }));
    case 'source.namespace':
      return make('principal', namespacePrincipal);
    case 'source.principal':
      return { ...make('principal', principalGenerator), values: expandTrustDomains(c.values, options) ?? [], notValues: expandTrustDomains(c.notValues, options) ?? [] };
    case 'source.serviceAccount':
      return make('principal', (v) => serviceAccountPrincipal(v, ns));
    case 'source.trustDomain':
      return { ...make('principal', trustDomainPrincipal), values: expandTrustDomainNames(c.values, options) ?? [], notValues: expandTrustDomainNames(c.notValues, options) ?? [] };
    case 'request.auth.principal':
      return make('principal', httpOnly(options, k, requestPrincipal));
    case 'request.auth.audiences':
      return make('principal', httpOnly(options, k, (v) => jwtClaimPrincipal(['aud'], v)));
    case 'request.auth.presenter':
      return make('principal', httpOnly(options, k, (v) => jwtClaimPrincipal(['azp'], v)));
  }
  if (k.startsWith('request.headers')) {
    const name = bracketName(k, 'request.headers');
    return make('principal', httpOnly(options, k, (v) => ({ header: headerMatcher(name, v) })));
  }
  if (k.startsWith('request.auth.claims')) {
    const claims = nestedBracketNames(k, 'request.auth.claims');
    return make('principal', httpOnly(options, k, (v) => jwtClaimPrincipal(claims, v)));
  }
  if (k.startsWith('experimental.envoy.filters.')) {
    const [filter = '', rest = ''] = k.slice('experimental.'.length).replace(/]$/, '').split('[');
    return make('permission', (v) => ({ metadata: { filter, path: [rest], value: { stringMatch: stringMatcher(v) } } }));
  }
  // istiod rejects the whole rule for an unknown attribute, whatever the action.
  throw new TranslateError(`unknown attribute ${k}`);
}

/**
 * Trust-domain aliasing of principals (istio pilot/pkg/security/trustdomain/bundle.go,
 * ReplaceTrustDomainAliases): a `td/ns/x/sa/y` principal whose td is in the bundle, or is
 * `cluster.local`, becomes one principal per trust domain of the bundle; any other is kept.
 */
export function expandTrustDomains(principals: readonly string[] | undefined, options: Pick<TranslateOptions, 'trustDomains'>): string[] | undefined {
  if (principals === undefined) return undefined;
  // istiod trustdomain.ReplaceTrustDomainAliases: a principal whose trust domain is in the bundle
  // (matched with `*` prefix/suffix patterns on either side), or is cluster.local, stands for
  // the principal in every trust domain of the bundle.
  const bundle = options.trustDomains;
  const out: string[] = [];
  const add = (p: string): void => {
    if (!out.includes(p)) out.push(p);
  };
  for (const principal of principals) {
    const parts = principal.split('/');
    const td = parts[0] ?? '';
    if (parts.length !== 5 || td === '*') {
      add(principal);
      continue;
    }
    const inBundle = bundle.some((b) => td === b || b === '*' || patternMatch(td, b) || patternMatch(b, td));
    if (!inBundle && td !== 'cluster.local') {
      add(principal);
      continue;
    }
    for (const b of bundle) add(patternMatch(b, td) && td.startsWith('*') ? principal : [b, ...parts.slice(1)].join('/'));
  }
  return out;
}

/** istiod trustdomain isTrustDomainMatch helper: `pattern` with a leading or trailing `*`. */
function patternMatch(value: string, pattern: string): boolean {
  if (pattern.endsWith('*') && value.startsWith(pattern.slice(0, -1))) return true;
  return pattern.startsWith('*') && value.endsWith(pattern.slice(1));
}

/** `trustDomains` values: one naming the bundle (or `cluster.local`) stands for every trust domain of it [derived]. */
function expandTrustDomainNames(values: readonly string[] | undefined, options: Pick<TranslateOptions, 'trustDomains'>): string[] | undefined {
  if (values === undefined) return undefined;
  const out: string[] = [];
  for (const v of values) {
    const names = options.trustDomains.includes(v) || v === 'cluster.local' ? options.trustDomains : [v];
    for (const n of names) if (!out.includes(n)) out.push(n);
  }
  return out;
}
