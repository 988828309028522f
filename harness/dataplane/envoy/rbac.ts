/**
 * AuthorizationPolicy → Envoy RBAC, as istiod builds it for a sidecar (envoy-mapping.md §4;
 * istio/istio pilot/pkg/security/authz/{builder,model,matcher}, read at 1.30 and master).
 *
 * - One RBAC filter per action, in the order CUSTOM, AUDIT (`action: LOG`), DENY, ALLOW. A
 *   policy of no action leaves that filter out.
 * - Each rule is one Envoy policy named `ns[<ns>]-policy[<name>]-rule[<i>]`. A policy with no
 *   `rules` becomes one policy that never matches (so an ALLOW with no rules denies all).
 * - Within a rule: each `from` is a principal (`and_ids` of one `or_ids` per field), each `to`
 *   a permission (`and_rules` of one `or_rules` per field), `notX` values become
 *   `not_id`/`not_rule` of an OR, and `when` conditions are appended to every principal
 *   (source.*, request.*) or permission (destination.*, connection.sni).
 * - Field order (istiod's insertFront): principals, requestPrincipals, serviceAccounts,
 *   trustDomains, namespaces, remoteIpBlocks, ipBlocks, then `when`; hosts, methods, paths,
 *   ports, then `when`.
 * - On a TCP chain an HTTP-only field is an error: in ALLOW the whole rule is dropped (narrower
 *   allow), in DENY/AUDIT/CUSTOM only that field is (wider deny).
 * - Dry-run policies (`istio.io/dry-run: "true"`) go to `shadow_rules`.
 * - CUSTOM: meshproof's mesh settings name no extension provider, so istiod would find none and
 *   fail closed with "bad CUSTOM" DENY rules; that is what is rendered.
 *
 * Readings chosen where the sources differ or are silent [derived]:
 * - Suffix wildcards in principals are `spiffe://.*<suffix>` with the suffix as written (istiod's
 *   matcher/string.go does not quote it; the mapping's QuoteMeta note is not in the code read).
 * - `trustDomains` (newer API): exact → prefix `spiffe://<td>/`; `*` → any trust domain;
 *   a `*` inside → regex with `[^/]*` for it.
 * - `requestPrincipals` and `request.auth.*` read `istio_authn` metadata, which nothing sets
 *   in a meshproof sidecar (no RequestAuthentication), so they never match.
 */
import { SPIFFE_PREFIX } from '../../model/identity.ts';
import { envoyPolicyName, type AuthorizationCondition, type AuthorizationPolicy, type AuthorizationRule } from '../../model/resources.ts';
import { typeUrl, type JsonObject } from './json.ts';

export const RBAC_HTTP_FILTER = 'envoy.filters.http.rbac';
export const RBAC_NETWORK_FILTER = 'envoy.filters.network.rbac';
const RBAC_HTTP_TYPE = typeUrl('envoy.extensions.filters.http.rbac.v3.RBAC');
const RBAC_NETWORK_TYPE = typeUrl('envoy.extensions.filters.network.rbac.v3.RBAC');
const URI_TEMPLATE_TYPE = typeUrl('envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig');
const SHADOW_ALLOW_PREFIX = 'istio_dry_run_allow_';
const SHADOW_DENY_PREFIX = 'istio_dry_run_deny_';
const TCP_STAT_PREFIX = 'tcp.';
const AUTHN_FILTER = 'istio_authn';
const BAD_CUSTOM_SUFFIX = '-deny-due-to-bad-CUSTOM-action';
const CUSTOM_PREFIX = 'istio-ext-authz-';

type EnvoyAction = 'ALLOW' | 'DENY' | 'LOG';
type Matcher = JsonObject;
/** A generated matcher, or why the value cannot be expressed here (an HTTP-only field on TCP). */
type Generated = { readonly ok: JsonObject } | { readonly error: string };

