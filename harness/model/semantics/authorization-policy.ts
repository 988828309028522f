/**
 * Istio's own rules for AuthorizationPolicy beyond the CRD schema: the admission webhook's
 * ValidateAuthorizationPolicy (pkg/config/validation/validation.go, Istio 1.30.3) with the value
 * checks of pkg/config/security (authorization-values.ts). Errors are what the webhook rejects;
 * warnings are what it warns about, plus a few meshproof notes (marked so in their text).
 */
import type { AuthorizationAction, AuthorizationOperation, AuthorizationPolicy, AuthorizationRule, AuthorizationSource } from '../resources.ts';
import type { Issue } from '../issues.ts';
import type { DocumentSource, FieldPath } from '../source-map.ts';
import { checkCondition, checkEmptyValues, checkIps, checkPorts, checkServiceAccounts, checkWildcardValues, pathTemplateProblem, warnLiteralStar } from './authorization-values.ts';
import { IssueCollector } from './checks.ts';
import { validateMetadata } from './metadata.ts';
import { validateWorkloadSelector } from './selectors.ts';
import { validatePolicyTargets } from './target-refs.ts';

const SOURCE_FIELDS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts',
  'trustDomains', 'notTrustDomains', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks',
] as const satisfies readonly (keyof AuthorizationSource)[];
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const satisfies readonly (keyof AuthorizationOperation)[];
/** Source fields whose values Istio checks only for emptiness. */
const PLAIN_SOURCE_FIELDS = ['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const;
/** Peer and request identity: an external authorizer is asked instead, so CUSTOM rules may not use them. */
const CUSTOM_UNSUPPORTED_SOURCE = ['namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals'] as const;
const CUSTOM_UNSUPPORTED_KEYS = new Set(['source.namespace', 'source.serviceAccount', 'source.trustDomain', 'source.principal']);
/** Source fields Istio counts as TCP attributes for the DENY warning (trustDomains is not among them in 1.30.3). */
const TCP_SOURCE_FIELDS = ['principals', 'notPrincipals', 'ipBlocks', 'notIpBlocks', 'namespaces', 'notNamespaces', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts'] as const;

function present(values: readonly unknown[] | undefined): boolean {
  return values !== undefined && values !== null && values.length > 0;
}

function validateSource(c: IssueCollector, p: FieldPath, src: AuthorizationSource, action: AuthorizationAction): void {
  if ([...SOURCE_FIELDS].every((f) => !present(src[f]))) c.error(p, '`from.source` must not be empty', 'remove the entry to match any source');
  if ((present(src.principals) || present(src.notPrincipals) || present(src.namespaces) || present(src.notNamespaces)) && (present(src.serviceAccounts) || present(src.notServiceAccounts))) {
    c.error([...p, present(src.serviceAccounts) ? 'serviceAccounts' : 'notServiceAccounts'], 'cannot set serviceAccounts with namespaces or principals');
  }
  for (const f of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) checkIps(c, [...p, f], src[f]);
  for (const f of PLAIN_SOURCE_FIELDS) checkEmptyValues(c, [...p, f], f, src[f]);
  for (const f of ['serviceAccounts', 'notServiceAccounts'] as const) checkServiceAccounts(c, [...p, f], f, src[f]);
  for (const f of ['trustDomains', 'notTrustDomains'] as const) checkWildcardValues(c, [...p, f], f, src[f], { noSlash: true });
  for (const f of ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'requestPrincipals', 'notRequestPrincipals'] as const) warnLiteralStar(c, [...p, f], f, src[f]);
  if (action === 'CUSTOM') {
    for (const f of CUSTOM_UNSUPPORTED_SOURCE) {
      if (present(src[f])) c.error([...p, f], `${f} is not supported with the CUSTOM action`, 'the external authorizer decides on identity; match on paths, methods, hosts, ports or IPs here');
    }
  }
}

function validateOperation(c: IssueCollector, p: FieldPath, op: AuthorizationOperation): void {
  if ([...OPERATION_FIELDS].every((f) => !present(op[f]))) c.error(p, '`to.operation` must not be empty', 'remove the entry to match any operation');
  for (const f of ['ports', 'notPorts'] as const) checkPorts(c, [...p, f], op[f]);
  for (const f of OPERATION_FIELDS) checkEmptyValues(c, [...p, f], f, op[f]);
  for (const f of ['paths', 'notPaths'] as const) {
    op[f]?.forEach((v, k) => {
      const problem = pathTemplateProblem(v);
      if (problem !== undefined) c.error([...p, f, k], problem);
    });
    warnLiteralStar(c, [...p, f], f, op[f]?.filter((v) => !v.includes('{')));
  }
  for (const f of ['methods', 'notMethods', 'hosts', 'notHosts'] as const) warnLiteralStar(c, [...p, f], f, op[f]);
}

function validateRule(c: IssueCollector, rule: AuthorizationRule | null, i: number, action: AuthorizationAction): void {
  const at = ['spec', 'rules', i];
  if (rule === null || typeof rule !== 'object') {
    c.error(at, `\`rule\` must not be nil, found at rule ${i}`);
    return;
  }
  if (rule.from !== undefined && rule.from !== null && rule.from.length === 0) c.error([...at, 'from'], '`from` must not be empty', 'remove it to match any source');
  let fromExists = false;
  let tcpInFrom = false;
  (rule.from ?? []).forEach((from, j) => {
    const p = [...at, 'from', j];
    if (from === null || typeof from !== 'object') return c.error(p, '`from` must not be nil');
    if (from.source === undefined || from.source === null) return c.error([...p, 'source'], '`from.source` must not be nil');
    fromExists = true;
    if (TCP_SOURCE_FIELDS.some((f) => present(from.source?.[f]))) tcpInFrom = true;
    validateSource(c, [...p, 'source'], from.source, action);
  });
  if (rule.to !== undefined && rule.to !== null && rule.to.length === 0) c.error([...at, 'to'], '`to` must not be empty', 'remove it to match any operation');
  let toExists = false;
  let tcpInTo = false;
  (rule.to ?? []).forEach((to, j) => {
    const p = [...at, 'to', j];
    if (to === null || typeof to !== 'object') return c.error(p, '`to` must not be nil');
    if (to.operation === undefined || to.operation === null) return c.error([...p, 'operation'], '`to.operation` must not be nil');
    toExists = true;
    if (present(to.operation.ports) || present(to.operation.notPorts)) tcpInTo = true;
    validateOperation(c, [...p, 'operation'], to.operation);
  });
  (rule.when ?? []).forEach((cond, j) => {
    const p = [...at, 'when', j];
    const key = cond?.key ?? '';
    if (key === '') return c.error([...p, 'key'], '`key` must not be empty');
    if (action === 'CUSTOM' && (CUSTOM_UNSUPPORTED_KEYS.has(key) || key.startsWith('request.auth.'))) c.error([...p, 'key'], `${key} is not supported with the CUSTOM action`);
    if (!present(cond.values) && !present(cond.notValues)) return c.error(p, `at least one of \`values\` or \`notValues\` must be set for key ${key}`);
    checkCondition(c, p, key, cond);
  });
  if (action === 'DENY' && ((fromExists && !toExists && !tcpInFrom) || (toExists && !tcpInTo))) {
    c.warning(
      at,
      'configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port',
      'on a TCP port the HTTP-only fields are dropped, so the rule matches every connection; add `ports` to the operation',
    );
  }
}

export function validateAuthorizationPolicy(policy: AuthorizationPolicy, source: DocumentSource): Issue[] {
  const c = new IssueCollector(source);
  const spec = policy.spec;
  const action = spec.action ?? 'ALLOW';
  const rules = spec.rules;
  validateMetadata(c, policy);
  validatePolicyTargets(c, spec);
  validateWorkloadSelector(c, ['spec', 'selector'], spec.selector);
  if (spec.targetRef !== undefined || present(spec.targetRefs)) {
    c.warning(['spec', spec.targetRef === undefined ? 'targetRefs' : 'targetRef'], 'targetRefs bind a policy to gateways and waypoints; sidecars ignore it, so meshproof applies it to no workload');
  }
  const noRules = rules === undefined || rules === null || rules.length === 0;
  if (action === 'CUSTOM') {
    if (noRules) c.error(['spec', 'rules'], 'CUSTOM action without `rules` is meaningless as it will never be triggered', 'add an empty rule `rules: [{}]` to match every request');
    else if (spec.provider?.name === undefined || spec.provider.name === '') c.error(['spec', 'provider'], '`provider.name` must not be empty', 'name an extensionProvider of the mesh config');
    c.warning(['spec', 'action'], 'CUSTOM (external authorization) is not supported by meshproof: requests it matches are reported as not-supported');
  } else if (spec.provider !== undefined && spec.provider !== null) {
    c.error(['spec', 'provider'], `\`provider\` must not be with non CUSTOM action, found ${action}`);
  }
  if (action === 'DENY' && noRules) c.error(['spec', 'rules'], 'DENY action without `rules` is meaningless as it will never be triggered', 'add an empty rule `rules: [{}]` to match every request');
  (rules ?? []).forEach((rule, i) => validateRule(c, rule, i, action));
  return c.issues;
}
