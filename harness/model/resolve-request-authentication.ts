/**
 * The JWT rules a workload's sidecar enforces (istio-semantics.md; istiod
 * pilot/pkg/security/authn/policy_applier.go): every RequestAuthentication of the workload's
 * namespace or of the root namespace whose selector matches (one with targetRef/targetRefs binds
 * gateways and services, no sidecar), their jwtRules gathered and ordered by issuer, as istiod
 * orders them before it numbers the providers `origins-<i>`.
 *
 * The keys each rule verifies with are resolved here once, as istiod resolves them before it
 * pushes config: an inline `jwks` as written; a `jwksUri` is fetched by istiod, and meshproof,
 * which reaches no network, reads the file the topology names for that URI. A URI with no file
 * is what istiod meets when a fetch fails: it pushes a public key whose private half nobody has,
 * so every token for that issuer is rejected (fail closed).
 */
import { selectorMatches } from './labels.ts';
import { policyRef, type PolicyRef } from './resolve-peer-authentication.ts';
import type { JwtRule, RequestAuthentication } from './resources.ts';
import type { Topology, Workload } from './topology.ts';

export interface ResolvedJwtRule {
  readonly rule: JwtRule;
  readonly policy: PolicyRef;
  /** Index of the rule in its policy's jwtRules. */
  readonly index: number;
  /** The JWKS JSON the proxy is given; absent when none could be had (every token for this issuer is then rejected). */
  readonly jwks?: string;
  /** Where the keys came from: `inline`, the topology's file for the jwksUri (`file:<path>`), or `unavailable`. */
  readonly jwksFrom: string;
}

export function requestAuthenticationsFor(policies: readonly RequestAuthentication[], w: Workload, rootNamespace: string): RequestAuthentication[] {
  return policies
    .filter((p) => p.spec.targetRef === undefined && (p.spec.targetRefs === undefined || p.spec.targetRefs.length === 0))
    .filter((p) => p.namespace === w.namespace || p.namespace === rootNamespace)
    .filter((p) => selectorMatches(p.spec.selector, w.labels))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export function resolveJwtRules(policies: readonly RequestAuthentication[], topology: Pick<Topology, 'jwks'>): ResolvedJwtRule[] {
  const rules: ResolvedJwtRule[] = [];
  for (const p of policies) {
    (p.spec.jwtRules ?? []).forEach((rule, index) => {
      const inline = rule.jwks ?? '';
      const fromFile = rule.jwksUri === undefined ? undefined : topology.jwks?.[rule.jwksUri];
      const keys = inline !== '' ? { jwks: inline, jwksFrom: 'inline' } : fromFile !== undefined ? { jwks: fromFile.text, jwksFrom: `file:${fromFile.file}` } : { jwksFrom: 'unavailable' };
      rules.push({ rule, policy: policyRef(p), index, ...keys });
    });
  }
  // istiod: slices.SortBy(rules, issuer), a stable sort.
  return rules.map((r, i) => [r, i] as const).sort(([a, i], [b, j]) => ((a.rule.issuer ?? '') < (b.rule.issuer ?? '') ? -1 : (a.rule.issuer ?? '') > (b.rule.issuer ?? '') ? 1 : i - j)).map(([r]) => r);
}
