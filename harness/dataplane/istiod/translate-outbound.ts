/**
 * Render, outbound side: what one sidecar (a workload replica's or an in-mesh client's) needs to
 * call every service of the mesh, as istiod gives every sidecar every service by default.
 *
 * - Clusters: one per service port (`outbound|80||payment.prod.svc.cluster.local`), with the
 *   DestinationRule the client's namespace sees for that host (destinationFor), one per
 *   DestinationRule subset (`outbound|80|v1|…`), and one per pod port
 *   (`outbound|8080||payment-0.prod`): a call addressed to one pod, as Istio routes the pods of a
 *   headless service [harness extension: every workload gets them]. Pod clusters carry no
 *   DestinationRule (no service host names them) and expect their workload's identity.
 * - HTTP listeners: one per port number, on 127.0.0.1 from `basePort` up; the Host header picks
 *   the virtual host: services on that port (domains as Istio writes them: FQDN, `name.ns.svc`,
 *   `name.ns`, and `name` in the client's own namespace, each with and without `:port`) and pods
 *   with that workload port (`payment-0.prod`, `payment-0.prod:8080`).
 * - TCP listeners: one per TCP service port of each service, and per TCP port of each pod.
 * - Routes: the VirtualService's HTTP routes (render-route.ts), else Istio's default route.
 *
 * Endpoints are the pods' DNS names on the run network, `<workload>-<replica>.<namespace>`
 * (the runtime's pod names), at the workload port, where the reference sidecar's inbound
 * listener binds. `endpointAddress` changes that (local tests bind loopback addresses) and
 * `endpointOverrides` points one pod's name at another address: a DNS spoofing fault, which
 * secure naming must catch.
 */
import { spiffeId } from '../../model/identity.ts';
import { selectorMatches } from '../../model/labels.ts';
import { resolveHost, trafficPolicyForPort } from '../../model/resolve-destination.ts';
import { policyRef } from '../../model/resolve-peer-authentication.ts';
import { destinationFor, type ResolvedDestination, type ResolvedMesh, type ResolvedWorkload } from '../../model/resolve.ts';
import type { TrafficPolicy } from '../../model/resources.ts';
import type { ClusterConfig, EndpointConfig, OutboundConfig, OutboundListenerConfig, RouteConfig, VirtualHostConfig } from './outbound-config.ts';
import { renderCluster } from './translate-cluster.ts';
import { defaultRoute, renderRoute, type RouteContext } from './translate-route.ts';

export interface OutboundTranslateOptions {
  readonly timeScale: number;
  readonly seed: number;
  /** The first local port for outbound listeners (Istio's outbound capture port 15001). */
  readonly basePort: number;
  /** Ports the sidecar or app already use in the pod. */
  readonly taken: ReadonlySet<number>;
  readonly bindAddress?: string;
  /** Where replica `replica` of `w` serves workload port `port`. Default: its pod's DNS name, that port. */
  readonly endpointAddress?: (w: ResolvedWorkload, replica: number, port: number) => { readonly address: string; readonly port: number };
  /** Pod name → the address its endpoints use instead. */
  readonly endpointOverrides?: ReadonlyMap<string, string>;
  readonly responseFlagsHeader?: string;
}

/** The pod name the runtime gives replica `i` of a workload (harness/mesh/participants.ts workloadPod). */
export function podName(w: { readonly name: string; readonly namespace: string }, replica: number): string {
  return `${w.name}-${replica}.${w.namespace}`;
}

export function clusterName(port: number, subset: string | undefined, host: string): string {
  return `outbound|${port}|${subset ?? ''}|${host}`;
}

