/**
 * The reference data plane as a DataPlaneAdapter: renders sidecar.json (render.ts) for the
 * `sidecar` image (docker/sidecar, bundling sidecar/main.ts), which reloads it when it is
 * rewritten. Always available: its image is built offline from this repository.
 *
 * Pod layout: inbound listeners on 0.0.0.0:<workload port> (so callers use the workload port,
 * as Istio's traffic capture makes it look), outbound listeners for the app on 127.0.0.1 from
 * 15001 up (RenderedProxy.outbound says which), the app on 127.0.0.1:15080, admin on the Unix
 * socket admin.sock in the sidecar's folder and on 127.0.0.1:15000, the access log in access.log.
 */
import { join } from 'node:path';
import { Feature } from '../../spec/features.ts';
import type { ResolvedMesh } from '../../model/resolve.ts';
import { READY_LINE } from '../../runtime/types.ts';
import type { DataPlaneAdapter, LiveReload, ProxyTarget, RenderOptions, RenderedProxy } from '../types.ts';
import type { DataPlaneInfo } from '../../spec/data-plane.ts';
import { unixGet } from '../unix-http.ts';
import { writeAtomically } from '../../util/write-atomically.ts';
import { outboundPorts } from '../outbound-ports.ts';
import { ACCESS_LOG_FILE, ADMIN_SOCKET, SIDECAR_CONFIG_FILE, renderSidecarConfig, type ReferenceRenderOptions } from './render.ts';
import { REFERENCE_SIDECAR_VERSION } from './sidecar/version.ts';

/** The image recipe in docker/sidecar. */
export const SIDECAR_IMAGE = 'sidecar';
/** Where the app listens in a reference pod. */
export const REFERENCE_APP_PORT = 15080;

export type ReferenceDataPlaneOptions = Partial<Omit<ReferenceRenderOptions, 'generation' | 'timeScale'>> & {
  /** Timeout of admin queries (appliedGeneration). Default 2 s. */
  readonly adminTimeoutMs?: number;
};

/** What the reference sidecar implements: inbound mTLS and RBAC, and the client side (secure naming, resilience). */
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
  Feature.IdentityRotation,
  Feature.IdentityPluginCa,
  Feature.IdentitySecureNaming,
  Feature.OutlierDetection,
  Feature.PanicThreshold,
  Feature.ConnectionPool,
  Feature.Retries,
  Feature.Timeouts,
  Feature.FaultInjection,
  Feature.Metrics,
  Feature.IstioMetrics,
  Feature.AccessLog,
];

export class ReferenceDataPlane implements DataPlaneAdapter {
  readonly name = 'reference';
  readonly version = REFERENCE_SIDECAR_VERSION;
  readonly features: ReadonlySet<Feature> = new Set(FEATURES);
  readonly liveReload: LiveReload;
  readonly #options: ReferenceDataPlaneOptions;

  constructor(options: ReferenceDataPlaneOptions = {}) {
    this.#options = options;
    const timeout = options.adminTimeoutMs ?? 2_000;
    this.liveReload = {
      appliedGeneration: async (sidecarDir) => {
        try {
          const answer = await unixGet(join(sidecarDir, ADMIN_SOCKET), '/config_dump', timeout);
          const dump = JSON.parse(answer.body) as { generation?: unknown; drainingConnections?: unknown };
          // In force once no connection of an older config is still draining (as the Envoy adapter
          // waits for no filter chain draining): until then a pooled connection from a client
          // sidecar can still be served by the old config.
          if (dump.drainingConnections !== 0) return undefined;
          return typeof dump.generation === 'number' ? dump.generation : undefined;
        } catch {
          return undefined;
        }
      },
    };
  }

  async info(): Promise<DataPlaneInfo> {
    return { name: this.name, version: this.version, claimedFeatures: [...this.features], available: true };
  }

  async render(mesh: ResolvedMesh, target: ProxyTarget, options: RenderOptions): Promise<RenderedProxy> {
    const appPort = this.#options.appPort ?? REFERENCE_APP_PORT;
    const config = renderSidecarConfig(mesh, target, { ...this.#options, ...options, appPort });
    const text = `${JSON.stringify(config, null, 2)}\n`;
    return {
      container: { image: SIDECAR_IMAGE, readyLine: READY_LINE },
      write: (sidecarDir) => writeAtomically(join(sidecarDir, SIDECAR_CONFIG_FILE), text),
      appPort,
      inboundPorts: new Map(config.inbound.ports.map((p) => [p.port, p.port])),
      ...(config.outbound === undefined ? {} : { outbound: outboundPorts(config.outbound) }),
      ...(config.outbound?.responseFlagsHeader === undefined ? {} : { responseFlagsHeader: config.outbound.responseFlagsHeader }),
      metricsSocket: ADMIN_SOCKET,
      accessLog: ACCESS_LOG_FILE,
      notes: config.notes,
    };
  }
}
