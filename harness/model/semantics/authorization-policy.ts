/**
 * Istio's own rules for AuthorizationPolicy beyond the CRD schema: the admission webhook's
 * ValidateAuthorizationPolicy and security.ValidateAttribute (istio-semantics.md §2).
 */
import type { AuthorizationPolicy } from '../resources.ts';
import type { Issue } from '../issues.ts';
import type { DocumentSource } from '../source-map.ts';
import { IssueCollector, isIpOrCidr, isPortNumber } from './checks.ts';

/** Condition keys Istio accepts; a `[name]` suffix is required where shown. */
const EXACT_KEYS = new Set([
  'source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'source.trustDomain',
  'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter',
  'destination.ip', 'destination.port', 'connection.sni',
]);
const REJECTED_KEYS = ['destination.namespace', 'destination.labels', 'destination.name', 'destination.user'];
const IP_KEYS = new Set(['source.ip', 'remote.ip', 'destination.ip']);

export function isKnownConditionKey(key: string): boolean {
  if (EXACT_KEYS.has(key)) return true;
  if (/^request\.headers\[[^\]]+\]$/.test(key)) return true;
  if (/^request\.auth\.claims(\[[^\]]+\])+$/.test(key)) return true;
  return /^experimental\.envoy\.filters\.[\w.]+\[[^\]]+\]$/.test(key);
}

/** `{*}`/`{**}` path templates: operators whole segments, `{**}` last, no stray `*`, `{`, `}`. */
export function pathTemplateProblem(path: string): string | undefined {
  if (!path.includes('{') && !path.includes('}')) return undefined;
  const segments = path.split('/');
  let seenDoubleStar = false;
  for (const segment of segments) {
    const isOperator = segment === '{*}' || segment === '{**}';
    if (isOperator && seenDoubleStar) return '`{**}` must be the last operator in a path template';
    if (segment === '{**}') seenDoubleStar = true;
    if (!isOperator && /[{}*]/.test(segment)) return `'${segment}': a path template may use '*', '{' or '}' only in whole-segment operators {*} and {**}`;
  }
  return undefined;
}

/** `from.source` / `to.operation`: the entry must not be empty, nor any of its values. False if empty. */
function checkNonEmpty<T extends object>(c: IssueCollector, p: (string | number)[], entry: T | null | undefined, label: string): entry is T {
  if (entry === undefined || entry === null || Object.keys(entry).length === 0) {
    c.error(p, `\`${label}\` must not be empty`);
    return false;
  }
  for (const [field, values] of Object.entries(entry) as [string, readonly string[] | undefined][]) {
    values?.forEach((v, k) => {
      if (v === '') c.error([...p, field, k], 'empty value not allowed');
    });
  }
  return true;
}

