/**
 * `exportTo` of a DestinationRule or VirtualService, as Istio validates it (validation.go
 * validateExportTo with visibility.Instance.Validate): `.`, `*` or a namespace name, no
 * duplicates (`.` counts as the resource's own namespace), `*` alone, and for a DestinationRule
 * with a workloadSelector nothing beyond its own namespace.
 */
import type { FieldPath } from '../source-map.ts';
import type { IssueCollector } from './checks.ts';
import { isDns1123Label } from './hostnames.ts';

export function validateExportTo(c: IssueCollector, at: FieldPath, namespace: string, exportTo: readonly string[] | undefined, options: { withWorkloadSelector?: boolean } = {}): void {
  if (exportTo === undefined || exportTo === null || exportTo.length === 0) return;
  const seen = new Set<string>();
  exportTo.forEach((entry, i) => {
    const key = entry === '.' ? namespace : entry;
    if (seen.has(key)) {
      c.error([...at, i], key !== entry ? `duplicate entries in exportTo: . and current namespace ${namespace}` : `duplicate entries in exportTo for entry ${entry}`);
    } else if (key === '~') {
      c.error([...at, i], 'exportTo ~ (none) is not allowed for Istio configuration objects');
    } else if (key !== '*' && !isDns1123Label(key)) {
      c.error([...at, i], `only .,*, or a valid DNS 1123 label is allowed as exportTo entry, found ${JSON.stringify(entry)}`);
    } else {
      seen.add(key);
    }
  });
  if (options.withWorkloadSelector === true && seen.size > 0) {
    if (!seen.has(namespace)) c.error(at, 'destination rule with workload selector cannot have exportTo beyond current namespace');
    else if (seen.size > 1) c.error(at, 'destination rule with workload selector cannot have multiple entries in exportTo');
  }
  if (seen.has('*') && exportTo.length > 1) c.error(at, 'cannot have both public (*) and non-public exportTo values for a resource');
}
