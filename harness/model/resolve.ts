/**
 * The resolved model: policies and topology joined, per workload and per destination service.
 * The reference data plane and the Envoy adapter render from it; the oracle decides from it.
 * It holds no decision logic (no request is matched against a rule here).
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import { principalOf, spiffeId } from './identity.ts';
import type { Issue } from './issues.ts';
import { hasSelector, selectorMatches } from './labels.ts';
import type { PolicySet } from './load-policies.ts';
import type { MeshSettings } from './mesh-config.ts';
import {
  peerAuthenticationLevels,
  policyRef,
  resolvePortMtls,
  resolveWorkloadMtls,
  type EffectiveMtlsMode,
  type MtlsStep,
  type PolicyRef,
} from './resolve-peer-authentication.ts';
import { destinationRuleFor, serviceFqdn, trafficPolicyForPort, virtualServiceFor } from './resolve-destination.ts';
import { requestAuthenticationsFor, resolveJwtRules, type ResolvedJwtRule } from './resolve-request-authentication.ts';
import type { AuthorizationPolicy, DestinationRule, HttpRoute, TrafficPolicy, VirtualService } from './resources.ts';
import type { Client, PortProtocol, Service, Topology, Workload } from './topology.ts';

export interface ResolvedPort {
  /** Workload (container) port: what PeerAuthentication port keys and AuthorizationPolicy `ports` mean. */
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly mtlsMode: EffectiveMtlsMode;
  /** The PeerAuthentication policies that made the mode, outermost first. Empty: PERMISSIVE default. */
  readonly mtlsSteps: readonly MtlsStep[];
}

export interface ResolvedWorkload {
  readonly key: string;
  readonly workload: Workload;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly replicas: number;
  /** `spiffe://<trust domain>/ns/<ns>/sa/<sa>`. */
  readonly spiffeId: string;
  /** The same without `spiffe://`, as policies write it. */
  readonly principal: string;
  /** Workload-level mode (before portLevelMtls). */
  readonly mtlsMode: EffectiveMtlsMode;
  readonly ports: readonly ResolvedPort[];
  /**
   * Every AuthorizationPolicy that selects this workload (any action, dry-run included), oldest
   * first. Root-namespace policies apply mesh-wide; targetRef policies select no sidecar.
   */
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  /** `namespace/name` of the services that select this workload. */
  readonly services: readonly string[];
  /** The JWT rules of the RequestAuthentications selecting it, ordered by issuer (empty: no JWT is looked at). */
  readonly jwtRules: readonly ResolvedJwtRule[];
}

export interface ResolvedServicePort {
  readonly port: number;
  readonly targetPort: number;
  readonly protocol: PortProtocol;
  /** The DestinationRule traffic policy for this port (portLevelSettings merged), if any. */
  readonly trafficPolicy?: TrafficPolicy;
}

export interface ResolvedDestination {
  readonly key: string;
  readonly service: Service;
  readonly namespace: string;
  readonly name: string;
  /** `name.namespace.svc.cluster.local`. */
  readonly host: string;
  /** The workloads behind the service and the endpoint count (sum of replicas). */
  readonly workloads: readonly string[];
  readonly endpointCount: number;
  readonly ports: readonly ResolvedServicePort[];
  /** The DestinationRule as seen from the service's own namespace (see destinationFor for another client namespace). */
  readonly destinationRule?: DestinationRule;
  readonly trafficPolicy?: TrafficPolicy;
  readonly virtualService?: VirtualService;
  /** The VirtualService's HTTP routes in order (empty: Istio's default route). */
  readonly httpRoutes: readonly HttpRoute[];
}

export interface ResolvedClient {
  readonly key: string;
  readonly client: Client;
  /** Absent for a plaintext client. */
  readonly spiffeId?: string;
  readonly principal?: string;
}

export interface ResolvedMesh {
  readonly mesh: MeshSettings;
  readonly policies: PolicySet;
  readonly topology: Topology;
  readonly workloads: readonly ResolvedWorkload[];
  readonly destinations: readonly ResolvedDestination[];
  readonly clients: readonly ResolvedClient[];
  /** Things worth knowing: unclaimed port-level mTLS ports, policies that select nothing, … */
  readonly notes: readonly Issue[];
}

