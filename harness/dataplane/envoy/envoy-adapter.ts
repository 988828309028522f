/**
 * The Envoy data plane as a DataPlaneAdapter, so the suites run unchanged against it: one
 * rendered bootstrap per proxy target, its container, and the files written into the sidecar's
 * folder. Where Envoy cannot run, info() says so with the reason and the mesh environment starts
 * nothing: every case is then skipped with that reason.
 */
import { ErrorCode, MeshproofError } from '../../errors.ts';
import type { ResolvedMesh } from '../../model/resolve.ts';
import { POD_DIR_IN_CONTAINER } from '../../runtime/types.ts';
import type { DataPlaneAdapter, DataPlaneInfo, ProxyTarget, RenderOptions, RenderedProxy } from '../types.ts';
import { ENVOY_IMAGE, renderEnvoyBootstraps } from './bootstrap.ts';
import { throwIfConfigInvalid } from './bootstrap-files.ts';
import { EnvoyDataPlane, type EnvoyDataPlaneOptions } from './envoy-data-plane.ts';
import { checkRenderedSidecar } from './static-check.ts';

export class EnvoyAdapter implements DataPlaneAdapter {
  readonly name = 'envoy';
  readonly features: EnvoyDataPlane['features'];
  readonly plane: EnvoyDataPlane;
  readonly #options: EnvoyDataPlaneOptions;

  constructor(options: EnvoyDataPlaneOptions = {}) {
    this.#options = options;
    this.plane = new EnvoyDataPlane(options);
    this.features = this.plane.features;
  }

  info(): Promise<DataPlaneInfo> {
    return this.plane.info();
  }

  async render(mesh: ResolvedMesh, target: ProxyTarget, options: RenderOptions): Promise<RenderedProxy> {
    const key = target.kind === 'workload' ? target.workload.key : `${target.client.client.namespace}/${target.client.client.name}`;
    const timeScale = options.timeScale ?? this.#options.render?.timeScale;
    const rendered = renderEnvoyBootstraps(mesh, { ...this.#options.render, ...(timeScale === undefined ? {} : { timeScale }) }).find((s) => s.kind === target.kind && s.key === key);
    if (rendered === undefined) throw new MeshproofError(ErrorCode.Internal, `no Envoy bootstrap was rendered for ${target.kind} ${key}`);
    const problems = checkRenderedSidecar(rendered);
    if (problems.length > 0) throwIfConfigInvalid([{ sidecar: rendered, files: [], problems }]);
    const availability = await this.plane.availability();
    // Rendering works without Envoy (the static check runs here); the container spec then names the image it would need.
    const sidecar = this.plane.sidecar(rendered, availability.source ?? { kind: 'image', image: ENVOY_IMAGE, pulled: false });
    const inbound = rendered.ports.inbound;
    const statsSocket = rendered.ports.statsSocket;
    const notes = [...rendered.notes];
    // Envoy forwards each workload port to 127.0.0.1 on that same port; the echo app serves one.
    const appPort = inbound[0]?.workloadPort ?? 8080;
    if (inbound.length > 1) notes.push(`the echo app serves only port ${appPort} on 127.0.0.1; inbound ports ${inbound.slice(1).map((p) => p.workloadPort).join(', ')} have no app behind them`);
    return {
      container: sidecar.container,
      write: (sidecarDir) => sidecar.prepare({ app: '', sidecar: sidecarDir }),
      appPort,
      inboundPorts: new Map(inbound.map((p) => [p.workloadPort, p.listenPort])),
      ...(statsSocket === null ? {} : { metricsSocket: statsSocket.startsWith(`${POD_DIR_IN_CONTAINER}/`) ? statsSocket.slice(POD_DIR_IN_CONTAINER.length + 1) : statsSocket }),
      notes,
    };
  }
}
