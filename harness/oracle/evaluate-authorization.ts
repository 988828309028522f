/**
 * The AuthorizationPolicy decision for one workload (istio-semantics.md §2 "Actions and
 * evaluation order"): CUSTOM, then DENY, then "no ALLOW policy → allow", then ALLOW, else deny.
 * AUDIT never changes the outcome. Dry-run policies (`istio.io/dry-run: "true"`) are evaluated
 * for the record and never enforced.
 *
 * The reported deciding rule follows Envoy: within one action, policies are keyed
 * `ns[..]-policy[..]-rule[i]` and the first matching key in lexicographic order is reported.
 */
import { isDryRun as isDryRunAnnotation } from '../model/annotations.ts';
import { envoyPolicyName, ruleId, type AuthorizationAction, type AuthorizationPolicy } from '../model/resources.ts';
import { UNKNOWN, YES, type AuthzContext } from './authz-context.ts';
import { compileRule, type Predicate } from './compile-rule.ts';
import { buildRuleIndex, candidates, peerKeys, type RuleIndex } from './rule-index.ts';

export interface CompiledPolicyRule {
  readonly id: string;
  readonly envoyName: string;
  readonly policy: AuthorizationPolicy;
  readonly action: AuthorizationAction;
  readonly index: number;
  readonly dryRun: boolean;
  readonly match: Predicate;
  /** Why the rule can never match on this protocol, when it cannot. */
  readonly dropped?: string;
}

/** All rules of the policies that select a workload, compiled for one protocol. */
export interface CompiledAuthorization {
  readonly protocol: 'http' | 'tcp';
  /** Per action, sorted by Envoy policy name (its evaluation order). */
  readonly rules: Readonly<Record<AuthorizationAction, readonly CompiledPolicyRule[]>>;
  /** Per action, which of its rules a request's peer can match (rule-index.ts): evaluation skips the others. */
  readonly index: Readonly<Record<AuthorizationAction, RuleIndex>>;
  /** Enforced (not dry-run) policies per action: "an ALLOW filter exists" needs this, even when it has no rules. */
  readonly enforcedPolicies: Readonly<Record<AuthorizationAction, number>>;
  /** Enforced AUDIT rules and dry-run rules of any action: evaluated for the record only. */
  readonly audit: readonly CompiledPolicyRule[];
  readonly dryRun: readonly CompiledPolicyRule[];
}

/** `istio.io/dry-run` read as istiod reads it (Go strconv.ParseBool: "true", "True", "1", "t", …). */
export function isDryRun(policy: AuthorizationPolicy): boolean {
  return isDryRunAnnotation(policy);
}

export function compileAuthorization(policies: readonly AuthorizationPolicy[], protocol: 'http' | 'tcp', trustDomains: readonly string[]): CompiledAuthorization {
  const rules: Record<AuthorizationAction, CompiledPolicyRule[]> = { ALLOW: [], DENY: [], AUDIT: [], CUSTOM: [] };
  const enforced: Record<AuthorizationAction, number> = { ALLOW: 0, DENY: 0, AUDIT: 0, CUSTOM: 0 };
  for (const policy of policies) {
    const action = policy.spec.action ?? 'ALLOW';
    const dryRun = isDryRun(policy);
    if (!dryRun) enforced[action]++;
    (policy.spec.rules ?? []).forEach((rule, index) => {
      const compiled = compileRule(rule, { protocol, action, policyNamespace: policy.namespace, trustDomains });
      rules[action].push({
        id: ruleId(policy, index),
        envoyName: envoyPolicyName(policy, index),
        policy,
        action,
        index,
        dryRun,
        match: compiled.match,
        ...(compiled.dropped === undefined ? {} : { dropped: compiled.dropped }),
      });
    });
  }
  for (const list of Object.values(rules)) list.sort((a, b) => (a.envoyName < b.envoyName ? -1 : a.envoyName > b.envoyName ? 1 : 0));
  const all = (['CUSTOM', 'DENY', 'ALLOW', 'AUDIT'] as const).flatMap((a) => rules[a]);
  // A dropped rule matches nothing: no key lets it in.
  const indexOf = (list: readonly CompiledPolicyRule[]): RuleIndex =>
    buildRuleIndex(list.map((r) => (r.dropped !== undefined ? new Set<string>() : peerKeys(r.policy.spec.rules?.[r.index] ?? {}, trustDomains))));
  const index = { ALLOW: indexOf(rules.ALLOW), DENY: indexOf(rules.DENY), AUDIT: indexOf(rules.AUDIT), CUSTOM: indexOf(rules.CUSTOM) };
  return { protocol, rules, index, enforcedPolicies: enforced, audit: rules.AUDIT.filter((r) => !r.dryRun), dryRun: all.filter((r) => r.dryRun) };
}

