/**
 * What a client sidecar says about one upstream cluster while traffic runs: who /clusters shows
 * ejected, and the ejections_active gauge, sampled. /clusters and /stats are two admin pages, not
 * one atomic read: an ejection may start or end between them. So the gauge is read between two
 * reads of /clusters, and only a sample whose two reads agree (`steady`) says anything about
 * whether the gauge and /clusters agree.
 */
import { findCluster } from './cluster-status.ts';
import type { MeshEnvironment } from './mesh-environment.ts';

export interface ClusterSample {
  /** When it was taken (the middle of its three reads), in ms since the caller's origin. */
  readonly atMs: number;
  /** Hosts /clusters showed ejected, read just before the gauge. */
  readonly ejected: readonly string[];
  /** envoy_cluster_outlier_detection_ejections_active of the cluster. */
  readonly active: number;
  /** /clusters read again right after the gauge. */
  readonly ejectedAfter: readonly string[];
}

/** /clusters read the same just before and just after the gauge. */
export function steady(sample: ClusterSample): boolean {
  return sample.ejected.length === sample.ejectedAfter.length && sample.ejected.every((h) => sample.ejectedAfter.includes(h));
}

/** Samples `cluster` of `client`'s sidecar every `everyMs` while `work` runs; `atMs` counts from `origin` (epoch ms). */
export async function sampleClusterWhile<T>(
  mesh: Pick<MeshEnvironment, 'clusters' | 'metrics'>,
  client: string,
  cluster: string,
  origin: number,
  everyMs: number,
  work: Promise<T>,
): Promise<{ result: T; samples: ClusterSample[] }> {
  const samples: ClusterSample[] = [];
  const ejected = async (): Promise<string[]> => findCluster(await mesh.clusters(client), cluster).hosts.filter((h) => h.ejected).map((h) => h.hostname);
  let done = false;
  const loop = (async () => {
    while (!done) {
      const before = Date.now();
      const first = await ejected();
      const active = (await mesh.metrics(client)).value('envoy_cluster_outlier_detection_ejections_active', { cluster_name: cluster });
      const second = await ejected();
      samples.push({ atMs: (before + Date.now()) / 2 - origin, ejected: first, active, ejectedAfter: second });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  try {
    return { result: await work, samples };
  } finally {
    done = true;
    await loop;
  }
}
