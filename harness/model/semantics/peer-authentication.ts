/**
 * PeerAuthentication rules beyond the schema: the CRD's CEL rules ("portLevelMtls requires
 * selector", port range) and the ignored root-namespace selector (istio-semantics.md §1).
 */
import type { Issue } from '../issues.ts';
import type { PeerAuthentication } from '../resources.ts';
import type { DocumentSource } from '../source-map.ts';
import { IssueCollector } from './checks.ts';

export function validatePeerAuthentication(policy: PeerAuthentication, source: DocumentSource, rootNamespace: string): Issue[] {
  const c = new IssueCollector(source);
  const spec = policy.spec;
  const hasSelector = spec.selector?.matchLabels !== undefined && Object.keys(spec.selector.matchLabels).length > 0;
  if (spec.portLevelMtls !== undefined) {
    if (!hasSelector) c.error(['spec', 'portLevelMtls'], 'portLevelMtls requires selector', 'port-level mTLS applies only to a workload policy: add selector.matchLabels');
    if (Object.keys(spec.portLevelMtls).length === 0) c.error(['spec', 'portLevelMtls'], 'portLevelMtls must not be empty');
    for (const key of Object.keys(spec.portLevelMtls)) {
      if (!/^\d+$/.test(key) || Number(key) < 1 || Number(key) > 65535) c.error(['spec', 'portLevelMtls', key], `port must be between 1 and 65535, found '${key}'`);
    }
  }
  if (hasSelector && policy.namespace === rootNamespace) {
    c.warning(['spec', 'selector'], `PeerAuthentication with a workload selector in the root namespace (${rootNamespace}) is ignored by Istio`, 'move it to the workload\'s namespace, or remove the selector to make it mesh-wide');
  }
  return c.issues;
}
