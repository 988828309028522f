/**
 * What a client sidecar says about one upstream cluster while traffic runs: who /clusters shows
 * ejected, and the ejections_active gauge, sampled. /clusters and /stats are two admin pages, not
 * one atomic read: an ejection may start or end between them. So each sample reads the stats
 * (the gauge and ejections_enforced_total) before and after /clusters. Each admin read is atomic
 * with respect to the outlier detector (Envoy runs both on its main thread; the reference sidecar
 * on its one event loop), and every ejection adds one to ejections_enforced_total. When that
 * counter did not move, nothing was ejected between the two stats reads: hosts only came back,
 * each taking one off the gauge as it left /clusters' ejected list, so the gauge read before is at
 * least what /clusters showed and the gauge read after at most (`comparable`), however long the
 * three reads took on a busy machine. (Reading /clusters around the gauge instead called a sample
 * steady when /clusters read the same twice, which an ejection and its end, or an end and a new
 * ejection, between two reads far apart under load also gives, with the gauge in between off by one.)
 */
import { findCluster } from './cluster-status.ts';
import type { MeshEnvironment } from './mesh-environment.ts';

export interface ClusterSample {
  /** When it was taken (the middle of its three reads), in ms since the caller's origin. */
  readonly atMs: number;
  /** Hosts /clusters showed ejected, read between the two stats reads. */
  readonly ejected: readonly string[];
  /** envoy_cluster_outlier_detection_ejections_active of the cluster, read just before /clusters. */
  readonly active: number;
  /** The same gauge read just after /clusters. */
  readonly activeAfter: number;
  /** envoy_cluster_outlier_detection_ejections_enforced_total, read with `active`. */
  readonly ejections: number;
  /** The same counter read with `activeAfter`. */
  readonly ejectionsAfter: number;
}

/** No host was ejected between the sample's two stats reads: the gauge read on either side bounds what /clusters showed. */
export function comparable(sample: ClusterSample): boolean {
  return sample.ejections === sample.ejectionsAfter;
}

/** Comparable, and the gauge read the same on both sides: /clusters must show exactly that many ejected. */
export function steady(sample: ClusterSample): boolean {
  return comparable(sample) && sample.active === sample.activeAfter;
}

/**
 * Why the gauge and /clusters disagree in a comparable sample (undefined when they agree, or when
 * the sample cannot tell: a host was ejected between its reads). With no ejection in between the
 * gauge only went down, one per host back, so activeAfter ≤ ejected ≤ active.
 */
export function gaugeDisagreement(sample: ClusterSample): string | undefined {
  if (!comparable(sample)) return undefined;
  const shown = sample.ejected.length;
  if (shown >= sample.activeAfter && shown <= sample.active) return undefined;
  const gauge = sample.active === sample.activeAfter ? `${sample.active}` : `${sample.active} before and ${sample.activeAfter} after`;
  return `ejections_active ${gauge} while /clusters shows ${shown} ejected, with no ejection in between (ejections_enforced_total ${sample.ejections})`;
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
  const stats = async (): Promise<{ active: number; ejections: number }> => {
    const m = await mesh.metrics(client);
    return {
      active: m.value('envoy_cluster_outlier_detection_ejections_active', { cluster_name: cluster }),
      ejections: m.value('envoy_cluster_outlier_detection_ejections_enforced_total', { cluster_name: cluster }),
    };
  };
  let done = false;
  const loop = (async () => {
    while (!done) {
      const before = Date.now();
      const first = await stats();
      const shown = await ejected();
      const second = await stats();
      samples.push({ atMs: (before + Date.now()) / 2 - origin, ejected: shown, active: first.active, activeAfter: second.active, ejections: first.ejections, ejectionsAfter: second.ejections });
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
