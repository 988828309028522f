/**
 * Effective PeerAuthentication per workload and port (istio-semantics.md §1, ComposePeerAuthentication).
 *
 * Precedence: mesh (root namespace, no selector) → namespace (no selector) → workload (selector
 * matches) → port (`portLevelMtls` of the workload policy). Each level whose mode is not UNSET
 * overrides the one above; with nothing set the result is PERMISSIVE. A root-namespace policy
 * with a selector is ignored. Within one level the first policy in istiod's order wins.
 *
 * istiod's order (pilot/pkg/model/config.go sortConfigByCreationTime, used by
 * ComposePeerAuthentication): metadata.creationTimestamp (whole seconds), then name, then
 * namespace. Never file order: swapping two documents must not change a port's mode. Files
 * rarely carry a timestamp, so a policy without one counts as created after every policy that
 * has one (as `kubectl apply` of the file today would make it); among those, name then namespace
 * decide, as they would for policies applied in the same second.
 */
import { hasSelector, selectorMatches } from './labels.ts';
import type { MtlsMode, PeerAuthentication, ResourceMeta } from './resources.ts';

export type EffectiveMtlsMode = Exclude<MtlsMode, 'UNSET'>;

export interface PolicyRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `file:line` of the resource. */
  readonly at: string;
}

export function policyRef(resource: ResourceMeta & { readonly kind: string }): PolicyRef {
  const loc = resource.origin.location;
  return { kind: resource.kind, namespace: resource.namespace, name: resource.name, at: `${loc.file}${loc.line === undefined ? '' : `:${loc.line}`}` };
}

export interface MtlsStep {
  readonly scope: 'mesh' | 'namespace' | 'workload' | 'port';
  readonly mode: MtlsMode;
  readonly policy: PolicyRef;
}

export interface MtlsResolution {
  readonly mode: EffectiveMtlsMode;
  /** The policies that took part, outermost first; empty means the PERMISSIVE default. */
  readonly steps: readonly MtlsStep[];
}

/**
 * Orders resources oldest first; ties keep load order (file order, then document order). Used
 * for DestinationRule and VirtualService selection; PeerAuthentication uses byCreationTime.
 */
export function byAge<T extends ResourceMeta>(a: T, b: T): number {
  const ta = a.creationTimestamp ?? Number.POSITIVE_INFINITY;
  const tb = b.creationTimestamp ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.origin.order - b.origin.order;
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** istiod's sortConfigByCreationTime: creation time, then name, then namespace (byte order, as Go's cmp.Compare). */
export function byCreationTime<T extends ResourceMeta>(a: T, b: T): number {
  const ta = a.creationTimestamp ?? Number.POSITIVE_INFINITY;
  const tb = b.creationTimestamp ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return compareText(a.name, b.name) || compareText(a.namespace, b.namespace);
}

function oldest<T extends ResourceMeta>(items: readonly T[]): T | undefined {
  return [...items].sort(byCreationTime)[0];
}

export interface WorkloadIdentity {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PeerAuthenticationLevels {
  readonly mesh?: PeerAuthentication;
  readonly namespace?: PeerAuthentication;
  readonly workload?: PeerAuthentication;
}

/** The policy that counts at each level for one workload. */
export function peerAuthenticationLevels(policies: readonly PeerAuthentication[], workload: WorkloadIdentity, rootNamespace: string): PeerAuthenticationLevels {
  const mesh = oldest(policies.filter((p) => p.namespace === rootNamespace && !hasSelector(p.spec.selector)));
  const namespace = workload.namespace === rootNamespace ? undefined : oldest(policies.filter((p) => p.namespace === workload.namespace && !hasSelector(p.spec.selector)));
  const workloadPolicy =
    workload.namespace === rootNamespace
      ? undefined
      : oldest(policies.filter((p) => p.namespace === workload.namespace && hasSelector(p.spec.selector) && selectorMatches(p.spec.selector, workload.labels)));
  return { ...(mesh ? { mesh } : {}), ...(namespace ? { namespace } : {}), ...(workloadPolicy ? { workload: workloadPolicy } : {}) };
}

function apply(current: MtlsResolution, scope: MtlsStep['scope'], mode: MtlsMode | undefined, policy: PeerAuthentication): MtlsResolution {
  const m = mode ?? 'UNSET';
  const steps = [...current.steps, { scope, mode: m, policy: policyRef(policy) }];
  return { mode: m === 'UNSET' ? current.mode : m, steps };
}

/** Workload-level mode (no port). */
export function resolveWorkloadMtls(levels: PeerAuthenticationLevels): MtlsResolution {
  let r: MtlsResolution = { mode: 'PERMISSIVE', steps: [] };
  if (levels.mesh) r = apply(r, 'mesh', levels.mesh.spec.mtls?.mode, levels.mesh);
  if (levels.namespace) r = apply(r, 'namespace', levels.namespace.spec.mtls?.mode, levels.namespace);
  if (levels.workload) r = apply(r, 'workload', levels.workload.spec.mtls?.mode, levels.workload);
  return r;
}

/** Mode for one workload (container) port: the workload policy's portLevelMtls entry, if any. */
export function resolvePortMtls(levels: PeerAuthenticationLevels, workloadLevel: MtlsResolution, port: number): MtlsResolution {
  const entry = levels.workload?.spec.portLevelMtls?.[String(port)];
  if (entry === undefined || levels.workload === undefined) return workloadLevel;
  return apply(workloadLevel, 'port', entry.mode, levels.workload);
}