export function translateOutbound(mesh: ResolvedMesh, clientNamespace: string, o: OutboundTranslateOptions, notes: string[]): OutboundConfig {
  const seen = new Set<string>();
  const note = (message: string): void => {
    if (!seen.has(message)) notes.push(message);
    seen.add(message);
  };
  const destinations = mesh.topology.services.map((s) => destinationFor({ policies: mesh.policies, topology: mesh.topology, workloads: mesh.workloads }, s, clientNamespace));
  const byKey = new Map(mesh.workloads.map((w) => [w.key, w]));
  const trustDomains = [mesh.mesh.trustDomain, ...mesh.mesh.trustDomainAliases.filter((a) => a !== mesh.mesh.trustDomain)];
  const identities = (accounts: readonly { namespace: string; serviceAccount: string }[]): string[] =>
    [...new Set(trustDomains.flatMap((td) => accounts.map((a) => spiffeId(td, a.namespace, a.serviceAccount))))].sort();
  const endpoint = (w: ResolvedWorkload, replica: number, port: number): EndpointConfig => {
    const pod = podName(w, replica);
    const at = o.endpointAddress?.(w, replica, port) ?? { address: pod, port };
    const mode = w.ports.find((p) => p.port === port)?.mtlsMode;
    return { address: o.endpointOverrides?.get(pod) ?? at.address, port: at.port, tls: mode !== 'DISABLE', pod, workload: w.name, namespace: w.namespace, labels: { ...w.labels } };
  };

  const clusters: ClusterConfig[] = [];
  for (const d of destinations) {
    const workloads = d.workloads.map((k) => byKey.get(k)).filter((w): w is ResolvedWorkload => w !== undefined);
    const ids = identities(workloads.map((w) => ({ namespace: w.namespace, serviceAccount: w.serviceAccount })));
    const source = d.destinationRule === undefined ? undefined : `DestinationRule ${d.destinationRule.namespace}/${d.destinationRule.name} (${policyRef(d.destinationRule).at})`;
    for (const sp of d.ports) {
      const endpoints = (ws: readonly ResolvedWorkload[]): EndpointConfig[] => ws.flatMap((w) => Array.from({ length: w.replicas }, (_, i) => endpoint(w, i, sp.targetPort)));
      clusters.push(renderCluster({ name: clusterName(sp.port, undefined, d.host), service: d.host, port: sp.port, endpoints: endpoints(workloads), ...(sp.trafficPolicy === undefined ? {} : { trafficPolicy: sp.trafficPolicy }), identities: ids, ...(source === undefined ? {} : { policySource: source }) }, o.timeScale, note));
      for (const subset of d.destinationRule?.spec.subsets ?? []) {
        const selected = workloads.filter((w) => selectorMatches({ matchLabels: subset.labels ?? {} }, w.labels));
        const policy = mergeSubsetPolicy(sp.trafficPolicy, trafficPolicyForPort(subset.trafficPolicy, sp.port));
        clusters.push(renderCluster({ name: clusterName(sp.port, subset.name, d.host), service: d.host, port: sp.port, subset: subset.name, endpoints: endpoints(selected), ...(policy === undefined ? {} : { trafficPolicy: policy }), identities: ids, ...(source === undefined ? {} : { policySource: `${source} subset ${subset.name}` }) }, o.timeScale, note));
      }
    }
  }
  for (const w of mesh.workloads) {
    for (let i = 0; i < w.replicas; i++) {
      for (const p of w.ports) {
        const pod = podName(w, i);
        clusters.push(renderCluster({ name: clusterName(p.port, undefined, pod), service: pod, port: p.port, endpoints: [endpoint(w, i, p.port)], identities: identities([{ namespace: w.namespace, serviceAccount: w.serviceAccount }]) }, o.timeScale, note));
      }
    }
  }
  const known = new Set(clusters.map((c) => c.name));

  let next = o.basePort;
  const allocate = (): number => {
    while (o.taken.has(next)) next++;
    return next++;
  };
  const listeners: OutboundListenerConfig[] = [];
  const httpPorts = new Set<number>();
  for (const d of destinations) for (const sp of d.ports) if (sp.protocol === 'http') httpPorts.add(sp.port);
  for (const w of mesh.workloads) for (const p of w.ports) if (p.protocol === 'http') httpPorts.add(p.port);
  for (const port of [...httpPorts].sort((a, b) => a - b)) {
    const virtualHosts: VirtualHostConfig[] = [];
    for (const d of destinations) {
      if (!d.ports.some((sp) => sp.port === port && sp.protocol === 'http')) continue;
      const ctx = routeContext(mesh, destinations, d, port, o, known, note);
      virtualHosts.push({ name: `${d.host}:${port}`, domains: serviceDomains(d, port, clientNamespace), routes: routesOf(d, ctx) });
    }
    for (const w of mesh.workloads) {
      if (!w.ports.some((p) => p.port === port && p.protocol === 'http')) continue;
      for (let i = 0; i < w.replicas; i++) {
        const pod = podName(w, i);
        const ctx: RouteContext = { port, scale: o.timeScale, ...(mesh.mesh.defaultHttpRetryPolicy === undefined ? {} : { meshDefaultRetry: mesh.mesh.defaultHttpRetryPolicy }), clusterFor: () => clusterName(port, undefined, pod), note };
        virtualHosts.push({ name: `${pod}:${port}`, domains: [pod, `${pod}:${port}`], routes: [defaultRoute(clusterName(port, undefined, pod), ctx)] });
      }
    }
    listeners.push({ name: `outbound_${port}`, port: allocate(), servicePort: port, protocol: 'http', virtualHosts });
  }
  for (const d of destinations) {
    for (const sp of d.ports.filter((p) => p.protocol === 'tcp')) {
      const cluster = clusterName(sp.port, undefined, d.host);
      listeners.push({ name: `outbound_${sp.port}_${d.host}`, port: allocate(), servicePort: sp.port, protocol: 'tcp', cluster });
    }
  }
  for (const w of mesh.workloads) {
    for (let i = 0; i < w.replicas; i++) {
      for (const p of w.ports.filter((x) => x.protocol === 'tcp')) {
        const pod = podName(w, i);
        listeners.push({ name: `outbound_${p.port}_${pod}`, port: allocate(), servicePort: p.port, protocol: 'tcp', cluster: clusterName(p.port, undefined, pod) });
      }
    }
  }
  return {
    bindAddress: o.bindAddress ?? '127.0.0.1',
    listeners,
    clusters,
    seed: o.seed,
    timeScale: o.timeScale,
    ...(o.responseFlagsHeader === undefined ? {} : { responseFlagsHeader: o.responseFlagsHeader }),
  };
}