export type AuthorizationVerdict =
  /** Allowed: no ALLOW policy, or an ALLOW rule matched. */
  | 'allow'
  /** A DENY rule matched, or ALLOW policies exist and none matched. */
  | 'deny'
  /** A CUSTOM policy matched (external authorization decides), or a rule reads what the oracle cannot know. */
  | 'unknown';

export interface AuthorizationResult {
  readonly verdict: AuthorizationVerdict;
  /** The rule that decided: the DENY or ALLOW rule that matched (absent for defaults). */
  readonly rule?: CompiledPolicyRule;
  /** One of: custom-matched, deny-matched, no-allow-policy, allow-matched, no-allow-matched, indeterminate. */
  readonly basis: 'custom-matched' | 'deny-matched' | 'no-allow-policy' | 'allow-matched' | 'no-allow-matched' | 'indeterminate';
  /** Envoy `response_code_details` for a denial: `rbac_access_denied_matched_policy[<name>|none]`. */
  readonly responseCodeDetails?: string;
  /** AUDIT rules that matched (marked for audit, no effect). */
  readonly audited: readonly string[];
  /** Dry-run rules that matched, with the action they would have taken. */
  readonly dryRunMatches: readonly { readonly id: string; readonly action: AuthorizationAction }[];
}

function firstMatch(list: readonly CompiledPolicyRule[], index: RuleIndex, ctx: AuthzContext, dryRun: boolean): { rule?: CompiledPolicyRule; unknown?: CompiledPolicyRule } {
  let unknown: CompiledPolicyRule | undefined;
  for (const position of candidates(index, ctx.peer)) {
    const r = list[position] as CompiledPolicyRule;
    if (r.dryRun !== dryRun) continue;
    const m = r.match(ctx);
    if (m === YES) return { rule: r };
    if (m === UNKNOWN) unknown ??= r;
  }
  return unknown === undefined ? {} : { unknown };
}

const NONE: readonly string[] = Object.freeze([]);
const NONE_DRY: readonly { readonly id: string; readonly action: AuthorizationAction }[] = Object.freeze([]);

export function evaluateAuthorization(compiled: CompiledAuthorization, ctx: AuthzContext): AuthorizationResult {
  const audited = compiled.audit.length === 0 ? NONE : compiled.audit.filter((r) => r.match(ctx) === YES).map((r) => r.id);
  const dryRunMatches = compiled.dryRun.length === 0 ? NONE_DRY : compiled.dryRun.filter((r) => r.match(ctx) === YES).map((r) => ({ id: r.id, action: r.action }));
  const base = { audited, dryRunMatches };

  const custom = firstMatch(compiled.rules.CUSTOM, compiled.index.CUSTOM, ctx, false);
  const customRule = custom.rule ?? custom.unknown;
  if (customRule !== undefined) return { ...base, verdict: 'unknown', rule: customRule, basis: 'custom-matched' };

  const deny = firstMatch(compiled.rules.DENY, compiled.index.DENY, ctx, false);
  if (deny.rule !== undefined) return { ...base, verdict: 'deny', rule: deny.rule, basis: 'deny-matched', responseCodeDetails: `rbac_access_denied_matched_policy[${deny.rule.envoyName}]` };
  if (deny.unknown !== undefined) return { ...base, verdict: 'unknown', rule: deny.unknown, basis: 'indeterminate' };

  if (compiled.enforcedPolicies.ALLOW === 0) return { ...base, verdict: 'allow', basis: 'no-allow-policy' };
  const allow = firstMatch(compiled.rules.ALLOW, compiled.index.ALLOW, ctx, false);
  if (allow.rule !== undefined) return { ...base, verdict: 'allow', rule: allow.rule, basis: 'allow-matched' };
  if (allow.unknown !== undefined) return { ...base, verdict: 'unknown', rule: allow.unknown, basis: 'indeterminate' };
  return { ...base, verdict: 'deny', basis: 'no-allow-matched', responseCodeDetails: 'rbac_access_denied_matched_policy[none]' };
}
