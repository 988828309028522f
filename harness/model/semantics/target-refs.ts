/**
 * `selector` / `targetRef` / `targetRefs` of a policy, as Istio validates them
 * (validation.go validateOneOfSelectorType and validatePolicyTargetReference).
 */
import type { PolicyTargetReference } from '../resources.ts';
import type { FieldPath } from '../source-map.ts';
import type { IssueCollector } from './checks.ts';

/** Group and kind a policy may target; the empty group is the core group. */
const ALLOWED_TARGETS: readonly { readonly group: string; readonly kind: string }[] = [
  { group: 'core', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  { group: 'gateway.networking.k8s.io', kind: 'GatewayClass' },
];

function validateTargetRef(c: IssueCollector, at: FieldPath, ref: PolicyTargetReference | null): void {
  if (ref === null || typeof ref !== 'object') return;
  if (ref.name === undefined || ref.name === '') c.error([...at, 'name'], 'targetRef name must be set');
  if (ref.namespace !== undefined && ref.namespace !== '') c.error([...at, 'namespace'], 'targetRef namespace must not be set; cross namespace referencing is not supported');
  const group = ref.group === undefined || ref.group === '' ? 'core' : ref.group;
  if (!ALLOWED_TARGETS.some((t) => t.group === group && t.kind === ref.kind)) {
    c.error(at, `targetRef must be to one of ${ALLOWED_TARGETS.map((t) => `${t.group}/${t.kind}`).join(', ')} but was ${ref.group ?? ''}/${ref.kind ?? ''}`);
  }
}

export function validatePolicyTargets(c: IssueCollector, spec: { readonly selector?: unknown; readonly targetRef?: PolicyTargetReference; readonly targetRefs?: readonly PolicyTargetReference[] }): void {
  const set = [spec.selector !== undefined && spec.selector !== null, spec.targetRef !== undefined && spec.targetRef !== null, (spec.targetRefs?.length ?? 0) > 0].filter(Boolean).length;
  if (set > 1) c.error(['spec'], 'only one of targetRefs or workloadSelector can be set', 'a policy binds either to workloads (selector) or to gateways and services (targetRef/targetRefs)');
  if (spec.targetRef !== undefined) validateTargetRef(c, ['spec', 'targetRef'], spec.targetRef);
  spec.targetRefs?.forEach((ref, i) => validateTargetRef(c, ['spec', 'targetRefs', i], ref));
}
