/**
 * Which DestinationRule and VirtualService apply to a destination service (istio-semantics.md
 * §3, §4). Hosts in these resources are resolved as istiod does: a short name (no dot) is
 * relative to the resource's own namespace (`payment-service` in prod → payment-service.prod.svc.cluster.local);
 * a name with dots is taken as written; `*.suffix` matches by suffix.
 *
 * DestinationRule lookup: the client's namespace first, then the service's namespace, then the
 * root namespace; within one namespace, an exact host beats a wildcard and the oldest rule wins
 * (istiod merges same-host rules by keeping the first's traffic policy).
 * VirtualService: the oldest one whose hosts match and that applies to sidecars (gateways absent
 * or including `mesh`).
 */
import { byAge } from './resolve-peer-authentication.ts';
import type { DestinationRule, TrafficPolicy, VirtualService } from './resources.ts';

/** The Kubernetes cluster domain (not the trust domain). */
export const CLUSTER_DOMAIN = 'cluster.local';

export function serviceFqdn(namespace: string, name: string): string {
  return `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** A host as written in `namespace`, made fully qualified. */
export function resolveHost(host: string, namespace: string): string {
  if (host === '*' || host.includes('.')) return host;
  return serviceFqdn(namespace, host);
}

/** 2 = exact, 1 = wildcard match, 0 = no match. */
export function hostMatch(pattern: string, fqdn: string): 0 | 1 | 2 {
  if (pattern === fqdn) return 2;
  if (pattern === '*') return 1;
  if (pattern.startsWith('*.') && fqdn.endsWith(pattern.slice(1))) return 1;
  return 0;
}

export function destinationRuleFor(rules: readonly DestinationRule[], fqdn: string, namespaces: readonly string[]): DestinationRule | undefined {
  for (const ns of namespaces) {
    const candidates = rules
      .filter((r) => r.namespace === ns)
      .map((r) => ({ r, score: hostMatch(resolveHost(r.spec.host, r.namespace), fqdn) }))
      .filter((c) => c.score > 0);
    if (candidates.length === 0) continue;
    const best = Math.max(...candidates.map((c) => c.score));
    return candidates.filter((c) => c.score === best).map((c) => c.r).sort(byAge)[0];
  }
  return undefined;
}

export function virtualServiceFor(services: readonly VirtualService[], fqdn: string): VirtualService | undefined {
  return services
    .filter((vs) => vs.spec.gateways === undefined || vs.spec.gateways.length === 0 || vs.spec.gateways.includes('mesh'))
    .filter((vs) => (vs.spec.hosts ?? []).some((h) => hostMatch(resolveHost(h, vs.namespace), fqdn) > 0))
    .sort(byAge)[0];
}

/**
 * The traffic policy for one service port: the top level, with each section that a matching
 * `portLevelSettings` entry sets replacing the top-level one (istiod MergeTrafficPolicy).
 */
export function trafficPolicyForPort(policy: TrafficPolicy | undefined, servicePort: number): TrafficPolicy | undefined {
  if (policy === undefined) return undefined;
  const { portLevelSettings, ...base } = policy;
  const entry = portLevelSettings?.find((p) => p.port?.number === servicePort);
  if (entry === undefined) return base;
  const { port: _port, ...sections } = entry;
  return { ...base, ...sections };
}
