/**
 * Host selection for one cluster, as Envoy's load balancers do it with equal weights:
 * - ROUND_ROBIN: the next host of the routable set (a counter over the set as it is now);
 * - LEAST_REQUEST: power of two choices, the one with fewer requests in flight (ties: the first drawn);
 * - RANDOM: uniform.
 * The routable set is the healthy hosts (not ejected), or every host in panic: when the
 * healthy share is below a non-zero `healthy_panic_threshold`. With no routable host the answer
 * is undefined (the router replies 503 UH). A retry that must avoid earlier hosts (previous_hosts
 * predicate) draws again up to `maxAttempts` times, then takes the last draw.
 */
import type { SeededRandom } from '../../../../util/seeded-random.ts';
import type { ClusterConfig } from '../../../istiod/outbound-config.ts';

export interface Balanceable {
  /** Requests in flight to this host. */
  readonly active: number;
  readonly outlier: { readonly ejected: boolean };
}

export interface Selection<H> {
  readonly host: H | undefined;
  /** True when the choice ignored health (panic routing). */
  readonly panic: boolean;
}

export class LoadBalancer<H extends Balanceable> {
  readonly #policy: ClusterConfig['lbPolicy'];
  readonly #panicThreshold: number;
  readonly #random: SeededRandom;
  #next = 0;

  constructor(policy: ClusterConfig['lbPolicy'], panicThreshold: number, random: SeededRandom) {
    this.#policy = policy;
    this.#panicThreshold = panicThreshold;
    this.#random = random;
  }

  choose(hosts: readonly H[], avoid?: ReadonlySet<H>, maxAttempts = 0): Selection<H> {
    let healthy: readonly H[] = hosts;
    for (const h of hosts) {
      if (h.outlier.ejected) {
        healthy = hosts.filter((x) => !x.outlier.ejected);
        break;
      }
    }
    const panic = this.#panicThreshold > 0 && hosts.length > 0 && (100 * healthy.length) / hosts.length < this.#panicThreshold;
    const set = panic ? hosts : healthy;
    if (set.length === 0) return { host: undefined, panic };
    let host = this.#pick(set);
    for (let i = 0; avoid !== undefined && avoid.has(host) && i < maxAttempts; i++) host = this.#pick(set);
    return { host, panic };
  }

  #pick(set: readonly H[]): H {
    if (set.length === 1) return set[0]!;
    switch (this.#policy) {
      case 'ROUND_ROBIN':
        return set[this.#next++ % set.length]!;
      case 'RANDOM':
        return set[this.#random.int(0, set.length - 1)]!;
      case 'LEAST_REQUEST': {
        const a = this.#random.int(0, set.length - 1);
        let b = this.#random.int(0, set.length - 2);
        if (b >= a) b += 1;
        return set[b]!.active < set[a]!.active ? set[b]! : set[a]!;
      }
    }
  }
}
