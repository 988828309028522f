/**
 * A sidecar's outbound side: a cluster per destination service port, and listeners on loopback
 * for the app: one per HTTP service port (route config named by the port, one virtual host per
 * service, domains as Istio writes them: FQDN, `name.ns.svc`, `name.ns`, and `name` from the same
 * namespace, each with and without `:port`), one per TCP service port of each service.
 *
 * Cluster names are `outbound_<port>__<service>` (`_<namespace>` appended when two namespaces
 * have a service of that name): dot-free, so Envoy's default tag extractor keeps them whole.
 * Istio's own name is `outbound|<port>||<fqdn>`.
 */
import { spiffeId } from '../../model/identity.ts';
import { destinationFor, type ResolvedDestination, type ResolvedMesh } from '../../model/resolve.ts';
import { resolveHost } from '../../model/resolve-destination.ts';
import { EMPTY_FAULT_FILTER, hcmFilter, ROUTER_FILTER, socketAddress, stdoutAccessLog, tcpProxyFilter } from './filters.ts';
import type { JsonObject } from './json.ts';
import { outboundCluster, type RenderNote, type UpstreamEndpoint } from './outbound-cluster.ts';
import { outboundRoutes } from './outbound-route.ts';
import type { ResolvedRenderOptions } from './render-options.ts';

export interface OutboundListenerPlan {
  readonly listenPort: number;
  readonly protocol: 'http' | 'tcp';
  readonly servicePort: number;
  /** `namespace/name` of the services reached here (one for TCP). */
  readonly services: readonly string[];
}

export interface OutboundResources {
  readonly listeners: JsonObject[];
  readonly clusters: JsonObject[];
  readonly plan: OutboundListenerPlan[];
}

/** The inbound listen port of a workload port, as the workload's own sidecar lays it out. */
export function inboundListenPort(ports: readonly { readonly port: number }[], port: number, o: ResolvedRenderOptions): number | undefined {
  const index = ports.findIndex((p) => p.port === port);
  return index < 0 ? undefined : o.inboundBasePort + index;
}

function clusterNamer(destinations: readonly ResolvedDestination[]): (d: ResolvedDestination, port: number) => string {
  const count = new Map<string, number>();
  for (const d of destinations) count.set(d.name, (count.get(d.name) ?? 0) + 1);
  return (d, port) => `outbound_${port}__${d.name}${(count.get(d.name) ?? 0) > 1 ? `_${d.namespace}` : ''}`;
}

