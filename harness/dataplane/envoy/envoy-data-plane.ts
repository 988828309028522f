/**
 * The Envoy data plane adapter: what the mesh environment asks of a data plane, answered with
 * Envoy.
 *
 * - `availability()`: can Envoy run here (availability.ts); asked once, cached. When it cannot,
 *   `skipOutcome()` is what every case on this data plane reports: `skipped`, with the reason
 *   naming what was looked for, never `passed`.
 * - `render(mesh)`: every sidecar's bootstrap, checked against Envoy's API (a failure is a
 *   ConfigInvalid error, exit 3).
 * - `sidecar(rendered, source)`: the container of one pod's sidecar and the `prepare` step that
 *   writes its files into the sidecar's private folder (and stages a local binary).
 *
 * Where things are in the sidecar (POD_DIR_IN_CONTAINER = /run/meshproof): the bootstrap and SDS
 * files in `envoy/`, the workload certificate files in `certs/` (`..data` layout, written by
 * whoever issues them: writeWorkloadFiles), the Prometheus socket `envoy-stats.sock`.
 */
import { join } from 'node:path';
import { Feature } from '../../conformance/features.ts';
import type { CaseOutcome } from '../../conformance/outcome.ts';
import type { ResolvedMesh } from '../../model/resolve.ts';
import { POD_DIR_IN_CONTAINER, type ContainerSpec, type PodDirs } from '../../runtime/types.ts';
import type { DataPlaneInfo } from '../types.ts';
import { checkEnvoyAvailability, type AvailabilityOptions, type EnvoyAvailability, type EnvoySource } from './availability.ts';
import { ENVOY_IMAGE, renderEnvoyBootstraps, type RenderedSidecar } from './bootstrap.ts';
import { throwIfConfigInvalid, writeSidecarFiles } from './bootstrap-files.ts';
import { ENVOY_BOOTSTRAP_FILE, ENVOY_CONFIG_DIR, resolveRenderOptions, type EnvoyRenderOptions } from './render-options.ts';
import { checkRenderedSidecar } from './static-check.ts';
import { applyStaging, planStaging } from './stage-binary.ts';

/** The recipe in docker/envoy: the pinned envoyproxy/envoy image, built only where it is present or pullable. */
export const ENVOY_RECIPE = 'envoy';
/** Envoy logs this (at info, ListenerManagerImpl::startWorkers) when its workers, and so its listeners, start. */
export const ENVOY_READY_LINE = 'all dependencies initialized. starting workers';
const BINARY_DIR = 'envoy-bin';

export interface EnvoyDataPlaneOptions {
  readonly render?: EnvoyRenderOptions;
  readonly availability?: AvailabilityOptions;
  /** Envoy's --log-level (default info: the ready line is logged at info). */
  readonly logLevel?: string;
}

export interface EnvoySidecar {
  readonly container: ContainerSpec;
  /** Writes the bootstrap and SDS files (and a local binary) into the sidecar's host folder. */
  readonly prepare: (dirs: PodDirs) => Promise<void>;
  readonly rendered: RenderedSidecar;
}

/** What the report states about the data plane: the adapter interface's DataPlaneInfo, named envoy. */
export type EnvoyDataPlaneInfo = DataPlaneInfo & { readonly name: 'envoy' };

export class EnvoyDataPlane {
  readonly name = 'envoy' as const;
  /** What the rendered configs express. Not claimed: CUSTOM (no ext_authz provider is modelled: istiod's fail-closed deny is rendered) and mode changes on running pods (a static bootstrap). */
  readonly features: ReadonlySet<Feature>;
  readonly #options: EnvoyDataPlaneOptions;
  #availability: Promise<EnvoyAvailability> | undefined;

