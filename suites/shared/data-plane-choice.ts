/**
 * The data plane a suite runs against, from the run options (`--dataplane`), made by the one
 * factory (createDataPlane), with what it says about itself (info()): the report's DataPlaneInfo
 * and, when it cannot run here, the reason every case is skipped with.
 */
import { createDataPlane, dockerImageQuestions, defaultTimeouts, type CreateDataPlaneOptions, type DataPlaneAdapter, type DataPlaneInfo, type DataPlaneName } from '../../harness/index.ts';

export interface DataPlaneChoice {
  readonly info: DataPlaneInfo;
  /** Present when pods can be started with it through the mesh environment. */
  readonly adapter?: DataPlaneAdapter;
  /** Why every case is skipped; present exactly when `adapter` is absent. */
  readonly skipReason?: string;
}

export async function chooseDataPlane(name: DataPlaneName, wrap: (adapter: DataPlaneAdapter) => DataPlaneAdapter = (a) => a, options: CreateDataPlaneOptions = {}): Promise<DataPlaneChoice> {
  const adapter = createDataPlane(name, { images: dockerImageQuestions(defaultTimeouts.runtimeConnect), ...options });
  const info = await adapter.info();
  if (!info.available) return { info, skipReason: info.unavailableReason ?? `${name} unavailable` };
  const wrapped = wrap(adapter);
  return { info: await wrapped.info(), adapter: wrapped };
}