interface Generator {
  readonly permission?: (value: string, forTcp: boolean) => Generated;
  readonly principal?: (value: string, forTcp: boolean) => Generated;
}

interface RuleField {
  readonly key: string;
  readonly values: readonly string[];
  readonly notValues: readonly string[];
  readonly generator: Generator;
}

export interface RbacContext {
  /** The mesh trust domain, then its aliases. */
  readonly trustDomains: readonly string[];
}

// ------------------------------------------------------------------ matchers (istiod matcher/)

function regex(pattern: string): Matcher {
  return { safe_regex: { regex: pattern } };
}

/** istiod StringMatcherWithPrefix: `*` → `.+`; `*x` → suffix (regex when prefixed); `x*` → prefix; else exact. */
export function stringMatcher(value: string, prefix = ''): Matcher {
  if (value === '*') return regex('.+');
  if (value.startsWith('*')) return prefix === '' ? { suffix: value.slice(1) } : regex(`${prefix}.*${value.slice(1)}`);
  if (value.endsWith('*')) return { prefix: prefix + value.slice(0, -1) };
  return { exact: prefix + value };
}

function headerMatcher(name: string, value: string, ignoreCase = false): JsonObject {
  if (value === '*') return { name, present_match: true };
  return { name, string_match: ignoreCase ? { ...stringMatcher(value), ignore_case: true } : stringMatcher(value) };
}

function cidr(value: string): JsonObject {
  const [address = '', length] = value.split('/');
  return { address_prefix: address, prefix_len: length === undefined ? (address.includes(':') ? 128 : 32) : Number(length) };
}

const ok = (value: JsonObject): Generated => ({ ok: value });
const httpOnly = (key: string): Generated => ({ error: `"${key}" is HTTP only` });
const authenticated = (m: Matcher): JsonObject => ({ authenticated: { principal_name: m } });

function isPathTemplate(value: string): boolean {
  return value.includes('{*}') || value.includes('{**}');
}

// ------------------------------------------------------------------ generators (istiod model/generator.go)

const principalGen: Generator = { principal: (v) => ok(authenticated(stringMatcher(v, SPIFFE_PREFIX))) };
const namespaceGen: Generator = { principal: (v) => ok(authenticated(regex(`.*/ns/${v.replaceAll('*', '.*')}/.*`))) };
const serviceAccountGen = (policyNamespace: string): Generator => ({
  principal: (v) => {
    const slash = v.indexOf('/');
    const [ns, sa] = slash < 0 ? [policyNamespace, v] : [v.slice(0, slash), v.slice(slash + 1)];
    return ok(authenticated(regex(`spiffe://.+/ns/${ns}/(.+/|)sa/${sa}(/.+)?`)));
  },
});
const trustDomainGen: Generator = {
  principal: (v) => {
    if (v === '*') return ok(authenticated(regex('spiffe://[^/]+/.*')));
    if (v.includes('*')) return ok(authenticated(regex(`spiffe://${v.split('*').join('[^/]*')}/.*`)));
    return ok(authenticated({ prefix: `${SPIFFE_PREFIX}${v}/` }));
  },
};
const srcIpGen: Generator = { principal: (v) => ok({ direct_remote_ip: cidr(v) }) };
const remoteIpGen: Generator = { principal: (v) => ok({ remote_ip: cidr(v) }) };
const authnMetadata = (key: string, value: JsonObject): JsonObject => ({ metadata: { filter: AUTHN_FILTER, path: [{ key }], value } });
const requestPrincipalGen = (key: string): Generator => ({
  principal: (v, tcp) => (tcp ? httpOnly(key) : ok(authnMetadata(key, { string_match: stringMatcher(v) }))),
});
const requestClaimGen = (key: string): Generator => ({
  principal: (v, tcp) => {
    if (tcp) return httpOnly(key);
    const claims = [...key.slice('request.auth.claims'.length).matchAll(/\[([^\]]+)\]/g)].map((m) => ({ key: m[1] ?? '' }));
    return ok({ metadata: { filter: AUTHN_FILTER, path: [{ key: 'request.auth.claims' }, ...claims], value: { list_match: { one_of: { string_match: stringMatcher(v) } } } } });
  },
});
const requestHeaderGen = (key: string): Generator => ({
  principal: (v, tcp) => (tcp ? httpOnly(key) : ok({ header: headerMatcher(/\[(.+)\]/.exec(key)?.[1] ?? '', v) })),
});
const hostGen: Generator = { permission: (v, tcp) => (tcp ? httpOnly('hosts') : ok({ header: headerMatcher(':authority', v, true) })) };
const methodGen: Generator = { permission: (v, tcp) => (tcp ? httpOnly('methods') : ok({ header: headerMatcher(':method', v) })) };
const pathGen: Generator = {
  permission: (v, tcp) => {
    if (tcp) return httpOnly('paths');
    if (isPathTemplate(v)) return ok({ uri_template: { name: 'uri-template', typed_config: { '@type': URI_TEMPLATE_TYPE, path_template: v.replaceAll('{**}', '**').replaceAll('{*}', '*') } } });
    return ok({ url_path: { path: stringMatcher(v) } });
  },
};
const destPortGen: Generator = { permission: (v) => ok({ destination_port: Number(v) }) };
const destIpGen: Generator = { permission: (v) => ok({ destination_ip: cidr(v) }) };
const sniGen: Generator = { permission: (v) => ok({ requested_server_name: stringMatcher(v) }) };
const envoyFilterGen = (key: string): Generator => ({
  permission: (v) => {
    const [filter = '', field = ''] = key.slice('experimental.'.length).replace(/\]$/, '').split('[');
    const list = v.startsWith('[') && v.endsWith(']');
    const value = list ? { list_match: { one_of: { string_match: stringMatcher(v.slice(1, -1)) } } } : { string_match: stringMatcher(v) };
    return ok({ metadata: { filter, path: [{ key: field }], value } });
  },
});