  constructor(options: EnvoyDataPlaneOptions = {}) {
    this.#options = options;
    const sds = resolveRenderOptions(options.render).certificates === 'sds';
    this.features = new Set<Feature>(
      [
        Feature.MtlsStrict,
        Feature.MtlsPermissive,
        Feature.MtlsDisable,
        Feature.MtlsPortLevel,
        Feature.MtlsScope,
        Feature.AuthzAllow,
        Feature.AuthzDeny,
        Feature.AuthzAudit,
        Feature.AuthzConditions,
        Feature.AuthzPathNormalization,
        Feature.AuthzTcp,
        Feature.IdentitySecureNaming,
        Feature.IdentityPluginCa,
        ...(sds ? [Feature.IdentityRotation] : []),
        Feature.OutlierDetection,
        Feature.PanicThreshold,
        Feature.ConnectionPool,
        Feature.Retries,
        Feature.Timeouts,
        Feature.FaultInjection,
        Feature.Metrics,
        Feature.AccessLog,
      ],
    );
  }

  /** Asked once per adapter; later calls get the same answer. */
  availability(): Promise<EnvoyAvailability> {
    this.#availability ??= checkEnvoyAvailability(this.#options.availability);
    return this.#availability;
  }

  /** For the report and for SuiteSetup.dataPlane: name, version, claimed features, and availability with its reason. */
  async info(): Promise<EnvoyDataPlaneInfo> {
    const a = await this.availability();
    const version = a.source?.kind === 'binary' ? a.source.version : (a.source?.image ?? this.#options.availability?.image ?? ENVOY_IMAGE);
    return { name: 'envoy', version, claimedFeatures: [...this.features], available: a.available, ...(a.available ? {} : { unavailableReason: a.reason ?? 'envoy unavailable' }) };
  }

  /** The outcome of every case when Envoy cannot run here; undefined when it can. */
  async skipOutcome(): Promise<Extract<CaseOutcome, { status: 'skipped' }> | undefined> {
    const a = await this.availability();
    return a.available ? undefined : { status: 'skipped', reason: a.reason ?? 'envoy unavailable' };
  }

  /** Every sidecar's bootstrap, checked against Envoy's API (throws ConfigInvalid, exit 3, on a problem). */
  render(mesh: ResolvedMesh): RenderedSidecar[] {
    const rendered = renderEnvoyBootstraps(mesh, this.#options.render);
    const problems = rendered.flatMap((s) => checkRenderedSidecar(s));
    if (problems.length > 0) throwIfConfigInvalid([{ sidecar: rendered[0] as RenderedSidecar, files: [], problems }]);
    return rendered;
  }

  /** The sidecar container for one rendered sidecar, run from `source` (from availability()). */
  sidecar(rendered: RenderedSidecar, source: EnvoySource): EnvoySidecar {
    const configPath = `${ENVOY_CONFIG_DIR}/${ENVOY_BOOTSTRAP_FILE}`;
    const envoyArgs = ['-c', configPath, '--log-level', this.#options.logLevel ?? 'info'];
    const writeConfig = (sidecarDir: string): void => {
      const written = writeSidecarFiles(join(sidecarDir, ENVOY_CONFIG_DIR.slice(POD_DIR_IN_CONTAINER.length + 1)), rendered, { plainNames: true });
      throwIfConfigInvalid([written]);
    };
    if (source.kind === 'image') {
      return {
        rendered,
        // The image's entrypoint drops to uid 101 unless ENVOY_UID=0; the pod folders belong to root.
        container: { image: ENVOY_RECIPE, args: envoyArgs, env: { ENVOY_UID: '0', ENVOY_GID: '0' }, readyLine: ENVOY_READY_LINE },
        prepare: async (dirs) => writeConfig(requireSidecarDir(dirs)),
      };
    }
    // A local binary runs on the offline base image, its libraries copied beside it.
    const staging = planStaging(source.path, `${POD_DIR_IN_CONTAINER}/${BINARY_DIR}`);
    return {
      rendered,
      container: { image: 'base', args: [...staging.command, ...envoyArgs], readyLine: ENVOY_READY_LINE },
      prepare: async (dirs) => {
        const dir = requireSidecarDir(dirs);
        writeConfig(dir);
        applyStaging(staging, join(dir, BINARY_DIR));
      },
    };
  }
}

function requireSidecarDir(dirs: PodDirs): string {
  if (dirs.sidecar === undefined) throw new Error('an Envoy sidecar needs the pod to have a sidecar container');
  return dirs.sidecar;
}