function authorizationPoliciesFor(policies: readonly AuthorizationPolicy[], w: Workload, rootNamespace: string): AuthorizationPolicy[] {
  return policies
    .filter((p) => p.spec.targetRef === undefined && (p.spec.targetRefs === undefined || p.spec.targetRefs.length === 0))
    .filter((p) => p.namespace === w.namespace || p.namespace === rootNamespace)
    .filter((p) => selectorMatches(p.spec.selector, w.labels))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export function resolveMesh(policies: PolicySet, topology: Topology): ResolvedMesh {
  const mesh = policies.mesh;
  const notes: Issue[] = [];
  const workloads: ResolvedWorkload[] = topology.workloads.map((w) => {
    const levels = peerAuthenticationLevels(policies.peerAuthentications, w, mesh.rootNamespace);
    const workloadLevel = resolveWorkloadMtls(levels);
    const ports = w.ports.map((p) => {
      const r = resolvePortMtls(levels, workloadLevel, p.port);
      return { port: p.port, protocol: p.protocol, mtlsMode: r.mode, mtlsSteps: r.steps };
    });
    for (const key of Object.keys(levels.workload?.spec.portLevelMtls ?? {})) {
      if (!w.ports.some((p) => String(p.port) === key) && levels.workload !== undefined) {
        notes.push({ severity: 'warning', message: `portLevelMtls port ${key} is not a port of workload ${w.namespace}/${w.name}; Istio only applies ports that workloads claim`, location: { ...levels.workload.origin.location, field: `spec.portLevelMtls.${key}` } });
      }
    }
    const services = topology.services.filter((s) => s.namespace === w.namespace && selectorMatches({ matchLabels: s.selector }, w.labels)).map((s) => `${s.namespace}/${s.name}`);
    return {
      key: `${w.namespace}/${w.name}`,
      workload: w,
      namespace: w.namespace,
      name: w.name,
      labels: w.labels,
      serviceAccount: w.serviceAccount,
      replicas: w.replicas,
      spiffeId: spiffeId(mesh.trustDomain, w.namespace, w.serviceAccount),
      principal: principalOf(mesh.trustDomain, w.namespace, w.serviceAccount),
      mtlsMode: workloadLevel.mode,
      ports,
      authorizationPolicies: authorizationPoliciesFor(policies.authorizationPolicies, w, mesh.rootNamespace),
      services,
      jwtRules: resolveJwtRules(requestAuthenticationsFor(policies.requestAuthentications, w, mesh.rootNamespace), topology),
    };
  });
  for (const p of policies.authorizationPolicies) {
    if (hasSelector(p.spec.selector) && !workloads.some((w) => w.authorizationPolicies.includes(p))) {
      notes.push({ severity: 'warning', message: `AuthorizationPolicy ${p.namespace}/${p.name} selects no workload of the topology`, location: { ...p.origin.location, field: 'spec.selector' } });
    }
  }
  for (const p of policies.requestAuthentications) {
    (p.spec.jwtRules ?? []).forEach((rule, i) => {
      if ((rule.jwks ?? '') !== '' || rule.jwksUri === undefined || topology.jwks?.[rule.jwksUri] !== undefined) return;
      notes.push({
        severity: 'warning',
        message: `RequestAuthentication ${p.namespace}/${p.name} jwtRules[${i}]: no JWKS for ${rule.jwksUri}; meshproof fetches nothing, so like istiod after a failed fetch the sidecar gets a key nobody can sign with, and every token of issuer '${rule.issuer ?? ''}' is rejected (401)`,
        location: { ...p.origin.location, field: `spec.jwtRules[${i}].jwksUri` },
        hint: `name a local file for it in the topology: jwks: {${JSON.stringify(rule.jwksUri)}: path/to/jwks.json}, or write the keys inline as jwks`,
      });
    });
  }
  const destinations = topology.services.map((s) => destinationFor({ policies, topology, workloads }, s, s.namespace));
  const clients: ResolvedClient[] = topology.clients.map((c) => ({
    key: `${c.namespace}/${c.name}`,
    client: c,
    ...(c.serviceAccount === undefined
      ? {}
      : { spiffeId: spiffeId(mesh.trustDomain, c.namespace, c.serviceAccount), principal: principalOf(mesh.trustDomain, c.namespace, c.serviceAccount) }),
  }));
  return { mesh, policies, topology, workloads, destinations, clients, notes };
}

/** A destination as seen by a client in `clientNamespace` (DestinationRule lookup starts there). */
export function destinationFor(ctx: { policies: PolicySet; topology: Topology; workloads: readonly ResolvedWorkload[] }, service: Service, clientNamespace: string): ResolvedDestination {
  const host = serviceFqdn(service.namespace, service.name);
  const lookup = [...new Set([clientNamespace, service.namespace, ctx.policies.mesh.rootNamespace])];
  const dr = destinationRuleFor(ctx.policies.destinationRules, host, lookup);
  const vs = virtualServiceFor(ctx.policies.virtualServices, host);
  const selected = ctx.workloads.filter((w) => w.namespace === service.namespace && selectorMatches({ matchLabels: service.selector }, w.labels));
  const ports = service.ports.map((p) => {
    const protocol = selected[0]?.ports.find((wp) => wp.port === p.targetPort)?.protocol ?? 'http';
    const tp = trafficPolicyForPort(dr?.spec.trafficPolicy, p.port);
    return { port: p.port, targetPort: p.targetPort, protocol, ...(tp === undefined ? {} : { trafficPolicy: tp }) };
  });
  return {
    key: `${service.namespace}/${service.name}`,
    service,
    namespace: service.namespace,
    name: service.name,
    host,
    workloads: selected.map((w) => w.key),
    endpointCount: selected.reduce((n, w) => n + w.replicas, 0),
    ports,
    ...(dr === undefined ? {} : { destinationRule: dr }),
    ...(dr?.spec.trafficPolicy === undefined ? {} : { trafficPolicy: dr.spec.trafficPolicy }),
    ...(vs === undefined ? {} : { virtualService: vs }),
    httpRoutes: vs?.spec.http ?? [],
  };
}

/** `ns/name` → workload; throws a BadArgument error that lists what exists. */
export function findWorkload(mesh: ResolvedMesh, key: string): ResolvedWorkload {
  const w = mesh.workloads.find((x) => x.key === key);
  if (w === undefined) {
    throw new MeshproofError(ErrorCode.BadArgument, `no workload '${key}' in the topology`, { hint: `workloads: ${mesh.workloads.map((x) => x.key).join(', ') || '(none)'}` });
  }
  return w;
}

/** `ns/name` or FQDN → destination service; throws a BadArgument error that lists what exists. */
export function findDestination(mesh: ResolvedMesh, key: string): ResolvedDestination {
  const d = mesh.destinations.find((x) => x.key === key || x.host === key);
  if (d === undefined) {
    throw new MeshproofError(ErrorCode.BadArgument, `no service '${key}' in the topology`, { hint: `services: ${mesh.destinations.map((x) => x.key).join(', ') || '(none)'}` });
  }
  return d;
}

export { policyRef, type PolicyRef, type ResolvedJwtRule };