// ------------------------------------------------------------------ trust-domain aliasing (istiod trustdomain/)

function patternMatch(a: string, pattern: string): boolean {
  if (pattern.endsWith('*') && a.startsWith(pattern.slice(0, -1))) return true;
  return pattern.startsWith('*') && a.endsWith(pattern.slice(1));
}

/** ReplaceTrustDomainAliases: a principal in a trust domain of the bundle (or cluster.local) stands for all of them. */
export function replaceTrustDomainAliases(principals: readonly string[], bundle: readonly string[]): string[] {
  const out: string[] = [];
  for (const principal of principals) {
    const parts = principal.split('/');
    const td = parts[0] ?? '';
    if (parts.length !== 5 || td === '*') {
      out.push(principal);
      continue;
    }
    const inBundle = bundle.some((b) => td === b || b === '*' || patternMatch(td, b) || patternMatch(b, td));
    if (!inBundle && td !== 'cluster.local') {
      out.push(principal);
      continue;
    }
    const expanded: string[] = [];
    for (const b of bundle) {
      const next = patternMatch(b, td) && td.startsWith('*') ? principal : [b, ...parts.slice(1)].join('/');
      if (!expanded.includes(next)) expanded.push(next);
    }
    out.push(...expanded);
  }
  return out;
}

function expandTrustDomainAliases(values: readonly string[], bundle: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const x of bundle.includes(v) ? bundle : [v]) if (!out.includes(x)) out.push(x);
  return out;
}

// ------------------------------------------------------------------ rule model (istiod model/model.go)

function field(key: string, values: readonly string[] | undefined, notValues: readonly string[] | undefined, generator: Generator): RuleField[] {
  return (values?.length ?? 0) === 0 && (notValues?.length ?? 0) === 0 ? [] : [{ key, values: values ?? [], notValues: notValues ?? [], generator }];
}

