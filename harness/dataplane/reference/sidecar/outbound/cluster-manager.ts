/**
 * The outbound clusters in force, by name. A new config generation keeps every cluster whose
 * settings did not change (its connections, outlier state and back-off carry on) and replaces
 * the others; a replaced or removed cluster stops taking requests and closes its connections as
 * they go idle (Envoy drains a cluster it replaces the same way).
 */
import { SeededRandom } from '../../../../util/seeded-random.ts';
import type { ClusterConfig } from '../../../istiod/outbound-config.ts';
import type { CertificateStore } from '../certificate-store.ts';
import { Cluster } from './cluster.ts';
import type { ClusterStats } from './cluster-stats.ts';

export class ClusterManager {
  readonly #clusters = new Map<string, Cluster>();
  readonly #stats: ClusterStats;
  readonly #certificates: CertificateStore;
  readonly #diagnostics: (line: string) => void;
  #seed = 1;
  #pod = '';

  constructor(stats: ClusterStats, certificates: CertificateStore, diagnostics: (line: string) => void) {
    this.#stats = stats;
    this.#certificates = certificates;
    this.#diagnostics = diagnostics;
  }

  get(name: string): Cluster | undefined {
    return this.#clusters.get(name);
  }

  all(): IterableIterator<Cluster> {
    return this.#clusters.values();
  }

  /** Applies a generation's clusters. */
  update(configs: readonly ClusterConfig[], seed: number, pod: string): void {
    const reseed = seed !== this.#seed || pod !== this.#pod;
    this.#seed = seed;
    this.#pod = pod;
    const wanted = new Set(configs.map((c) => c.name));
    for (const [name, cluster] of this.#clusters) {
      if (!wanted.has(name)) {
        cluster.retire();
        this.#clusters.delete(name);
      }
    }
    for (const config of configs) {
      const existing = this.#clusters.get(config.name);
      if (existing !== undefined && !reseed && existing.fingerprint === JSON.stringify(config)) continue;
      existing?.retire();
      this.#clusters.set(
        config.name,
        new Cluster(config, {
          counters: this.#stats.forCluster(config.name),
          certificates: this.#certificates,
          random: new SeededRandom(seed).fork(`lb:${pod}:${config.name}`),
          diagnostics: this.#diagnostics,
        }),
      );
    }
  }

  close(): void {
    for (const cluster of this.#clusters.values()) cluster.destroy();
    this.#clusters.clear();
  }
}
