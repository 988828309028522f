/**
 * DestinationRules whose outlier detection can never eject anything: maxEjectionPercent below one
 * host of the service. Envoy ejects only if 100 × (ejected + 1) / hosts ≤ max_ejection_percent,
 * and since Envoy 1.28 that holds for the first ejection too (istio-semantics.md §3: with 4 hosts
 * the default 10% ejects none). Such a rule looks like a circuit breaker and does nothing: the
 * report says so as a finding, from the oracle's own cap rule (maxEjectedHosts).
 */
import { effectiveOutlierDetection, maxEjectedHosts, policyRef, type ResolvedMesh } from '../../harness/index.ts';

export interface NeverEjects {
  readonly service: string;
  readonly rule: string;
  /** file:line of the DestinationRule. */
  readonly at: string;
  readonly endpoints: number;
  readonly maxEjectionPercent: number;
  readonly text: string;
}

export function neverEjecting(mesh: ResolvedMesh): NeverEjects[] {
  const out: NeverEjects[] = [];
  for (const d of mesh.destinations) {
    const rule = d.destinationRule;
    if (rule === undefined || d.endpointCount === 0) continue;
    for (const port of d.ports) {
      const settings = effectiveOutlierDetection(port.trafficPolicy?.outlierDetection);
      if (settings === undefined || maxEjectedHosts(d.endpointCount, settings.maxEjectionPercent) > 0) continue;
      const ref = policyRef(rule);
      const oneHost = (100 / d.endpointCount).toFixed(d.endpointCount % 3 === 0 ? 1 : 0);
      const written = port.trafficPolicy?.outlierDetection?.maxEjectionPercent;
      out.push({
        service: `${d.name}.${d.namespace}:${port.port}`,
        rule: `${ref.namespace}/${ref.name}`,
        at: ref.at,
        endpoints: d.endpointCount,
        maxEjectionPercent: settings.maxEjectionPercent,
        text:
          `DestinationRule ${ref.namespace}/${ref.name} (${ref.at}) can never eject an endpoint of ${d.name}.${d.namespace}:${port.port}: ` +
          `maxEjectionPercent ${settings.maxEjectionPercent}${written === undefined || written <= 0 ? " (Envoy's default, as the rule sets none)" : ''} is below one of its ${d.endpointCount} endpoints (${oneHost}%), ` +
          'and Envoy ≥ 1.28 applies the cap to the first ejection too: failing endpoints keep receiving traffic (older Envoy ejected one anyway)',
      });
    }
  }
  return out;
}