function domains(d: ResolvedDestination, port: number, clientNamespace: string): string[] {
  const names = [d.host, `${d.name}.${d.namespace}.svc`, `${d.name}.${d.namespace}`, ...(d.namespace === clientNamespace ? [d.name] : [])];
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

function endpoints(mesh: ResolvedMesh, d: ResolvedDestination, targetPort: number, o: ResolvedRenderOptions): UpstreamEndpoint[] {
  const out: UpstreamEndpoint[] = [];
  for (const key of d.workloads) {
    const w = mesh.workloads.find((x) => x.key === key);
    const listenPort = w === undefined ? undefined : inboundListenPort(w.ports, targetPort, o);
    if (w === undefined || listenPort === undefined) continue;
    const acceptsMtls = w.ports.find((p) => p.port === targetPort)?.mtlsMode !== 'DISABLE';
    for (let i = 0; i < w.replicas; i++) out.push({ host: o.podHost(w, i), port: listenPort, acceptsMtls });
  }
  return out;
}

/** The SPIFFE ids of the service accounts behind `d`, with each trust-domain alias. [derived: istiod expands SANs with the aliases] */
function serverIdentities(mesh: ResolvedMesh, d: ResolvedDestination): string[] {
  const accounts = [...new Set(d.workloads.map((key) => mesh.workloads.find((w) => w.key === key)?.serviceAccount).filter((sa): sa is string => sa !== undefined))].sort();
  const domainsOfTrust = [mesh.mesh.trustDomain, ...mesh.mesh.trustDomainAliases];
  return domainsOfTrust.flatMap((td) => accounts.map((sa) => spiffeId(td, d.namespace, sa)));
}

/** Every outbound listener and cluster of a sidecar in `clientNamespace`; `taken` ports are skipped. */
export function outboundResources(mesh: ResolvedMesh, clientNamespace: string, o: ResolvedRenderOptions, taken: Set<number>, notes: RenderNote[]): OutboundResources {
  const destinations = mesh.topology.services.map((s) => destinationFor({ policies: mesh.policies, topology: mesh.topology, workloads: mesh.workloads }, s, clientNamespace));
  const clusterName = clusterNamer(destinations);
  const clusters: JsonObject[] = [];
  for (const d of destinations) {
    for (const sp of d.ports) {
      clusters.push(
        outboundCluster(
          { name: clusterName(d, sp.port), host: d.host, port: sp.port, ...(sp.trafficPolicy === undefined ? {} : { trafficPolicy: sp.trafficPolicy }), endpoints: endpoints(mesh, d, sp.targetPort, o), serverIdentities: serverIdentities(mesh, d) },
          o,
          notes,
        ),
      );
    }
  }
  let next = o.outboundBasePort;
  const allocate = (): number => {
    while (taken.has(next)) next++;
    taken.add(next);
    return next;
  };
  const listeners: JsonObject[] = [];
  const plan: OutboundListenerPlan[] = [];
  const httpPorts = [...new Set(destinations.flatMap((d) => d.ports.filter((p) => p.protocol === 'http').map((p) => p.port)))].sort((a, b) => a - b);
  for (const port of httpPorts) {
    const here = destinations.filter((d) => d.ports.some((p) => p.port === port && p.protocol === 'http'));
    const virtualHosts = here.map((d) => {
      const vsNamespace = d.virtualService?.namespace ?? d.namespace;
      const clusterFor = (host: string, p: number): string | undefined => {
        const target = destinations.find((x) => x.host === resolveHost(host, vsNamespace));
        return target === undefined || !target.ports.some((tp) => tp.port === p) ? undefined : clusterName(target, p);
      };
      const routes = outboundRoutes(d.httpRoutes, clusterName(d, port), {
        scale: o.timeScale,
        ...(mesh.mesh.defaultHttpRetryPolicy === undefined ? {} : { meshDefaultRetry: mesh.mesh.defaultHttpRetryPolicy }),
        notes,
        clusterFor,
        port,
        where: d.virtualService === undefined ? d.key : `VirtualService ${d.virtualService.namespace}/${d.virtualService.name}`,
      });
      return { name: `${d.host}:${port}`, domains: domains(d, port, clientNamespace), routes };
    });
    const listenPort = allocate();
    listeners.push({
      name: `outbound_${listenPort}`,
      address: socketAddress('127.0.0.1', listenPort),
      filter_chains: [
        {
          filters: [
            hcmFilter({
              stat_prefix: `outbound_${port}`,
              codec_type: 'AUTO',
              route_config: { name: String(port), virtual_hosts: virtualHosts },
              http_filters: [EMPTY_FAULT_FILTER, ROUTER_FILTER],
              ...(o.accessLog ? { access_log: stdoutAccessLog() } : {}),
            }),
          ],
        },
      ],
    });
    plan.push({ listenPort, protocol: 'http', servicePort: port, services: here.map((d) => d.key) });
  }
  for (const d of destinations) {
    for (const sp of d.ports.filter((p) => p.protocol === 'tcp')) {
      const listenPort = allocate();
      const cluster = clusterName(d, sp.port);
      listeners.push({ name: `outbound_${listenPort}`, address: socketAddress('127.0.0.1', listenPort), filter_chains: [{ filters: [tcpProxyFilter(cluster, cluster, o.accessLog)] }] });
      plan.push({ listenPort, protocol: 'tcp', servicePort: sp.port, services: [d.key] });
    }
  }
  return { listeners, clusters, plan };
}