function conditionField(c: AuthorizationCondition, ctx: RbacContext, policyNamespace: string): { kind: 'permission' | 'principal'; field: RuleField[] } {
  const k = c.key;
  const f = (g: Generator, values = c.values, notValues = c.notValues): RuleField[] => field(k, values, notValues, g);
  if (k === 'destination.ip') return { kind: 'permission', field: f(destIpGen) };
  if (k === 'destination.port') return { kind: 'permission', field: f(destPortGen) };
  if (k === 'connection.sni') return { kind: 'permission', field: f(sniGen) };
  if (k.startsWith('experimental.envoy.filters.')) return { kind: 'permission', field: f(envoyFilterGen(k)) };
  if (k === 'source.ip') return { kind: 'principal', field: f(srcIpGen) };
  if (k === 'remote.ip') return { kind: 'principal', field: f(remoteIpGen) };
  if (k === 'source.namespace') return { kind: 'principal', field: f(namespaceGen) };
  if (k === 'source.principal') {
    const expand = (v: readonly string[] | undefined) => (v === undefined ? undefined : replaceTrustDomainAliases(v, ctx.trustDomains));
    return { kind: 'principal', field: f(principalGen, expand(c.values), expand(c.notValues)) };
  }
  if (k === 'source.serviceAccount') return { kind: 'principal', field: f(serviceAccountGen(policyNamespace)) };
  if (k === 'source.trustDomain') {
    const expand = (v: readonly string[] | undefined) => (v === undefined ? undefined : expandTrustDomainAliases(v, ctx.trustDomains));
    return { kind: 'principal', field: f(trustDomainGen, expand(c.values), expand(c.notValues)) };
  }
  if (k === 'request.auth.principal') return { kind: 'principal', field: f(requestPrincipalGen(k)) };
  if (k === 'request.auth.audiences') return { kind: 'principal', field: f(requestClaimGen('request.auth.claims[aud]')) };
  if (k === 'request.auth.presenter') return { kind: 'principal', field: f(requestClaimGen('request.auth.claims[azp]')) };
  if (k.startsWith('request.auth.claims')) return { kind: 'principal', field: f(requestClaimGen(k)) };
  if (k.startsWith('request.headers')) return { kind: 'principal', field: f(requestHeaderGen(k)) };
  // Validation refuses every other key before rendering; reaching here is a bug.
  throw new Error(`unknown condition key ${k}`);
}

interface RuleModel {
  readonly principals: readonly (readonly RuleField[])[];
  readonly permissions: readonly (readonly RuleField[])[];
}

function ruleModel(rule: AuthorizationRule, ctx: RbacContext, policyNamespace: string): RuleModel {
  const basePrincipal: RuleField[] = [];
  const basePermission: RuleField[] = [];
  for (const c of rule.when ?? []) {
    const { kind, field: fs } = conditionField(c, ctx, policyNamespace);
    (kind === 'principal' ? basePrincipal : basePermission).push(...fs);
  }
  const principals = (rule.from ?? []).map(({ source: s }) => [
    ...field('source.principal', s?.principals === undefined ? undefined : replaceTrustDomainAliases(s.principals, ctx.trustDomains), s?.notPrincipals === undefined ? undefined : replaceTrustDomainAliases(s.notPrincipals, ctx.trustDomains), principalGen),
    ...field('request.auth.principal', s?.requestPrincipals, s?.notRequestPrincipals, requestPrincipalGen('request.auth.principal')),
    ...field('source.serviceAccount', s?.serviceAccounts, s?.notServiceAccounts, serviceAccountGen(policyNamespace)),
    ...field('source.trustDomain', s?.trustDomains === undefined ? undefined : expandTrustDomainAliases(s.trustDomains, ctx.trustDomains), s?.notTrustDomains === undefined ? undefined : expandTrustDomainAliases(s.notTrustDomains, ctx.trustDomains), trustDomainGen),
    ...field('source.namespace', s?.namespaces, s?.notNamespaces, namespaceGen),
    ...field('remote.ip', s?.remoteIpBlocks, s?.notRemoteIpBlocks, remoteIpGen),
    ...field('source.ip', s?.ipBlocks, s?.notIpBlocks, srcIpGen),
    ...basePrincipal,
  ]);
  const permissions = (rule.to ?? []).map(({ operation: o }) => [
    ...field('hosts', o?.hosts, o?.notHosts, hostGen),
    ...field('methods', o?.methods, o?.notMethods, methodGen),
    ...field('paths', o?.paths, o?.notPaths, pathGen),
    ...field('ports', o?.ports, o?.notPorts, destPortGen),
    ...basePermission,
  ]);
  return { principals: principals.length === 0 ? [basePrincipal] : principals, permissions: permissions.length === 0 ? [basePermission] : permissions };
}

