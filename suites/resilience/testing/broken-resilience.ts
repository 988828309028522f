/**
 * A data plane with a resilience bug on purpose, for the "can it fail" test: it wraps a real
 * adapter (the reference one) and renders the mesh as if a policy field were not there, while
 * the cases and the oracle still read the policies as written. Each breakage is a bug a real data
 * plane (or a mistranslating control plane) could have.
 */
import { resolveMesh, type DataPlaneAdapter, type DataPlaneInfo, type DestinationRule, type Feature, type LiveReload, type ProxyTarget, type RenderOptions, type RenderedProxy, type ResolvedMesh, type TrafficPolicy, type VirtualService } from '../../../harness/index.ts';

export const RESILIENCE_BREAKAGES = {
  /** Every DestinationRule rendered without outlierDetection: nothing is ever ejected. */
  'drop-outlier-detection': 'DestinationRules are rendered without their outlierDetection',
  /** Every VirtualService route rendered without its retries block: Istio's default policy applies (no 5xx retried). */
  'drop-retries': "VirtualService routes are rendered without their retries, so Istio's default retry policy applies",
} as const;

export type ResilienceBreakage = keyof typeof RESILIENCE_BREAKAGES;

export class BrokenResilienceDataPlane implements DataPlaneAdapter {
  readonly name: string;
  readonly features: ReadonlySet<Feature>;
  readonly liveReload?: LiveReload;
  /** In force for the next render; empty renders faithfully. */
  breakages: readonly ResilienceBreakage[];
  readonly #inner: DataPlaneAdapter;

  constructor(inner: DataPlaneAdapter, breakages: readonly ResilienceBreakage[] = []) {
    this.#inner = inner;
    this.name = inner.name;
    this.features = inner.features;
    this.breakages = breakages;
    if (inner.liveReload !== undefined) this.liveReload = inner.liveReload;
  }

  info(): Promise<DataPlaneInfo> {
    return this.#inner.info();
  }

  render(mesh: ResolvedMesh, target: ProxyTarget, options: RenderOptions): Promise<RenderedProxy> {
    return this.#inner.render(breakResilience(mesh, this.breakages), target, options);
  }
}

/** The mesh as a data plane with these bugs would see it. */
export function breakResilience(mesh: ResolvedMesh, breakages: readonly ResilienceBreakage[]): ResolvedMesh {
  if (breakages.length === 0) return mesh;
  let { destinationRules, virtualServices } = mesh.policies;
  if (breakages.includes('drop-outlier-detection')) destinationRules = destinationRules.map(withoutOutlierDetection);
  if (breakages.includes('drop-retries')) virtualServices = virtualServices.map(withoutRetries);
  return resolveMesh({ ...mesh.policies, destinationRules, virtualServices }, mesh.topology);
}

function withoutOutlier<T extends Omit<TrafficPolicy, 'portLevelSettings'>>(policy: T): T {
  const { outlierDetection: _dropped, ...rest } = policy;
  return rest as T;
}

function withoutOutlierDetection(rule: DestinationRule): DestinationRule {
  const tp = rule.spec.trafficPolicy;
  const trafficPolicy = tp === undefined ? undefined : { ...withoutOutlier(tp), ...(tp.portLevelSettings === undefined ? {} : { portLevelSettings: tp.portLevelSettings.map(withoutOutlier) }) };
  const subsets = rule.spec.subsets?.map((s) => (s.trafficPolicy === undefined ? s : { ...s, trafficPolicy: withoutOutlier(s.trafficPolicy) }));
  return { ...rule, spec: { ...rule.spec, ...(trafficPolicy === undefined ? {} : { trafficPolicy }), ...(subsets === undefined ? {} : { subsets }) } };
}

function withoutRetries(vs: VirtualService): VirtualService {
  return { ...vs, spec: { ...vs.spec, ...(vs.spec.http === undefined ? {} : { http: vs.spec.http.map(({ retries: _dropped, ...route }) => route) }) } };
}
