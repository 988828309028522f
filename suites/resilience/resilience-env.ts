/**
 * What the resilience suite runs on: the seed's payment-service with 4 replicas and order-service
 * calling it (fixtures/resilience/topology.yaml), under the seed's STRICT PeerAuthentication,
 * DestinationRule and VirtualService plus their variations (one service per variation, so every
 * case has a cluster of its own in the client sidecar). Load comes from inside order-client's pod
 * through its own sidecar, where Istio applies DestinationRules and VirtualServices.
 */
import { join } from 'node:path';
import {
  DockerRuntime,
  ErrorCode,
  JitterMonitor,
  coarseClockTick,
  MeshCa,
  MeshEnvironment,
  MeshproofError,
  findCluster,
  loadPolicies,
  loadTopology,
  resolveMesh,
  newRunId,
  type CoarseClockTick,
  type DataPlaneAdapter,
  type OutlierDetectionSettings,
  type ResolvedDestination,
  type ResolvedMesh,
  type RunOptions,
  type SuiteSetup,
  type Timeouts,
  type Topology,
} from '../../harness/index.ts';
import { chooseDataPlane } from '../shared/data-plane-choice.ts';
import { FIXTURES_DIR } from '../shared/fixtures-dir.ts';
import { caseTiming, type CaseTiming } from './case-timing.ts';

export const RESILIENCE_TOPOLOGY = join(FIXTURES_DIR, 'resilience/topology.yaml');

/** In force from the start, relative to fixtures/: the seed's policies as written, and their variations. */
export const BASE_MANIFESTS: readonly string[] = [
  'seed/peer-authentication.yaml',
  'seed/destination-rule.yaml',
  'seed/virtual-service.yaml',
  'resilience/destination-rules.yaml',
  'resilience/virtual-services.yaml',
];

/** The in-mesh caller: order-client runs as order-service-sa. */
export const CLIENT = 'order-client';

export interface ResilienceEnv {
  readonly mesh: MeshEnvironment;
  /** The run seed and time scale (policy durations are multiplied by it). */
  readonly seed: number;
  readonly timeScale: number;
  /** payment-service's replicas, by pod name, in order. */
  readonly replicas: readonly string[];
  /** The client sidecar's independent load balancers (Envoy: worker threads) and how late host-health changes reach them. */
  readonly balancing: { readonly loadBalancers: number; readonly hostHealthLagMs: number };
  /** Timing margins from the scheduling jitter measured while the suite runs. */
  readonly timing: CaseTiming;
  /** The kernel's coarse clock tick (Envoy's timers keep that time), as measured at the start. */
  readonly coarseTick: CoarseClockTick;
  /** A service of the topology, as the policies in force resolve it. */
  service(name: string): ResolvedDestination;
  /** The service's outlierDetection (port 80) as the policies in force say, or undefined. */
  outlierDetectionOf(name: string): OutlierDetectionSettings | undefined;
  /** The client sidecar's cluster for a service (its name labels the cluster metrics). */
  clusterOf(name: string): Promise<string>;
  /** Puts the base manifests plus `extra` (relative to fixtures/) in force on the running pods. */
  use(extra: readonly string[]): Promise<ResolvedMesh>;
}

export interface StartedResilienceEnv extends ResilienceEnv {
  readonly engineVersion: string;
  close(): Promise<void>;
}

export interface ResilienceEnvOptions {
  readonly dataPlane: DataPlaneAdapter;
  readonly seed: number;
  readonly timeScale: number;
  readonly runId?: string;
  readonly timeouts?: Partial<Timeouts>;
}

/** The base manifests plus `extra`, on the resilience topology. A bad file throws with file:line:field. */
export function resolveResilienceMesh(topology: Topology, extra: readonly string[] = []): ResolvedMesh {
  return resolveMesh(loadPolicies([...BASE_MANIFESTS, ...extra].map((m) => join(FIXTURES_DIR, m))), topology);
}

