/**
 * Which data planes a run tests (`--dataplane`): one name, a comma-separated list, `all`, or
 * `auto` (the default): Envoy where it can be had here, else the reference sidecar, saying why.
 * Envoy is looked for as a run would (MESHPROOF_ENVOY_BINARY, the project's .tools/envoy, the
 * pinned image in the engine's store) but never pulled for `auto`: a default must not wait on a
 * registry.
 */
import { DATA_PLANES, type DataPlaneName } from '../spec/data-plane.ts';
import { ErrorCode, MeshproofError } from '../errors.ts';

export interface DataPlaneSelection {
  readonly planes: readonly DataPlaneName[];
  /** One line for the console: which, and why. */
  readonly reason: string;
}

export type EnvoyCheck = () => Promise<{ readonly available: boolean; readonly description: string }>;

/** Envoy as `auto` finds it: a local binary or an image already present, no pull. */
export const findEnvoy: EnvoyCheck = async () => {
  const { checkEnvoyAvailability, ENVOY_PULL_ENV } = await import('../dataplane/envoy/availability.ts');
  const a = await checkEnvoyAvailability({ env: { ...process.env, [ENVOY_PULL_ENV]: '0' } });
  const source = a.source;
  if (source === undefined) return { available: false, description: a.reason ?? 'envoy unavailable' };
  return { available: true, description: source.kind === 'binary' ? `${/\/(\d+\.\d+\.\d+)\//.exec(source.version)?.[1] ?? source.version} at ${source.path}` : `image ${source.image}` };
};

export async function selectDataPlanes(value: string | undefined, findEnvoyHere: EnvoyCheck = findEnvoy, flag = '--dataplane'): Promise<DataPlaneSelection> {
  const v = (value ?? 'auto').trim();
  if (v === 'auto') {
    const envoy = await findEnvoyHere();
    return envoy.available
      ? { planes: ['envoy'], reason: `envoy (auto: Envoy ${envoy.description}; --dataplane reference tests meshproof's own sidecar)` }
      : { planes: ['reference'], reason: `reference (auto: no Envoy here — ${envoy.description}; sh scripts/setup.sh installs Envoy)` };
  }
  if (v === 'all') return { planes: [...DATA_PLANES], reason: `${DATA_PLANES.join(', ')} (all: a differential run)` };
  const names = v.split(',').map((s) => s.trim());
  const planes: DataPlaneName[] = [];
  for (const name of names) {
    const found = DATA_PLANES.find((d) => d === name);
    if (found === undefined) {
      throw new MeshproofError(ErrorCode.BadArgument, `${flag} '${v}': '${name}' is not a data plane (${DATA_PLANES.join(', ')}, or auto, all)`, { hint: '--dataplane auto (the default) uses Envoy where it can be had; --dataplane reference,envoy runs both and compares them' });
    }
    if (!planes.includes(found)) planes.push(found);
  }
  return { planes, reason: planes.length > 1 ? `${planes.join(', ')} (a differential run)` : planes[0]! };
}
