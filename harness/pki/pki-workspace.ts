/**
 * A per-run folder for CA and workload files. It is created with mode 0700 (keys inside are 0600),
 * removed by dispose(), and also removed when the run is interrupted (SIGINT/SIGTERM), through the
 * same clean-up registry the runtime uses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../runtime/cleanup-on-signal.ts';
import type { WorkloadRef } from './spiffe.ts';

export interface PkiWorkspaceOptions {
  /** Where to create the folder, e.g. a runtime's runDir. Default the OS temp folder. */
  readonly parentDir?: string;
}

export class PkiWorkspace {
  readonly dir: string;
  readonly #unregister: () => void;
  #disposed = false;

  private constructor(dir: string) {
    this.dir = dir;
    this.#unregister = registerCleanup(() => this.dispose());
  }

  static async create(options: PkiWorkspaceOptions = {}): Promise<PkiWorkspace> {
    const parent = options.parentDir ?? tmpdir();
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    return new PkiWorkspace(await mkdtemp(join(parent, 'meshproof-pki-')));
  }

  /** Where the plug-in CA files go. */
  get caDir(): string {
    return join(this.dir, 'ca');
  }

  /** Where a workload's cert-chain.pem, key.pem and root-cert.pem go (created when written). */
  workloadDir(ref: WorkloadRef): string {
    return join(this.dir, 'workloads', ref.namespace, ref.serviceAccount);
  }

  /** Removes the folder and everything in it. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#unregister();
    await rm(this.dir, { recursive: true, force: true });
  }
}
