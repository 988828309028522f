/**
 * The Envoy data plane: upstream Envoy as each pod's sidecar, configured from the istiod
 * translation (istiod/proxy-config.ts) as istiod would configure it.
 *
 * - availability (availability.ts): a local binary (MESHPROOF_ENVOY_BINARY, then the project's
 *   .tools/envoy/envoy from scripts/setup.sh), else the pinned envoyproxy/envoy image where a
 *   registry answers. Asked once; when Envoy cannot be had, info() says why and every case is
 *   skipped with that reason, never passed.
 * - a pod: Envoy owns the pod's network namespace; its image is built offline from the local
 *   binary and the libraries it links (docker/envoy), or from the published image
 *   (docker/envoy-official). The app listens on 127.0.0.1:15080 only.
 * - changes without a restart: listeners and clusters come from files Envoy watches (lds.yaml,
 *   cds.yaml, rewritten atomically as istiod pushes), certificates through file-based SDS; the
 *   generation in force is the `version_info` Envoy last accepted, read from `/config_dump` on
 *   the admin socket.
 * - metrics are Envoy's own (admin `/stats/prometheus`, with Istio's stats tags) and `/clusters`.
 *   Istio's standard metrics (istio_requests_total) come from Istio's proxy build, not upstream
 *   Envoy: Feature.IstioMetrics is not claimed, so checks that need them are not supported here.
 */
import { join } from 'node:path';
import { Feature } from '../../spec/features.ts';
import type { ResolvedMesh } from '../../model/resolve.ts';
import type { ContainerSpec } from '../../runtime/types.ts';
import { translateProxy } from '../istiod/proxy-config.ts';
import { outboundPorts } from '../outbound-ports.ts';
import { RESPONSE_FLAGS_HEADER, type DataPlaneAdapter, type LiveReload, type ProxyTarget, type RenderOptions, type RenderedProxy } from '../types.ts';
import type { DataPlaneInfo } from '../../spec/data-plane.ts';
import { unixGet } from '../unix-http.ts';
import { checkEnvoyAvailability, ENVOY_IMAGE, type AvailabilityOptions, type EnvoyAvailability, type EnvoySource } from './availability.ts';
import { throwIfConfigInvalid, writeEnvoyConfig } from './bootstrap-files.ts';
import { appliedVersion, drainingNone } from './config-dump.ts';
import { renderEnvoyConfig } from './envoy-config.ts';
import { ENVOY_ACCESS_LOG, ENVOY_ADMIN_SOCKET, ENVOY_BOOTSTRAP_FILE, resolveRenderOptions, type EnvoyRenderOptions } from './render-options.ts';
import { checkEnvoyConfig } from './static-check.ts';

/** The offline recipe (docker/envoy: a local binary and its libraries on scratch). */
export const ENVOY_RECIPE = 'envoy';
/** The recipe built on the published image (docker/envoy-official), where a registry answers. */
export const ENVOY_OFFICIAL_RECIPE = 'envoy-official';
/** Envoy logs this (config logger, info, ListenerManagerImpl::startWorkers) once its listeners are up. */
export const ENVOY_READY_LINE = 'starting workers';
/** Where the bootstrap and the files it watches go, inside the sidecar's folder. */
const CONFIG_SUBDIR = 'envoy';
/** Envoy's worker threads (--concurrency): Istio's sidecar default. Each has its own load balancer. */
const WORKERS = 2;
/** Envoy's access-log flush interval (--file-flush-interval-msec). */
const LOG_FLUSH_MS = 5;

export interface EnvoyAdapterOptions {
  readonly render?: EnvoyRenderOptions;
  readonly availability?: AvailabilityOptions;
  /** Envoy's --log-level (default warning; the ready line is printed whatever the level). */
  readonly logLevel?: string;
  /** Timeout of admin queries (appliedGeneration). Default 2 s. */
  readonly adminTimeoutMs?: number;
}

const FEATURES: readonly Feature[] = [
  Feature.MtlsStrict,
  Feature.MtlsPermissive,
  Feature.MtlsDisable,
  Feature.MtlsPortLevel,
  Feature.MtlsScope,
  Feature.MtlsMigration,
  Feature.AuthzAllow,
  Feature.AuthzDeny,
  Feature.AuthnJwt,
  Feature.AuthzAudit,
  Feature.AuthzConditions,
  Feature.AuthzPathNormalization,
  Feature.AuthzTcp,
  Feature.IdentitySecureNaming,
  Feature.IdentityPluginCa,
  Feature.IdentityRotation,
  Feature.OutlierDetection,
  Feature.PanicThreshold,
  Feature.ConnectionPool,
  Feature.Retries,
  Feature.Timeouts,
  Feature.FaultInjection,
  Feature.Metrics,
  Feature.AccessLog,
];

export class EnvoyAdapter implements DataPlaneAdapter {
  readonly name = 'envoy';
  /** Not claimed: CUSTOM (no ext_authz provider is modelled; istiod's fail-closed deny is rendered) and Istio's own metrics. */
  readonly features: ReadonlySet<Feature> = new Set(FEATURES);
  readonly liveReload: LiveReload;
  readonly #options: EnvoyAdapterOptions;
  #availability: Promise<EnvoyAvailability> | undefined;

