/**
 * PeerAuthentication rules beyond the schema: Istio's ValidatePeerAuthentication (validation.go)
 * and the CRD's CEL rules ("portLevelMtls requires selector", port range), plus a meshproof
 * warning for the root-namespace selector Istio ignores (istio-semantics.md §1).
 */
import type { Issue } from '../issues.ts';
import type { PeerAuthentication } from '../resources.ts';
import type { DocumentSource } from '../source-map.ts';
import { IssueCollector } from './checks.ts';
import { validateMetadata } from './metadata.ts';
import { validateWorkloadSelector } from './selectors.ts';

export function validatePeerAuthentication(policy: PeerAuthentication, source: DocumentSource, rootNamespace: string): Issue[] {
  const c = new IssueCollector(source);
  const spec = policy.spec;
  const hasSelector = spec.selector?.matchLabels !== undefined && spec.selector.matchLabels !== null && Object.keys(spec.selector.matchLabels).length > 0;
  validateMetadata(c, policy);
  if (spec.portLevelMtls !== undefined && spec.portLevelMtls !== null) {
    const ports = Object.keys(spec.portLevelMtls);
    if (!hasSelector && ports.length > 0) c.error(['spec', 'portLevelMtls'], 'portLevelMtls requires selector (mesh/namespace peer authentication cannot have port level mTLS)', 'port-level mTLS applies only to a workload policy: add selector.matchLabels');
    if (ports.length === 0) c.error(['spec', 'portLevelMtls'], 'port level mTLS, if defined, must have at least one element');
    for (const key of ports) {
      if (!/^\d+$/.test(key) || Number(key) < 1 || Number(key) > 65535) c.error(['spec', 'portLevelMtls', key], `port must be in range 1..65535, found '${key}'`);
    }
  }
  validateWorkloadSelector(c, ['spec', 'selector'], spec.selector);
  if (hasSelector && policy.namespace === rootNamespace) {
    c.warning(['spec', 'selector'], `PeerAuthentication with a workload selector in the root namespace (${rootNamespace}) is ignored by Istio`, 'move it to the workload\'s namespace, or remove the selector to make it mesh-wide');
  }
  return c.issues;
}
