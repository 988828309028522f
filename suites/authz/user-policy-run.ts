/**
 * The user's own policies (`meshproof run --policies DIR`), running: DIR's policies on DIR's
 * topology (topology.yaml), in their own pods, started the first time a case asks and removed
 * with the suite. The same data plane, CA flow and attacker pod as the suite's own environment.
 */
import { ErrorCode, MeshproofError, newRunId, readPolicyInputs, type DataPlaneAdapter, type RunOptions } from '../../harness/index.ts';
import { startSecurityEnv, type SecurityEnv, type StartedSecurityEnv } from '../shared/security-env.ts';

export class UserPolicyRun {
  readonly policiesDir: string;
  readonly expectFile: string | undefined;
  readonly #options: RunOptions & { readonly runId?: string };
  readonly #dataPlane: DataPlaneAdapter;
  #env: Promise<StartedSecurityEnv> | undefined;

  constructor(options: RunOptions & { readonly policiesDir: string; readonly runId?: string }, dataPlane: DataPlaneAdapter) {
    this.policiesDir = options.policiesDir;
    this.expectFile = options.expectFile;
    this.#options = options;
    this.#dataPlane = dataPlane;
  }

  /** The running environment for DIR (started on first use). Throws with a hint when DIR has no topology. */
  env(): Promise<StartedSecurityEnv> {
    this.#env ??= this.#start();
    return this.#env;
  }

  async close(): Promise<void> {
    const env = await this.#env?.catch(() => undefined);
    await env?.close();
  }

  async #start(): Promise<StartedSecurityEnv> {
    const inputs = readPolicyInputs(this.policiesDir, undefined);
    if (inputs.topologyFile === undefined) {
      throw new MeshproofError(ErrorCode.BadArgument, `--policies ${this.policiesDir} has no topology.yaml, so there is nothing to start the policies on`, {
        hint: 'add topology.yaml (workloads, services, clients) to the policy directory; see fixtures/security/topology.yaml',
      });
    }
    // Its own run id: its containers and network live beside the suite's, and are removed on their own.
    return startSecurityEnv({
      suiteDir: this.policiesDir,
      manifests: [this.policiesDir],
      topologyFile: inputs.topologyFile,
      dataPlane: this.#dataPlane,
      seed: this.#options.seed,
      timeScale: this.#options.timeScale,
      runId: `${this.#options.runId ?? newRunId()}-user`,
    });
  }
}

/** The authorization suite's environment: the security topology, and the user's policies when given. */
export type AuthzEnv = SecurityEnv & { readonly user?: UserPolicyRun };
