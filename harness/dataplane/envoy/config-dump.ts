/**
 * Which generation an Envoy enforces, from its `/config_dump`: the `version_info` of the last
 * listener (LDS) and cluster (CDS) updates it accepted, when both are the same generation and no
 * listener is still warming. The files it watches carry the generation as their version_info.
 */
interface Dump {
  readonly configs?: readonly { readonly '@type'?: string; readonly version_info?: string; readonly dynamic_listeners?: readonly { readonly warming_state?: unknown; readonly error_state?: unknown }[] }[];
}

const LISTENERS = 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump';
const CLUSTERS = 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump';

export function appliedVersion(configDump: string): number | undefined {
  let dump: Dump;
  try {
    dump = JSON.parse(configDump) as Dump;
  } catch {
    return undefined;
  }
  const listeners = dump.configs?.find((c) => c['@type'] === LISTENERS);
  const clusters = dump.configs?.find((c) => c['@type'] === CLUSTERS);
  if (listeners?.version_info === undefined || clusters?.version_info === undefined || listeners.version_info !== clusters.version_info) return undefined;
  if ((listeners.dynamic_listeners ?? []).some((l) => l.warming_state !== undefined)) return undefined;
  const n = Number(listeners.version_info);
  return Number.isInteger(n) ? n : undefined;
}

/** True when `/stats` text shows no listener and no filter chain draining (absent counts as none). */
export function drainingNone(statsText: string): boolean {
  for (const line of statsText.split('\n')) {
    const m = /^listener_manager\.total_(?:listeners|filter_chains)_draining: (\d+)$/.exec(line.trim());
    if (m !== null && Number(m[1]) > 0) return false;
  }
  return true;
}