/** One side (principal or permission) of a rule, or the error that drops an ALLOW rule. */
function generateSide(fields: readonly RuleField[], side: 'principal' | 'permission', forTcp: boolean, action: EnvoyAction): { ok: JsonObject } | { error: string } {
  const [and, or, not, any] = side === 'principal' ? (['and_ids', 'or_ids', 'not_id', 'ids'] as const) : (['and_rules', 'or_rules', 'not_rule', 'rules'] as const);
  const items: JsonObject[] = [];
  for (const f of fields) {
    for (const [values, negate] of [[f.values, false], [f.notValues, true]] as const) {
      const matched: JsonObject[] = [];
      for (const v of values) {
        const generate = side === 'principal' ? f.generator.principal : f.generator.permission;
        const g = generate === undefined ? { error: `${f.key} has no ${side} form` } : generate(v, forTcp);
        if ('error' in g) {
          // istiod checkError: an ALLOW rule with an error is dropped; DENY/AUDIT skip the value.
          if (action === 'ALLOW') return g;
          continue;
        }
        matched.push(g.ok);
      }
      if (matched.length === 0) continue;
      const orMatcher = { [or]: { [any]: matched } };
      items.push(negate ? { [not]: orMatcher } : orMatcher);
    }
  }
  if (items.length === 0) items.push({ any: true });
  return { ok: { [and]: { [any]: items } } };
}

const MATCH_NEVER: JsonObject = { permissions: [{ not_rule: { any: true } }], principals: [{ not_id: { any: true } }] };

interface BuiltRules {
  readonly rules?: JsonObject;
  readonly shadowRules?: JsonObject;
}

/** istiod's isDryRun: strconv.ParseBool of the annotation; anything unparsable is false. */
export function isDryRun(policy: AuthorizationPolicy): boolean {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(policy.annotations['istio.io/dry-run'] ?? '');
}

function buildRules(policies: readonly AuthorizationPolicy[], action: EnvoyAction, forTcp: boolean, ctx: RbacContext, name: (p: AuthorizationPolicy, i: number) => string): BuiltRules | undefined {
  if (policies.length === 0) return undefined;
  const enforce: Record<string, JsonObject> = {};
  const shadow: Record<string, JsonObject> = {};
  let hasEnforce = false;
  let hasShadow = false;
  for (const policy of policies) {
    const dryRun = isDryRun(policy);
    const target = dryRun ? shadow : enforce;
    if (dryRun) hasShadow = true;
    else hasEnforce = true;
    const rules = policy.spec.rules ?? [];
    rules.forEach((rule, i) => {
      const model = ruleModel(rule, ctx, policy.namespace);
      const permissions: JsonObject[] = [];
      const principals: JsonObject[] = [];
      for (const fields of model.permissions) {
        const g = generateSide(fields, 'permission', forTcp, action);
        if ('error' in g) return;
        permissions.push(g.ok);
      }
      for (const fields of model.principals) {
        const g = generateSide(fields, 'principal', forTcp, action);
        if ('error' in g) return;
        principals.push(g.ok);
      }
      target[name(policy, i)] = { permissions, principals };
    });
    if (rules.length === 0) target[name(policy, 0)] = MATCH_NEVER;
  }
  const sorted = (m: Record<string, JsonObject>): JsonObject => Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k] as JsonObject]));
  return {
    ...(hasEnforce ? { rules: { action, policies: sorted(enforce) } } : {}),
    ...(hasShadow ? { shadowRules: { action, policies: sorted(shadow) } } : {}),
  };
}

