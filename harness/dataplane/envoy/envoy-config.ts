/**
 * One Envoy configuration per proxy, written from the istiod translation (istiod/proxy-config.ts):
 * a v3 bootstrap (node, admin, Istio's stats tags) and the listeners, clusters and secrets istiod
 * would push, either as files Envoy watches (xds `files`: `lds.yaml`, `cds.yaml` and the SDS files,
 * each a DiscoveryResponse whose `version_info` is the translation's generation) or inline
 * (xds `static`). A workload's proxy has its inbound side and the outbound side; an in-mesh
 * client's has the outbound side only.
 */
import type { ResolvedMesh } from '../../model/resolve.ts';
import { translateProxy, type ProxyConfig } from '../istiod/proxy-config.ts';
import { RESPONSE_FLAGS_HEADER, type ProxyTarget } from '../types.ts';
import { socketAddress } from './filters.ts';
import { inboundCluster, inboundListener, type InboundContext } from './inbound.ts';
import { typeUrl, type JsonObject } from './json.ts';
import { outboundJson, type OutboundContext } from './outbound.ts';
import { ENVOY_ADMIN_PORT, ENVOY_CDS_FILE, ENVOY_LDS_FILE, resolveRenderOptions, type EnvoyRenderOptions, type ResolvedRenderOptions } from './render-options.ts';
import { sdsFiles, type TlsFiles } from './tls.ts';

const LISTENER_TYPE = typeUrl('envoy.config.listener.v3.Listener');
const CLUSTER_TYPE = typeUrl('envoy.config.cluster.v3.Cluster');

export interface EnvoyConfig {
  readonly proxy: ProxyConfig;
  readonly options: ResolvedRenderOptions;
  readonly bootstrap: JsonObject;
  readonly listeners: readonly JsonObject[];
  readonly clusters: readonly JsonObject[];
  /** File-based SDS resources (DiscoveryResponse documents) the TLS contexts point at. */
  readonly sds: readonly { readonly name: string; readonly document: JsonObject }[];
  /** Every file Envoy reads from the config folder: name → document (the bootstrap first). */
  readonly files: readonly { readonly name: string; readonly document: JsonObject }[];
}

/**
 * Istio's stats tags (tools/packaging/common/envoy_bootstrap.json), so Envoy's Prometheus series
 * carry the labels Istio users see: `cluster_name`, `tcp_prefix`, `response_code`,
 * `response_code_class`, `http_conn_manager_prefix`, `listener_address` (the reference sidecar
 * writes the same names). Istio's authz tags are
 * left out: the RBAC counters keep Envoy's plain names (`envoy_http_rbac_denied`), as the reference
 * sidecar writes them.
 */
const STATS_TAGS: readonly JsonObject[] = [
  { tag_name: 'cluster_name', regex: '^cluster\\.((.+?(\\..+?\\.svc\\.cluster\\.local)?)\\.)' },
  { tag_name: 'tcp_prefix', regex: '^tcp\\.((.*?)\\.)\\w+?$' },
  { tag_name: 'response_code', regex: '_rq(_(\\d{3}))$' },
  { tag_name: 'response_code_class', regex: '_rq(_(\\dxx))$' },
  { tag_name: 'http_conn_manager_listener_prefix', regex: '^listener(?=\\.).*?\\.http\\.(((?:[_.[:digit:]]*|[_\\[\\]aAbBcCdDeEfF[:digit:]]*))\\.)' },
  // Istio's pattern takes IP-shaped prefixes only (`inbound_0.0.0.0_8080` stays whole in the name);
  // meshproof's prefixes are dot-free (`inbound_8080`), so the tag takes any dot-free prefix.
  { tag_name: 'http_conn_manager_prefix', regex: '^http\\.(([^.]+)\\.)' },
  { tag_name: 'listener_address', regex: '^listener\\.(((?:[_.[:digit:]]*|[_\\[\\]aAbBcCdDeEfF[:digit:]]*))\\.)' },
];

/**
 * The runtime flags istiod's agent gives every Envoy (pkg/bootstrap extractRuntimeFlags): most
 * visibly, a request path's `#fragment` is stripped (Istio's CVE-2021-39156 fix) instead of the
 * request being refused with 400, as upstream Envoy does by default.
 */
const ISTIO_RUNTIME_FLAGS: JsonObject = {
  'overload.global_downstream_max_connections': '2147483647',
  're2.max_program_size.error_level': '32768',
  'envoy.reloadable_features.http_reject_path_with_fragment': false,
};

function node(proxy: ProxyConfig): JsonObject {
  const n = proxy.node;
  return {
    id: `sidecar~0.0.0.0~${n.pod}~${n.namespace}.svc.cluster.local`,
    cluster: `${n.workload ?? n.pod}.${n.namespace}`,
    metadata: { NAMESPACE: n.namespace, SERVICE_ACCOUNT: n.serviceAccount, WORKLOAD_NAME: n.workload ?? n.pod, LABELS: { ...n.labels }, meshproof: { time_scale: proxy.outbound?.timeScale ?? 1, renderer: 'meshproof istiod translation' } },
  };
}

/**
 * One listener and one cluster named after the generation, so every push changes both resource
 * sets. Envoy records a push's version_info only when it changed something; without these, a
 * policy change that leaves a proxy's listeners as they were would never show as applied there.
 * The listener answers on a socket in the config folder with its generation, and takes no traffic.
 */
