/**
 * DestinationRule rules beyond the schema: Istio's ValidateDestinationRule (validation.go,
 * Istio 1.30.3): the host, each traffic policy (traffic-policy.ts), subsets, exportTo and the
 * workload selector.
 */
import type { Issue } from '../issues.ts';
import type { DestinationRule } from '../resources.ts';
import type { DocumentSource } from '../source-map.ts';
import { IssueCollector } from './checks.ts';
import { validateExportTo } from './export-to.ts';
import { isDns1123Label, wildcardDomainProblem } from './hostnames.ts';
import { validateMetadata } from './metadata.ts';
import { validateLabels, validateWorkloadSelector } from './selectors.ts';
import { validateTrafficPolicy } from './traffic-policy.ts';

export function validateDestinationRule(rule: DestinationRule, source: DocumentSource): Issue[] {
  const c = new IssueCollector(source);
  const spec = rule.spec;
  validateMetadata(c, rule);
  const hostProblem = wildcardDomainProblem(spec.host ?? '');
  if (hostProblem !== undefined) c.error(['spec', 'host'], hostProblem);
  validateTrafficPolicy(c, ['spec', 'trafficPolicy'], rule.namespace, spec.trafficPolicy);
  const names = new Set<string>();
  spec.subsets?.forEach((subset, i) => {
    const at = ['spec', 'subsets', i];
    if (subset === null || typeof subset !== 'object') return c.error(at, 'subset may not be null');
    const name = subset.name ?? '';
    if (names.has(name)) c.error([...at, 'name'], `duplicate subset names: ${name}`);
    names.add(name);
    if (name === '') c.error([...at, 'name'], 'subset name cannot be empty');
    else if (!isDns1123Label(name)) c.error([...at, 'name'], `subset name is invalid: ${name}`, 'a subset name is a DNS-1123 label: lower-case letters, digits and -');
    validateLabels(c, [...at, 'labels'], subset.labels);
    validateTrafficPolicy(c, [...at, 'trafficPolicy'], rule.namespace, subset.trafficPolicy);
  });
  validateExportTo(c, ['spec', 'exportTo'], rule.namespace, spec.exportTo, { withWorkloadSelector: spec.workloadSelector !== undefined && spec.workloadSelector !== null });
  validateWorkloadSelector(c, ['spec', 'workloadSelector'], spec.workloadSelector);
  return c.issues;
}
