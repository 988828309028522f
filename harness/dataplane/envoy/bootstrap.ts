/**
 * One Envoy v3 static bootstrap per sidecar, from the resolved mesh (the same model the
 * reference data plane renders from). A workload's sidecar has its inbound side and the
 * outbound side; an in-mesh client's sidecar has the outbound side only. Replicas of a workload
 * share one bootstrap (their sidecars are configured alike; each pod has its own certificate
 * files under the same path).
 */
import type { ResolvedMesh, ResolvedWorkload } from '../../model/resolve.ts';
import { hcmFilter, loadAssignment, ROUTER_FILTER, socketAddress } from './filters.ts';
import { inboundCluster, inboundListener, type InboundContext, type InboundPort } from './inbound.ts';
import type { JsonObject } from './json.ts';
import { outboundResources, type OutboundListenerPlan } from './outbound.ts';
import type { RenderNote } from './outbound-cluster.ts';
import { resolveRenderOptions, type EnvoyRenderOptions, type ResolvedRenderOptions } from './render-options.ts';
import { sdsFiles } from './tls.ts';

/** Envoy's image, pinned: the newest minor whose API the loaded protos cover (mapping §6: ≥ 1.30 for uri_template). */
export const ENVOY_IMAGE = 'envoyproxy/envoy:v1.32.5';

export interface SidecarPortPlan {
  readonly admin: number;
  readonly statsSocket: string | null;
  readonly inbound: readonly InboundPort[];
  readonly outbound: readonly OutboundListenerPlan[];
}

export interface RenderedSidecar {
  readonly kind: 'workload' | 'client';
  /** `namespace/name` of the workload or client. */
  readonly key: string;
  /** `<namespace>.<name>`: file names are `<id>.envoy.yaml`. */
  readonly id: string;
  readonly bootstrap: JsonObject;
  /** File-based SDS resources (DiscoveryResponse documents) the bootstrap points at. */
  readonly sds: readonly { readonly name: string; readonly document: JsonObject }[];
  readonly ports: SidecarPortPlan;
  /** Parts of the policies this rendering could not express, each saying what was done instead. */
  readonly notes: readonly string[];
  readonly timeScale: number;
}

const STATS_CLUSTER = 'prometheus_stats';

/** GET /stats/prometheus on a Unix socket, routed to the admin listener (Istio's 15090 → 15000, on a socket). */
function statsResources(o: ResolvedRenderOptions): { listeners: JsonObject[]; clusters: JsonObject[] } {
  if (o.statsSocket === null) return { listeners: [], clusters: [] };
  return {
    listeners: [
      {
        name: 'prometheus_stats',
        address: { pipe: { path: o.statsSocket } },
        filter_chains: [
          {
            filters: [
              hcmFilter({
                stat_prefix: 'stats',
                codec_type: 'AUTO',
                route_config: { name: 'stats', virtual_hosts: [{ name: 'stats', domains: ['*'], routes: [{ match: { prefix: '/stats/prometheus' }, route: { cluster: STATS_CLUSTER } }] }] },
                http_filters: [ROUTER_FILTER],
              }),
            ],
          },
        ],
      },
    ],
    clusters: [{ name: STATS_CLUSTER, type: 'STATIC', connect_timeout: '1s', load_assignment: loadAssignment(STATS_CLUSTER, [{ host: '127.0.0.1', port: o.adminPort }]) }],
  };
}

function node(kind: RenderedSidecar['kind'], namespace: string, name: string, o: ResolvedRenderOptions): JsonObject {
  return {
    id: `sidecar~${namespace}~${name}`,
    cluster: `${name}.${namespace}`,
    metadata: { meshproof: { kind, namespace, name, time_scale: o.timeScale, renderer: 'meshproof envoy adapter' } },
  };
}

function assemble(kind: RenderedSidecar['kind'], namespace: string, name: string, mesh: ResolvedMesh, o: ResolvedRenderOptions, workload?: ResolvedWorkload): RenderedSidecar {
  const notes: RenderNote[] = [];
  const taken = new Set<number>([o.adminPort]);
  const inbound: InboundPort[] = (workload?.ports ?? []).map((p, i) => {
    const listenPort = o.inboundBasePort + i;
    taken.add(listenPort);
    return { workloadPort: p.port, listenPort, protocol: p.protocol, mtlsMode: p.mtlsMode };
  });
  const ctx: InboundContext = {
    options: o,
    rbac: { trustDomains: [mesh.mesh.trustDomain, ...mesh.mesh.trustDomainAliases] },
    minTls: mesh.mesh.minTlsVersion === 'TLSv1.3' ? 'TLSv1_3' : 'TLSv1_2',
    pathNormalization: mesh.mesh.pathNormalization,
  };
  const outbound = outboundResources(mesh, namespace, o, taken, notes);
  const stats = statsResources(o);
  const bootstrap: JsonObject = {
    node: node(kind, namespace, name, o),
    admin: { address: socketAddress('127.0.0.1', o.adminPort) },
    static_resources: {
      listeners: [...(workload === undefined ? [] : inbound.map((p) => inboundListener(workload, p, ctx))), ...outbound.listeners, ...stats.listeners],
      clusters: [...inbound.map((p) => inboundCluster(p.workloadPort, ctx)), ...outbound.clusters, ...stats.clusters],
    },
  };
  return {
    kind,
    key: `${namespace}/${name}`,
    id: `${namespace}.${name}`,
    bootstrap,
    sds: sdsFiles(o),
    ports: { admin: o.adminPort, statsSocket: o.statsSocket, inbound, outbound: outbound.plan },
    notes: [...new Set(notes.map((n) => n.message))],
    timeScale: o.timeScale,
  };
}

export function renderWorkloadSidecar(mesh: ResolvedMesh, workload: ResolvedWorkload, options: EnvoyRenderOptions = {}): RenderedSidecar {
  return assemble('workload', workload.namespace, workload.name, mesh, resolveRenderOptions(options), workload);
}

/** Every sidecar of the mesh: one per workload, one per in-mesh client (plaintext clients have none). */
export function renderEnvoyBootstraps(mesh: ResolvedMesh, options: EnvoyRenderOptions = {}): RenderedSidecar[] {
  const o = resolveRenderOptions(options);
  return [
    ...mesh.workloads.map((w) => assemble('workload', w.namespace, w.name, mesh, o, w)),
    ...mesh.clients.filter((c) => c.client.sidecar).map((c) => assemble('client', c.client.namespace, c.client.name, mesh, o)),
  ];
}
