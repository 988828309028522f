/**
 * The data plane a security suite runs against, from the run options (`--dataplane`), with what
 * it says about itself (info()): the report's DataPlaneInfo and, when it cannot run the cases
 * here, the reason every case is skipped with.
 */
import { EnvoyDataPlane, ReferenceDataPlane, dockerImageQuestions, defaultTimeouts, type DataPlaneAdapter, type DataPlaneInfo, type DataPlaneName } from '../../harness/index.ts';

export interface DataPlaneChoice {
  readonly info: DataPlaneInfo;
  /** Present when pods can be started with it through the mesh environment. */
  readonly adapter?: DataPlaneAdapter;
  /** Why every case is skipped; present exactly when `adapter` is absent. */
  readonly skipReason?: string;
}

/**
 * The mesh environment needs the DataPlaneAdapter interface (render one proxy for one pod). The
 * Envoy adapter is being fitted to it; until its render takes a target, it renders the whole mesh
 * at once and cannot start pods here. Checked on the object, so the day it fits, it is used.
 */
export function isDataPlaneAdapter(value: unknown): value is DataPlaneAdapter {
  const v = value as Partial<DataPlaneAdapter> | undefined;
  return typeof v?.info === 'function' && typeof v.render === 'function' && v.render.length >= 2 && v.features instanceof Set;
}

export async function chooseDataPlane(name: DataPlaneName, wrap: (adapter: DataPlaneAdapter) => DataPlaneAdapter = (a) => a): Promise<DataPlaneChoice> {
  if (name === 'reference') {
    const adapter = wrap(new ReferenceDataPlane());
    return { info: await adapter.info(), adapter };
  }
  const envoy = new EnvoyDataPlane({ availability: { images: dockerImageQuestions(defaultTimeouts.runtimeConnect) } });
  const info = await envoy.info();
  if (!info.available) return { info, skipReason: info.unavailableReason ?? 'envoy unavailable' };
  if (!isDataPlaneAdapter(envoy)) {
    return { info, skipReason: 'envoy is available, but its adapter does not yet start pods through the mesh environment (it renders the whole mesh at once, not one proxy per pod)' };
  }
  const adapter = wrap(envoy);
  return { info: await adapter.info(), adapter };
}