export function validateAuthorizationPolicy(policy: AuthorizationPolicy, source: DocumentSource): Issue[] {
  const c = new IssueCollector(source);
  const spec = policy.spec;
  const action = spec.action ?? 'ALLOW';
  const rules = spec.rules;
  const hasTargetRefs = spec.targetRef !== undefined || (spec.targetRefs !== undefined && spec.targetRefs.length > 0);
  if (spec.selector !== undefined && hasTargetRefs) c.error(['spec', 'targetRefs'], 'only one of selector or targetRefs can be set');
  if (spec.targetRef !== undefined && spec.targetRefs !== undefined) c.error(['spec', 'targetRef'], 'only one of targetRef or targetRefs can be set');
  if (hasTargetRefs) c.warning(['spec', spec.targetRef === undefined ? 'targetRefs' : 'targetRef'], 'targetRefs bind a policy to gateways and waypoints; sidecars ignore it, so meshproof applies it to no workload');
  if (action === 'CUSTOM') {
    if (spec.provider?.name === undefined || spec.provider.name === '') c.error(['spec', 'provider'], 'CUSTOM action requires provider.name');
    c.warning(['spec', 'action'], 'CUSTOM (external authorization) is not supported by meshproof: requests it matches are reported as not-supported');
  } else if (spec.provider !== undefined) {
    c.error(['spec', 'provider'], `provider must only be set with the CUSTOM action, found action ${action}`);
  }
  if ((rules === undefined || rules.length === 0) && (action === 'DENY' || action === 'CUSTOM')) {
    c.error(['spec', 'rules'], `${action} action without \`rules\` is meaningless as it will never be triggered`, 'add an empty rule `rules: [{}]` to match every request');
  }
  const dryRun = policy.annotations['istio.io/dry-run'];
  if (dryRun !== undefined && !['true', 'false'].includes(dryRun.toLowerCase())) c.error(['metadata', 'annotations', 'istio.io/dry-run'], `must be "true" or "false", found ${JSON.stringify(dryRun)}`);
  (rules ?? []).forEach((rule, i) => {
    const at = ['spec', 'rules', i];
    if (rule === null || typeof rule !== 'object') {
      c.error(at, 'rule must be a mapping');
      return;
    }
    if (rule.from !== undefined && rule.from.length === 0) c.error([...at, 'from'], '`from` must not be empty', 'remove it to match any source');
    if (rule.to !== undefined && rule.to.length === 0) c.error([...at, 'to'], '`to` must not be empty', 'remove it to match any operation');
    rule.from?.forEach((from, j) => {
      const src = from.source;
      const p = [...at, 'from', j, 'source'];
      if (!checkNonEmpty(c, p, src, 'from.source')) return;
      if ((src.serviceAccounts !== undefined || src.notServiceAccounts !== undefined) && (src.principals !== undefined || src.notPrincipals !== undefined || src.namespaces !== undefined || src.notNamespaces !== undefined)) {
        c.error([...p, src.serviceAccounts !== undefined ? 'serviceAccounts' : 'notServiceAccounts'], 'serviceAccounts cannot be combined with principals or namespaces');
      }
      for (const field of ['serviceAccounts', 'notServiceAccounts'] as const) {
        src[field]?.forEach((v, k) => {
          if (v.includes('*')) c.error([...p, field, k], `wildcards are not allowed in ${field}, found '${v}'`);
          if (v.split('/').length > 2) c.error([...p, field, k], `must be 'name' or 'namespace/name', found '${v}'`);
        });
      }
      for (const field of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
        src[field]?.forEach((v, k) => {
          if (!isIpOrCidr(v)) c.error([...p, field, k], `'${v}' is not an IP address or CIDR block`);
        });
      }
      for (const field of ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'requestPrincipals', 'notRequestPrincipals'] as const) {
        src[field]?.forEach((v, k) => {
          if (v.length > 1 && v.slice(1, -1).includes('*')) c.error([...p, field, k], `'${v}': '*' is only allowed at the start or the end of a value`);
        });
      }
    });
    rule.to?.forEach((to, j) => {
      const op = to.operation;
      const p = [...at, 'to', j, 'operation'];
      if (!checkNonEmpty(c, p, op, 'to.operation')) return;
      for (const field of ['ports', 'notPorts'] as const) {
        op[field]?.forEach((v, k) => {
          if (!isPortNumber(v)) c.error([...p, field, k], `'${v}' is not a port number (0-65535); ports match exactly, no wildcards`);
        });
      }
      for (const field of ['paths', 'notPaths'] as const) {
        op[field]?.forEach((v, k) => {
          const problem = pathTemplateProblem(v);
          if (problem !== undefined) c.error([...p, field, k], problem);
          else if (!v.includes('{') && v.length > 1 && v.slice(1, -1).includes('*')) c.error([...p, field, k], `'${v}': '*' is only allowed at the start or the end of a path (or use {*} / {**} templates)`);
        });
      }
      for (const field of ['methods', 'notMethods', 'hosts', 'notHosts'] as const) {
        op[field]?.forEach((v, k) => {
          if (v.length > 1 && v.slice(1, -1).includes('*')) c.error([...p, field, k], `'${v}': '*' is only allowed at the start or the end of a value`);
        });
      }
    });
    rule.when?.forEach((cond, j) => {
      const p = [...at, 'when', j];
      if (cond.key === undefined || cond.key === '') {
        c.error([...p, 'key'], 'key must not be empty');
        return;
      }
      if ((cond.values === undefined || cond.values.length === 0) && (cond.notValues === undefined || cond.notValues.length === 0)) {
        c.error(p, 'at least one of values or notValues must be set');
      }
      const rejected = REJECTED_KEYS.find((k) => cond.key === k || cond.key.startsWith(`${k}[`));
      if (rejected !== undefined) c.error([...p, 'key'], `attribute ${rejected} is not supported`);
      else if (!isKnownConditionKey(cond.key)) c.error([...p, 'key'], `unknown attribute (${cond.key})`, 'see the supported keys in Istio\'s "Authorization Policy Conditions" reference');
      const all = [...(cond.values ?? []), ...(cond.notValues ?? [])];
      if (IP_KEYS.has(cond.key)) {
        all.forEach((v) => {
          if (!isIpOrCidr(v)) c.error(p, `'${v}' is not an IP address or CIDR block (${cond.key})`);
        });
      }
      if (cond.key === 'destination.port') {
        all.forEach((v) => {
          if (!isPortNumber(v)) c.error(p, `'${v}' is not a port number (destination.port)`);
        });
      }
    });
  });
  return c.issues;
}
