/**
 * The sidecar's outbound side: clusters, listeners, and the HTTP connection manager they share,
 * applied from the config's `outbound` section generation after generation (a listener whose
 * port and protocol stay is updated in place; clusters are kept or replaced by ClusterManager).
 */
import { SeededRandom } from '../../../../util/seeded-random.ts';
import type { OutboundConfig, OutboundListenerConfig } from '../../../istiod/outbound-config.ts';
import type { AccessLog } from '../access-log.ts';
import type { CertificateStore } from '../certificate-store.ts';
import type { SidecarStats } from '../stats.ts';
import type { Cluster } from './cluster.ts';
import { ClusterManager } from './cluster-manager.ts';
import { ClusterStats } from './cluster-stats.ts';
import { HttpOutbound } from './http-outbound.ts';
import { OutboundHttpListener, OutboundTcpListener, type OutboundListener } from './outbound-listener.ts';

export interface OutboundSideDeps {
  readonly pod: string;
  readonly stats: SidecarStats;
  readonly accessLog: AccessLog;
  readonly certificates: CertificateStore;
  readonly diagnostics: (line: string) => void;
}

export class OutboundSide {
  readonly #deps: OutboundSideDeps;
  readonly #clusters: ClusterManager;
  readonly #http: HttpOutbound;
  readonly #listeners = new Map<number, OutboundListener>();
  #config: OutboundConfig | undefined;
  #random = { seed: Number.NaN, faults: new SeededRandom(1), routes: new SeededRandom(1), backoff: new SeededRandom(1) };

  constructor(deps: OutboundSideDeps) {
    this.#deps = deps;
    const clusterStats = new ClusterStats(deps.stats.registry, () => this.#clusters.all());
    this.#clusters = new ClusterManager(clusterStats, deps.certificates, deps.diagnostics);
    this.#http = new HttpOutbound({
      pod: deps.pod,
      stats: deps.stats,
      clusterStats,
      accessLog: deps.accessLog,
      clusters: this.#clusters,
      random: () => this.#random,
      flagsHeader: () => this.#config?.responseFlagsHeader,
      diagnostics: deps.diagnostics,
    });
  }

  clusters(): Iterable<Cluster> {
    return this.#clusters.all();
  }

  get listeners(): readonly OutboundListenerConfig[] {
    return [...this.#listeners.values()].map((l) => l.config);
  }

  /** Applies a generation's outbound section; resolves with the first listener that could not bind, if any. */
  async apply(config: OutboundConfig | undefined): Promise<string | undefined> {
    this.#config = config;
    const seed = config?.seed ?? 1;
    if (seed !== this.#random.seed) {
      const base = new SeededRandom(seed);
      this.#random = { seed, faults: base.fork(`fault:${this.#deps.pod}`), routes: base.fork(`route:${this.#deps.pod}`), backoff: base.fork(`backoff:${this.#deps.pod}`) };
    }
    this.#clusters.update(config?.clusters ?? [], seed, this.#deps.pod);
    const wanted = new Map((config?.listeners ?? []).map((l) => [l.port, l]));
    for (const [port, listener] of this.#listeners) {
      const next = wanted.get(port);
      if (next !== undefined && next.protocol === listener.config.protocol) {
        listener.update(next);
        continue;
      }
      this.#listeners.delete(port);
      await listener.close();
    }
    let error: string | undefined;
    for (const l of config?.listeners ?? []) {
      if (this.#listeners.has(l.port)) continue;
      const listener = l.protocol === 'http' ? new OutboundHttpListener(l, this.#http) : new OutboundTcpListener(l, { pod: this.#deps.pod, clusters: this.#clusters, accessLog: this.#deps.accessLog });
      try {
        await listener.listen(config!.bindAddress);
        this.#listeners.set(l.port, listener);
      } catch (e) {
        error ??= (e as Error).message;
      }
    }
    return error;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#listeners.values()].map((l) => l.close()));
    this.#listeners.clear();
    this.#clusters.close();
  }
}
