/**
 * Checks on resource metadata that Istio's webhook applies to every kind before its own rules
 * (validation.go validateMetadata and checkDryRunAnnotation).
 */
import { DRY_RUN_ANNOTATION, parseGoBool } from '../annotations.ts';
import type { AuthorizationPolicy, PolicyResource } from '../resources.ts';
import type { IssueCollector } from './checks.ts';

/** Annotations istiod sets itself; a user resource that carries one is rejected. */
const INTERNAL_ANNOTATIONS: readonly [string, string][] = [
  ['internal.istio.io/webhook-always-reject', 'annotation found, rejecting'],
  ['internal.istio.io/parent-namespace', 'annotation found, this may not be set by users'],
  ['internal.istio.io/parents', 'annotation found, this may not be set by users'],
];

export function validateMetadata(c: IssueCollector, resource: Exclude<PolicyResource, { kind: 'ServiceAccount' }>): void {
  const at = (name: string): (string | number)[] => ['metadata', 'annotations', name];
  const dryRun = resource.annotations[DRY_RUN_ANNOTATION];
  if (dryRun !== undefined) {
    if (resource.kind !== 'AuthorizationPolicy') {
      c.error(at(DRY_RUN_ANNOTATION), `${resource.namespace}/${resource.name} has unsupported annotation ${DRY_RUN_ANNOTATION}, please remove the annotation`, 'only AuthorizationPolicy supports dry runs');
    } else {
      const action = (resource as AuthorizationPolicy).spec.action ?? 'ALLOW';
      if (action !== 'ALLOW' && action !== 'DENY') {
        c.error(at(DRY_RUN_ANNOTATION), `the annotation ${DRY_RUN_ANNOTATION} currently only supports action ALLOW/DENY, found action ${action} in ${resource.namespace}/${resource.name}`);
      } else if (parseGoBool(dryRun) === undefined) {
        c.error(at(DRY_RUN_ANNOTATION), `${resource.namespace}/${resource.name} has annotation ${DRY_RUN_ANNOTATION} with invalid value (${dryRun})`, 'use "true" or "false" (Go strconv.ParseBool spellings: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False)');
      }
    }
  }
  for (const [name, message] of INTERNAL_ANNOTATIONS) {
    if (resource.annotations[name] !== undefined) c.error(at(name), `${JSON.stringify(name)} ${message}`);
  }
}
