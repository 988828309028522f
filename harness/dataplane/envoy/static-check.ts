/**
 * The static check of a rendered Envoy configuration: the bootstrap against
 * `envoy.config.bootstrap.v3.Bootstrap` and each file Envoy watches against
 * `envoy.service.discovery.v3.DiscoveryResponse` (proto-json-check.ts, Any contents included), plus
 * the references Envoy resolves when it loads them: listener and cluster names unique, every route
 * and tcp_proxy naming a defined cluster, every file a config source points at rendered, and no two
 * listeners on one address.
 */
import type { EnvoyConfig } from './envoy-config.ts';
import { envoyApi, type EnvoyApi } from './envoy-api.ts';
import { checkProtoJson, type ConfigProblem } from './proto-json-check.ts';
import { ENVOY_BOOTSTRAP_FILE } from './render-options.ts';

export interface FileProblem extends ConfigProblem {
  /** The rendered file the problem is in: `envoy.yaml`, `lds.yaml`, an SDS file, … */
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

function references(config: EnvoyConfig): FileProblem[] {
  const problems: FileProblem[] = [];
  const add = (file: string, path: string, message: string): void => {
    problems.push({ file, path: path.replace(/^\./, ''), kind: 'constraint', message });
  };
  const clusters = new Set<string>();
  config.clusters.forEach((c, i) => {
    const name = String(c['name']);
    if (clusters.has(name)) add('cds', `clusters[${i}].name`, `cluster name '${name}' is used twice`);
    clusters.add(name);
  });
  const listenerNames = new Set<string>();
  const addresses = new Set<string>();
  config.listeners.forEach((l, i) => {
    const name = String(l['name']);
    if (listenerNames.has(name)) add('lds', `listeners[${i}].name`, `listener name '${name}' is used twice`);
    listenerNames.add(name);
    const address = JSON.stringify(l['address']);
    if (addresses.has(address)) add('lds', `listeners[${i}].address`, `two listeners bind ${address}`);
    addresses.add(address);
  });
  walk(config.listeners, 'listeners', (obj, path) => {
    const target = obj['cluster'];
    if (typeof target === 'string' && (path.endsWith('.route') || path.endsWith('.typed_config')) && !clusters.has(target)) add('lds', `${path}.cluster`, `names cluster '${target}', which is not defined`);
    const weighted = obj['weighted_clusters'];
    if (isObj(weighted) && Array.isArray(weighted['clusters'])) {
      weighted['clusters'].forEach((c, i) => {
        if (isObj(c) && !clusters.has(String(c['name']))) add('lds', `${path}.weighted_clusters.clusters[${i}].name`, `names cluster '${String(c['name'])}', which is not defined`);
      });
    }
  });
  const rendered = new Set(config.files.map((f) => `${config.options.configDir}/${f.name}`));
  walk({ bootstrap: config.bootstrap, listeners: config.listeners, clusters: config.clusters }, '', (obj, path) => {
    const source = obj['path_config_source'];
    if (isObj(source) && typeof source['path'] === 'string' && !rendered.has(source['path'])) add(ENVOY_BOOTSTRAP_FILE, `${path}.path_config_source.path`, `points at ${source['path']}, which was not rendered`);
  });
  return problems;
}

/** Every problem of one rendered configuration; empty when Envoy's API accepts all of it. */
export function checkEnvoyConfig(config: EnvoyConfig, api: EnvoyApi = envoyApi()): FileProblem[] {
  const problems: FileProblem[] = checkProtoJson(api, 'envoy.config.bootstrap.v3.Bootstrap', config.bootstrap).problems.map((p) => ({ ...p, file: ENVOY_BOOTSTRAP_FILE }));
  for (const f of config.files) {
    problems.push(...checkProtoJson(api, 'envoy.service.discovery.v3.DiscoveryResponse', f.document).problems.map((p) => ({ ...p, file: f.name })));
  }
  if (config.options.xds === 'static') {
    // Listeners and clusters sit in the bootstrap; checked there above.
  }
  problems.push(...references(config));
  return problems;
}

export function formatFileProblem(p: FileProblem): string {
  return `${p.file}: ${p.path}: ${p.message}`;
}