/** istiod shadowRuleStatPrefix: by the shadow rules' action; none counts as ALLOW (the proto default). */
function shadowPrefix(built: BuiltRules): string | undefined {
  const action = (built.shadowRules?.['action'] as EnvoyAction | undefined) ?? 'ALLOW';
  if (action === 'ALLOW') return SHADOW_ALLOW_PREFIX;
  if (action === 'DENY') return SHADOW_DENY_PREFIX;
  return undefined;
}

interface ActionGroups {
  readonly custom: AuthorizationPolicy[];
  readonly audit: AuthorizationPolicy[];
  readonly deny: AuthorizationPolicy[];
  readonly allow: AuthorizationPolicy[];
}

function groups(policies: readonly AuthorizationPolicy[]): ActionGroups {
  const g: ActionGroups = { custom: [], audit: [], deny: [], allow: [] };
  for (const p of policies) {
    const action = p.spec.action ?? 'ALLOW';
    if (action === 'CUSTOM') {
      if (!isDryRun(p)) g.custom.push(p);
    } else g[action === 'AUDIT' ? 'audit' : action === 'DENY' ? 'deny' : 'allow'].push(p);
  }
  return g;
}

const ruleName = (p: AuthorizationPolicy, i: number): string => envoyPolicyName(p, i);
const badCustomName = (p: AuthorizationPolicy, i: number): string => `${CUSTOM_PREFIX}${envoyPolicyName(p, i)}${BAD_CUSTOM_SUFFIX}`;

/** The RBAC configs for one chain, in filter order, without the filter wrapper. */
function rbacConfigs(policies: readonly AuthorizationPolicy[], forTcp: boolean, ctx: RbacContext): JsonObject[] {
  const g = groups(policies);
  const out: JsonObject[] = [];
  const custom = buildRules(g.custom, 'DENY', forTcp, ctx, badCustomName);
  if (custom?.rules !== undefined) out.push({ rules: custom.rules });
  for (const [list, action] of [[g.audit, 'LOG'], [g.deny, 'DENY'], [g.allow, 'ALLOW']] as const) {
    const built = buildRules(list, action, forTcp, ctx, ruleName);
    if (built === undefined) continue;
    const prefix = shadowPrefix(built);
    out.push({
      ...(built.rules === undefined ? {} : { rules: built.rules }),
      ...(built.shadowRules === undefined ? {} : { shadow_rules: built.shadowRules }),
      ...(prefix === undefined ? {} : { shadow_rules_stat_prefix: prefix }),
    });
  }
  return out;
}

/** The HTTP filters (`envoy.filters.http.rbac`), in istiod's order, for the policies selecting a workload. */
export function rbacHttpFilters(policies: readonly AuthorizationPolicy[], ctx: RbacContext): JsonObject[] {
  return rbacConfigs(policies, false, ctx).map((config) => ({ name: RBAC_HTTP_FILTER, typed_config: { '@type': RBAC_HTTP_TYPE, ...config } }));
}

/** The network filters (`envoy.filters.network.rbac`, stat prefix `tcp.`) for a TCP port. */
export function rbacNetworkFilters(policies: readonly AuthorizationPolicy[], ctx: RbacContext): JsonObject[] {
  return rbacConfigs(policies, true, ctx).map((config) => {
    const { rules, ...rest } = config;
    return { name: RBAC_NETWORK_FILTER, typed_config: { '@type': RBAC_NETWORK_TYPE, ...(rules === undefined ? {} : { rules }), stat_prefix: TCP_STAT_PREFIX, ...rest } };
  });
}