  constructor(options: EnvoyAdapterOptions = {}) {
    this.#options = options;
    const timeout = options.adminTimeoutMs ?? 2_000;
    this.liveReload = {
      // The generation Envoy accepted, once no connection of an older filter chain is still draining:
      // until then a pooled connection from a client sidecar can still be served by the old chain.
      appliedGeneration: async (sidecarDir) => {
        try {
          const admin = join(sidecarDir, ENVOY_ADMIN_SOCKET);
          const dump = await unixGet(admin, '/config_dump', timeout);
          const version = dump.status === 200 ? appliedVersion(dump.body) : undefined;
          if (version === undefined) return undefined;
          const stats = await unixGet(admin, `/stats?filter=${encodeURIComponent('^listener_manager\\.total_(listeners|filter_chains)_draining$')}`, timeout);
          return stats.status === 200 && drainingNone(stats.body) ? version : undefined;
        } catch {
          return undefined;
        }
      },
    };
  }

  /** Asked once per adapter; later calls get the same answer. */
  availability(): Promise<EnvoyAvailability> {
    this.#availability ??= checkEnvoyAvailability(this.#options.availability);
    return this.#availability;
  }

  async info(): Promise<DataPlaneInfo> {
    const a = await this.availability();
    const version = a.source?.kind === 'binary' ? a.source.version : (a.source?.image ?? this.#options.availability?.image ?? ENVOY_IMAGE);
    return { name: this.name, version, claimedFeatures: [...this.features], available: a.available, ...(a.available ? {} : { unavailableReason: a.reason ?? 'envoy unavailable' }) };
  }

  async render(mesh: ResolvedMesh, target: ProxyTarget, options: RenderOptions): Promise<RenderedProxy> {
    const o = resolveRenderOptions(this.#options.render);
    const proxy = translateProxy(mesh, target, {
      generation: options.generation,
      ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      taken: new Set([o.appPort]),
      ...(options.endpointOverrides === undefined ? {} : { endpointOverrides: options.endpointOverrides }),
      responseFlagsHeader: RESPONSE_FLAGS_HEADER,
    });
    const config = renderEnvoyConfig(proxy, this.#options.render);
    throwIfConfigInvalid(checkEnvoyConfig(config));
    const a = await this.availability();
    return {
      // Rendering works without Envoy (the static check runs here); the container then names the published image it would need.
      container: this.#container(a.source ?? { kind: 'image', image: this.#options.availability?.image ?? ENVOY_IMAGE, pulled: false }, `${o.configDir}/${ENVOY_BOOTSTRAP_FILE}`),
      write: async (sidecarDir) => throwIfConfigInvalid((await writeEnvoyConfig(join(sidecarDir, CONFIG_SUBDIR), config)).problems),
      appPort: o.appPort,
      inboundPorts: new Map(proxy.inbound.ports.map((p) => [p.port, p.port])),
      ...(o.adminSocket === null ? {} : { metricsSocket: ENVOY_ADMIN_SOCKET }),
      ...(o.accessLog === null ? {} : { accessLog: ENVOY_ACCESS_LOG, accessLogFlushMs: LOG_FLUSH_MS }),
      ...(proxy.outbound === undefined
        ? {}
        : {
            outbound: outboundPorts(proxy.outbound),
            responseFlagsHeader: RESPONSE_FLAGS_HEADER,
            loadBalancers: WORKERS,
            hostHealthLagMs: Math.max(0, ...proxy.outbound.clusters.map((c) => c.updateMergeWindowMs ?? 0)),
          }),
      notes: proxy.notes,
    };
  }

  #container(source: EnvoySource, bootstrap: string): ContainerSpec {
    const args = envoySidecarArgs(bootstrap, this.#options.logLevel);
    if (source.kind === 'binary') return { image: ENVOY_RECIPE, hostBinary: source.path, args, readyLine: ENVOY_READY_LINE };
    // The published image's entrypoint drops to uid 101 unless ENVOY_UID=0; the pod folders belong to root.
    return { image: ENVOY_OFFICIAL_RECIPE, args: ['envoy', ...args], env: { ENVOY_UID: '0', ENVOY_GID: '0' }, readyLine: ENVOY_READY_LINE };
  }
}

/** Envoy's command line as a sidecar here runs it (the pods, and the benchmarks that run Envoy on the host). */
export function envoySidecarArgs(bootstrap: string, logLevel = 'warning'): string[] {
  return [
    '-c',
    bootstrap,
    '--log-level',
    logLevel,
    // The ready line and config updates are logged by the config and main loggers.
    '--component-log-level',
    'config:info,main:info',
    '--disable-hot-restart',
    '--concurrency',
    String(WORKERS),
    // Listener updates drain old connections; a short drain keeps policy changes prompt (convergence waits for it).
    '--drain-time-s',
    '1',
    '--drain-strategy',
    'immediate',
    // The harness reads the access log right after each call.
    '--file-flush-interval-msec',
    String(LOG_FLUSH_MS),
  ];
}