/** Istio's domains for a service on one port (BuildSidecarOutboundVirtualHosts). */
export function serviceDomains(d: Pick<ResolvedDestination, 'host' | 'name' | 'namespace'>, port: number, clientNamespace: string): string[] {
  const names = [d.host, `${d.name}.${d.namespace}.svc`, `${d.name}.${d.namespace}`, ...(d.namespace === clientNamespace ? [d.name] : [])];
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

function routeContext(mesh: ResolvedMesh, destinations: readonly ResolvedDestination[], d: ResolvedDestination, port: number, o: OutboundTranslateOptions, known: ReadonlySet<string>, note: (m: string) => void): RouteContext {
  const vsNamespace = d.virtualService?.namespace ?? d.namespace;
  return {
    port,
    scale: o.timeScale,
    ...(mesh.mesh.defaultHttpRetryPolicy === undefined ? {} : { meshDefaultRetry: mesh.mesh.defaultHttpRetryPolicy }),
    note,
    clusterFor: (host, destPort, subset) => {
      const fqdn = resolveHost(host, vsNamespace);
      const target = destinations.find((x) => x.host === fqdn);
      // No port: the service's only port, else the port called (istiod does the same).
      const p = destPort ?? (target?.ports.length === 1 ? target.ports[0]!.port : port);
      const name = clusterName(p, subset, fqdn);
      if (!known.has(name)) note(`VirtualService ${d.virtualService?.namespace}/${d.virtualService?.name}: destination ${host}${subset === undefined ? '' : ` subset ${subset}`} port ${p} is no cluster of this mesh; requests routed there get 503 NC`);
      return name;
    },
  };
}

function routesOf(d: ResolvedDestination, ctx: RouteContext): RouteConfig[] {
  const vs = d.virtualService;
  if (vs === undefined || d.httpRoutes.length === 0) return [defaultRoute(clusterName(ctx.port, undefined, d.host), ctx)];
  const at = policyRef(vs).at;
  const routes: RouteConfig[] = [];
  d.httpRoutes.forEach((r, i) => {
    const rendered = renderRoute(r, `VirtualService ${vs.namespace}/${vs.name} http[${i}]${r.name === undefined ? '' : ` ${r.name}`} (${at})`, ctx);
    if (rendered !== undefined) routes.push(rendered);
  });
  return routes;
}

/** istiod MergeTrafficPolicy for a subset: each section the subset sets replaces the service's. */
function mergeSubsetPolicy(base: TrafficPolicy | undefined, subset: TrafficPolicy | undefined): TrafficPolicy | undefined {
  if (subset === undefined) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(subset)) if (value !== undefined) out[key] = value;
  return out as TrafficPolicy;
}