export async function startResilienceEnv(options: ResilienceEnvOptions): Promise<StartedResilienceEnv> {
  const topology = loadTopology(RESILIENCE_TOPOLOGY);
  const initial = resolveResilienceMesh(topology);
  // Jitter is sampled from before the first container starts until the suite closes: margins take the worst recent window.
  const jitter = JitterMonitor.start();
  // Envoy's timers keep coarse time; measured while the first container starts (200 ms).
  const coarseTick = coarseClockTick();
  const runtime = await DockerRuntime.start({ runId: options.runId ?? newRunId(), ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }) });
  let mesh: MeshEnvironment | undefined;
  try {
    mesh = await MeshEnvironment.start({ runtime, mesh: initial, dataPlane: options.dataPlane, ca: await MeshCa.create(), seed: options.seed, timeScale: options.timeScale, timeouts: runtime.timeouts });
    const running = mesh;
    const tick = await coarseTick;
    await warmUp(running);
    let inForce = '';
    const service = (name: string): ResolvedDestination => {
      const found = running.mesh.destinations.find((d) => d.name === name);
      if (found === undefined) throw new MeshproofError(ErrorCode.BadArgument, `the resilience topology has no service ${name}`, { hint: `services: ${running.mesh.destinations.map((d) => d.name).join(', ')}` });
      return found;
    };
    return {
      mesh: running,
      seed: options.seed,
      timeScale: options.timeScale,
      replicas: running.podsOf('prod-namespace/payment-service').map((m) => m.participant.pod),
      balancing: { loadBalancers: running.pod(CLIENT).rendered?.loadBalancers ?? 1, hostHealthLagMs: running.pod(CLIENT).rendered?.hostHealthLagMs ?? 0 },
      timing: caseTiming(() => jitter.windows, tick.tickMs),
      coarseTick: tick,
      engineVersion: runtime.engineVersion,
      service,
      outlierDetectionOf: (name) => service(name).ports[0]?.trafficPolicy?.outlierDetection,
      clusterOf: async (name) => findCluster(await running.clusters(CLIENT), service(name).host, service(name).ports[0]?.port).name,
      async use(extra) {
        const wanted = [...extra].sort().join('\n');
        if (wanted === inForce) return running.mesh;
        const next = resolveResilienceMesh(topology, extra);
        await running.apply(next);
        inForce = wanted;
        return next;
      },
      async close() {
        await jitter.stop();
        await running.close();
        await runtime.close();
      },
    };
  } catch (error) {
    await jitter.stop();
    await mesh?.close();
    await runtime.close();
    throw error;
  }
}

/**
 * Connections up on every service's cluster (client sidecar → each replica's sidecar → its app),
 * so that the seed's short timeouts at the run's time scale (3s × 0.02 = 60 ms) time the policy
 * and not the first TLS handshakes. A few rounds, until a round is answered 200 throughout.
 */
export async function warmUp(mesh: MeshEnvironment): Promise<void> {
  for (const d of mesh.mesh.destinations) {
    for (let round = 0; round < 3; round++) {
      const f = await mesh.forward(CLIENT, { to: d.name, count: 2 * d.endpointCount });
      if (f.results.every((r) => r.status === 200)) break;
    }
  }
}

/**
 * The suite's setup: the data plane the run names (`wrap` lets a test break it on purpose); when it
 * cannot run here, every case is skipped with its reason and nothing is started.
 */
export async function resilienceSuiteSetup(options: RunOptions & { readonly runId?: string }, wrap?: (adapter: DataPlaneAdapter) => DataPlaneAdapter): Promise<SuiteSetup<ResilienceEnv>> {
  const choice = await chooseDataPlane(options.dataPlane, wrap);
  const reason = choice.skipReason ?? 'unavailable';
  if (choice.adapter === undefined) return { env: notStarted(reason), dataPlane: choice.info, skipReason: reason };
  const env = await startResilienceEnv({ dataPlane: choice.adapter, seed: options.seed, timeScale: options.timeScale, ...(options.runId === undefined ? {} : { runId: options.runId }) });
  return { env, dataPlane: choice.info, runtime: { kind: 'docker', engineVersion: env.engineVersion }, teardown: () => env.close() };
}

/** The environment of a suite whose cases are all skipped: reading it is a harness bug. */
function notStarted(reason: string): ResilienceEnv {
  const fail = (property: string | symbol): never => {
    throw new MeshproofError(ErrorCode.Internal, `the resilience environment was not started (${reason}), yet a case read its '${String(property)}'`);
  };
  return new Proxy({} as ResilienceEnv, { get: (_target, property) => fail(property) });
}
