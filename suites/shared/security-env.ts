/**
 * What the security suites (mtls, authz) run on: the security topology (fixtures/security) in
 * containers, a mesh CA loaded from Istio plug-in CA files (as istiod reads `cacerts`), and one
 * attacker pod. Cases put their policy manifests in force with `use()`, which rewrites the
 * running sidecars' configs only when the set differs from the one in force, so the cases do not
 * depend on each other's order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DockerRuntime,
  ErrorCode,
  MeshCa,
  MeshEnvironment,
  MeshproofError,
  loadPolicies,
  loadTopology,
  resolveMesh,
  newRunId,
  type DataPlaneAdapter,
  type ResolvedMesh,
  type RunOptions,
  type SuiteSetup,
  type Timeouts,
  type Topology,
} from '../../harness/index.ts';
import { chooseDataPlane } from './data-plane-choice.ts';
import { FIXTURES_DIR } from './fixtures-dir.ts';
import { LiveProber } from './live-prober.ts';
import { CanarySource } from './wire-probe.ts';

/** The topology both security suites run. */
export const SECURITY_TOPOLOGY = join(FIXTURES_DIR, 'security/topology.yaml');
/** The attacker pod: presents attacker-kit certificates, and certificates for any identity the authz matrices need. */
export const ATTACKER = 'mallory';

export interface SecurityEnv {
  readonly mesh: MeshEnvironment;
  readonly ca: MeshCa;
  /** The plug-in CA files the CA was loaded from (root-cert.pem, ca-cert.pem, ca-key.pem, cert-chain.pem). */
  readonly pluginCaDir: string;
  readonly topology: Topology;
  readonly prober: LiveProber;
  /** Canaries for wire probes: numbered from the seed, never twice in one environment. */
  readonly canaries: CanarySource;
  readonly attacker: string;
  /** The run seed and time scale. */
  readonly seed: number;
  /** Policies from manifest files (relative to the suite folder) on this environment's topology. */
  resolve(manifests: readonly string[]): ResolvedMesh;
  /** Puts exactly these manifests in force on the running pods (no-op when they already are). */
  use(manifests: readonly string[]): Promise<ResolvedMesh>;
}

export interface SecurityEnvOptions {
  /** The suite folder manifests are relative to. */
  readonly suiteDir: string;
  /** Manifests in force when the pods start. */
  readonly manifests: readonly string[];
  readonly dataPlane: DataPlaneAdapter;
  readonly seed: number;
  readonly timeScale: number;
  readonly topologyFile?: string;
  readonly runId?: string;
  readonly timeouts?: Partial<Timeouts>;
  /** Capture the pod network (MeshEnvironment observeWire), for the wire cases. */
  readonly observeWire?: boolean;
}

/** Loads manifests (each named relative to `suiteDir`) onto a topology; a bad file throws with file:line:field (exit 2). */
export function resolveManifests(suiteDir: string, manifests: readonly string[], topology: Topology): ResolvedMesh {
  if (manifests.length === 0) throw new MeshproofError(ErrorCode.BadArgument, 'a case must name at least one manifest (a PeerAuthentication or an AuthorizationPolicy)');
  return resolveMesh(loadPolicies(manifests.map((m) => resolve(suiteDir, m))), topology);
}

export interface StartedSecurityEnv extends SecurityEnv {
  /** The container engine's version, for the report. */
  readonly engineVersion: string;
  /** The same running environment, with manifests named relative to another suite folder. */
  forSuite(suiteDir: string): SecurityEnv;
  close(): Promise<void>;
}

export async function startSecurityEnv(options: SecurityEnvOptions): Promise<StartedSecurityEnv> {
  const topology = loadTopology(options.topologyFile ?? SECURITY_TOPOLOGY);
  const initial = resolveManifests(options.suiteDir, options.manifests, topology);
  const runtime = await DockerRuntime.start({ runId: options.runId ?? newRunId(), ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }) });
  const pluginCaDir = mkdtempSync(join(tmpdir(), 'meshproof-plugin-ca-'));
  let mesh: MeshEnvironment | undefined;
  try {
    // Istio's plug-in CA flow: the CA material is written as cacerts files, and the CA that signs
    // workload certificates is the one read back from them.
    await (await MeshCa.create()).writePluginFiles(pluginCaDir);
    const ca = await MeshCa.load(pluginCaDir);
    mesh = await MeshEnvironment.start({ runtime, mesh: initial, dataPlane: options.dataPlane, ca, attackers: [ATTACKER], seed: options.seed, timeScale: options.timeScale, timeouts: runtime.timeouts, observeWire: options.observeWire === true });
    const running = mesh;
    const prober = new LiveProber(running, ca, ATTACKER);
    const canaries = new CanarySource(options.seed);
    // What is in force, by absolute file names, so views for other suite folders share it.
    let inForce = key(options.suiteDir, options.manifests);
    const view = (suiteDir: string): SecurityEnv => ({
      mesh: running,
      ca,
      pluginCaDir,
      topology,
      prober,
      canaries,
      attacker: ATTACKER,
      seed: options.seed,
      resolve: (manifests) => resolveManifests(suiteDir, manifests, topology),
      async use(manifests) {
        const wanted = key(suiteDir, manifests);
        if (wanted === inForce) return running.mesh;
        const next = resolveManifests(suiteDir, manifests, topology);
        await running.apply(next);
        inForce = wanted;
        return next;
      },
    });
    return {
      ...view(options.suiteDir),
      engineVersion: runtime.engineVersion,
      forSuite: view,
      async close() {
        await running.close();
        await runtime.close();
        rmSync(pluginCaDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await mesh?.close();
    await runtime.close();
    rmSync(pluginCaDir, { recursive: true, force: true });
    throw error;
  }
}

function key(suiteDir: string, manifests: readonly string[]): string {
  return manifests.map((m) => resolve(suiteDir, m)).sort().join('\n');
}

/**
 * A security suite's setup: the data plane the run names; when it cannot run here, every case is
 * skipped with its reason and nothing is started.
 */
export async function securitySuiteSetup(
  options: RunOptions & { readonly runId?: string },
  suite: { readonly suiteDir: string; readonly manifests: readonly string[]; readonly wrap?: (adapter: DataPlaneAdapter) => DataPlaneAdapter; readonly observeWire?: boolean },
): Promise<SuiteSetup<SecurityEnv>> {
  const choice = await chooseDataPlane(options.dataPlane, suite.wrap);
  if (choice.adapter === undefined) return { env: unavailable(choice.skipReason ?? 'unavailable'), dataPlane: choice.info, skipReason: choice.skipReason ?? 'unavailable' };
  const env = await startSecurityEnv({ suiteDir: suite.suiteDir, manifests: suite.manifests, dataPlane: choice.adapter, seed: options.seed, timeScale: options.timeScale, observeWire: suite.observeWire === true, ...(options.runId === undefined ? {} : { runId: options.runId }) });
  return { env, dataPlane: choice.info, runtime: { kind: 'docker', engineVersion: env.engineVersion }, teardown: () => env.close() };
}

/** The environment of a suite whose cases are all skipped: touching it is a harness bug. */
function unavailable(reason: string): SecurityEnv {
  return new Proxy({} as SecurityEnv, {
    get(_target, property) {
      throw new MeshproofError(ErrorCode.Internal, `the security environment was not started (${reason}), yet a case read its '${String(property)}'`);
    },
  });
}
