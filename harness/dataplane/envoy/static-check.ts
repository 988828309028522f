/**
 * The static check of a rendered sidecar: the bootstrap against `envoy.config.bootstrap.v3.Bootstrap`
 * and each SDS file against `envoy.service.discovery.v3.DiscoveryResponse` (proto-json-check.ts),
 * plus the references Envoy resolves when it loads a static bootstrap: listener and cluster names
 * unique, every route and tcp_proxy naming a defined cluster, every SDS file the bootstrap points
 * at rendered, and no two listeners on one address.
 */
import { ENVOY_BOOTSTRAP_FILE } from './render-options.ts';
import type { RenderedSidecar } from './bootstrap.ts';
import { envoyApi, type EnvoyApi } from './envoy-api.ts';
import { checkProtoJson, type ConfigProblem } from './proto-json-check.ts';

export interface FileProblem extends ConfigProblem {
  /** The rendered file the problem is in: `<id>.envoy.yaml` or an SDS file. */
  readonly file: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Visits every object in `value` with its path. */
function walk(value: unknown, path: string, visit: (obj: Obj, path: string) => void): void {
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit));
  else if (isObj(value)) {
    visit(value, path);
    for (const [k, v] of Object.entries(value)) walk(v, /^[\w@]+$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, visit);
  }
}

function references(sidecar: RenderedSidecar, file: string): FileProblem[] {
  const problems: FileProblem[] = [];
  const add = (path: string, message: string): void => {
    problems.push({ file, path: path.replace(/^\./, ''), kind: 'constraint', message });
  };
  const resources = (sidecar.bootstrap['static_resources'] ?? {}) as { listeners?: Obj[]; clusters?: Obj[] };
  const clusters = new Set<string>();
  (resources.clusters ?? []).forEach((c, i) => {
    const name = String(c['name']);
    if (clusters.has(name)) add(`static_resources.clusters[${i}].name`, `cluster name '${name}' is used twice`);
    clusters.add(name);
  });
  const listenerNames = new Set<string>();
  const addresses = new Set<string>();
  (resources.listeners ?? []).forEach((l, i) => {
    const name = String(l['name']);
    if (listenerNames.has(name)) add(`static_resources.listeners[${i}].name`, `listener name '${name}' is used twice`);
    listenerNames.add(name);
    const address = JSON.stringify(l['address']);
    if (addresses.has(address)) add(`static_resources.listeners[${i}].address`, `two listeners bind ${address}`);
    addresses.add(address);
  });
  const sdsPaths = new Set(sidecar.sds.map((s) => s.name));
  walk(sidecar.bootstrap, '', (obj, path) => {
    for (const key of ['cluster']) {
      const target = obj[key];
      if (typeof target === 'string' && (path.endsWith('.route') || path.endsWith('.typed_config')) && !clusters.has(target)) add(`${path}.${key}`, `names cluster '${target}', which is not defined`);
    }
    const weighted = obj['weighted_clusters'];
    if (isObj(weighted) && Array.isArray(weighted['clusters'])) {
      weighted['clusters'].forEach((c, i) => {
        if (isObj(c) && !clusters.has(String(c['name']))) add(`${path}.weighted_clusters.clusters[${i}].name`, `names cluster '${String(c['name'])}', which is not defined`);
      });
    }
    const source = obj['path_config_source'];
    if (isObj(source) && typeof source['path'] === 'string' && !sdsPaths.has(source['path'].split('/').pop() ?? '')) {
      add(`${path}.path_config_source.path`, `points at ${source['path']}, which was not rendered`);
    }
  });
  return problems;
}

/** Every problem of one rendered sidecar; empty when Envoy's API accepts all of it. */
export function checkRenderedSidecar(sidecar: RenderedSidecar, api: EnvoyApi = envoyApi()): FileProblem[] {
  const file = `${sidecar.id}.${ENVOY_BOOTSTRAP_FILE}`;
  const problems: FileProblem[] = checkProtoJson(api, 'envoy.config.bootstrap.v3.Bootstrap', sidecar.bootstrap).problems.map((p) => ({ ...p, file }));
  for (const sds of sidecar.sds) {
    problems.push(...checkProtoJson(api, 'envoy.service.discovery.v3.DiscoveryResponse', sds.document).problems.map((p) => ({ ...p, file: `${sidecar.id}.${sds.name}` })));
  }
  problems.push(...references(sidecar, file));
  return problems;
}

export function formatFileProblem(p: FileProblem): string {
  return `${p.file}: ${p.path}: ${p.message}`;
}