function generationMarkers(generation: number, o: ResolvedRenderOptions): { listener: JsonObject; cluster: JsonObject } {
  const name = `meshproof_generation_${generation}`;
  return {
    listener: {
      name,
      address: { pipe: { path: `${o.configDir}/generation-${generation}.sock`, mode: 0o600 } },
      filter_chains: [{ filters: [{ name: 'envoy.filters.network.direct_response', typed_config: { '@type': typeUrl('envoy.extensions.filters.network.direct_response.v3.Config'), response: { inline_string: `generation ${generation}\n` } } }] }],
    },
    cluster: { name, type: 'STATIC', connect_timeout: '1s', load_assignment: { cluster_name: name, endpoints: [] } },
  };
}

function fileSource(o: ResolvedRenderOptions, file: string): JsonObject {
  return { path_config_source: { path: `${o.configDir}/${file}` }, resource_api_version: 'V3' };
}

export function renderEnvoyConfig(proxy: ProxyConfig, options: EnvoyRenderOptions = {}): EnvoyConfig {
  const o = resolveRenderOptions(options);
  const tls: TlsFiles = { certDir: o.certDir, certificates: o.certificates, sdsDir: o.configDir };
  const accessLog = o.accessLog === null ? undefined : { path: o.accessLog, pod: proxy.node.pod };
  const inbound: InboundContext = { tls, appPort: o.appPort, accessLog, trackRemaining: o.trackRemaining };
  const outboundCtx: OutboundContext = { tls, accessLog, trackRemaining: o.trackRemaining };
  const outbound = proxy.outbound === undefined ? { listeners: [], clusters: [] } : outboundJson(proxy.outbound, outboundCtx);
  const listeners = [...proxy.inbound.ports.map((p) => inboundListener(proxy, p, inbound)), ...outbound.listeners];
  const clusters = [...proxy.inbound.ports.map((p) => inboundCluster(p.port, inbound)), ...outbound.clusters];
  const sds = sdsFiles(tls);
  const bootstrap: JsonObject = {
    node: node(proxy),
    admin: { address: o.adminSocket === null ? socketAddress('127.0.0.1', ENVOY_ADMIN_PORT) : { pipe: { path: o.adminSocket } } },
    stats_config: { use_all_default_tags: false, stats_tags: [...STATS_TAGS] },
    layered_runtime: { layers: [{ name: 'global config', static_layer: ISTIO_RUNTIME_FLAGS }, { name: 'admin', admin_layer: {} }] },
    ...(o.xds === 'static'
      ? { static_resources: { listeners, clusters } }
      : { dynamic_resources: { lds_config: fileSource(o, ENVOY_LDS_FILE), cds_config: fileSource(o, ENVOY_CDS_FILE) } }),
  };
  const version = String(proxy.generation);
  const marker = generationMarkers(proxy.generation, o);
  const files =
    o.xds === 'static'
      ? [...sds]
      : [
          { name: ENVOY_CDS_FILE, document: { version_info: version, resources: [...clusters, marker.cluster].map((c) => ({ '@type': CLUSTER_TYPE, ...c })) } },
          { name: ENVOY_LDS_FILE, document: { version_info: version, resources: [...listeners, marker.listener].map((l) => ({ '@type': LISTENER_TYPE, ...l })) } },
          ...sds,
        ];
  return { proxy, options: o, bootstrap, listeners, clusters, sds, files };
}

export interface MeshEnvoyConfig {
  readonly kind: 'workload' | 'client';
  /** `namespace/name` of the workload or client. */
  readonly key: string;
  /** `<namespace>.<name>`: the folder its files are written to. */
  readonly id: string;
  readonly config: EnvoyConfig;
}

export interface MeshRenderOptions extends EnvoyRenderOptions {
  readonly timeScale?: number;
  readonly generation?: number;
}

/**
 * Every sidecar of a mesh: one per workload (its first replica: replicas are configured alike)
 * and one per in-mesh client. The same translation `run` gives running pods.
 */
export function renderMeshEnvoyConfigs(mesh: ResolvedMesh, options: MeshRenderOptions = {}): MeshEnvoyConfig[] {
  const { timeScale, generation, ...render } = options;
  const o = resolveRenderOptions(render);
  const translate = (target: ProxyTarget): EnvoyConfig =>
    renderEnvoyConfig(translateProxy(mesh, target, { generation: generation ?? 1, ...(timeScale === undefined ? {} : { timeScale }), taken: new Set([o.appPort]), responseFlagsHeader: RESPONSE_FLAGS_HEADER }), render);
  return [
    ...mesh.workloads.map((w) => ({ kind: 'workload' as const, key: w.key, id: `${w.namespace}.${w.name}`, config: translate({ kind: 'workload', workload: w, pod: `${w.name}-0.${w.namespace}` }) })),
    ...mesh.clients
      .filter((c) => c.client.sidecar)
      .map((c) => ({ kind: 'client' as const, key: c.key, id: `${c.client.namespace}.${c.client.name}`, config: translate({ kind: 'client', client: c, pod: `${c.client.name}.${c.client.namespace}` }) })),
  ];
}
