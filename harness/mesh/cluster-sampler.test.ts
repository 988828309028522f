import { expect } from 'chai';
import { comparable, gaugeDisagreement, sampleClusterWhile, steady, type ClusterSample } from './cluster-sampler.ts';
import type { ClusterStatus } from './cluster-status.ts';
import { MetricSamples } from './metrics.ts';

const CLUSTER = 'outbound|80||payment.prod.svc.cluster.local';
const clusters = (ejected: readonly string[]): ClusterStatus[] => [
  { name: CLUSTER, hosts: ['p-0', 'p-1', 'p-2'].map((h) => ({ address: h, port: 8080, hostname: h, ejected: ejected.includes(h), stats: {} })) },
];
const stats = (active: number, ejections: number): MetricSamples =>
  MetricSamples.parse(
    `# TYPE envoy_cluster_outlier_detection_ejections_active gauge\nenvoy_cluster_outlier_detection_ejections_active{cluster_name="${CLUSTER}"} ${active}\n` +
      `# TYPE envoy_cluster_outlier_detection_ejections_enforced_total counter\nenvoy_cluster_outlier_detection_ejections_enforced_total{cluster_name="${CLUSTER}"} ${ejections}\n`,
  );
const sample = (ejected: string[], active: number, activeAfter = active, ejections = 3, ejectionsAfter = ejections): ClusterSample => ({ atMs: 0, ejected, active, activeAfter, ejections, ejectionsAfter });

describe('cluster sampler', function () {
  it('compares the gauge with /clusters only when no host was ejected between the two stats reads', function () {
    expect(comparable(sample(['p-1'], 1))).to.equal(true);
    expect(steady(sample(['p-1'], 1))).to.equal(true);
    // A host came back meanwhile: comparable (the gauge brackets /clusters), not steady.
    expect(comparable(sample(['p-1'], 2, 1))).to.equal(true);
    expect(steady(sample(['p-1'], 2, 1))).to.equal(false);
    // An ejection meanwhile (the counter moved): the sample cannot tell, whatever it read.
    expect(comparable(sample(['p-1'], 1, 1, 3, 4))).to.equal(false);
    expect(steady(sample(['p-1'], 1, 1, 3, 4))).to.equal(false);
  });

  it('finds the gauge wrong when it does not bracket /clusters in a comparable sample, and never judges across an ejection', function () {
    expect(gaugeDisagreement(sample([], 0))).to.equal(undefined);
    expect(gaugeDisagreement(sample(['p-1', 'p-2'], 2))).to.equal(undefined);
    // p-2 came back between the reads: 2 before, 1 after, /clusters shows 1 or 2.
    expect(gaugeDisagreement(sample(['p-1', 'p-2'], 2, 1))).to.equal(undefined);
    expect(gaugeDisagreement(sample(['p-1'], 2, 1))).to.equal(undefined);
    // The sample the old rule (same /clusters twice) let through and failed on: /clusters shows 1, the gauge 0, no ejection.
    expect(gaugeDisagreement(sample(['p-1'], 0))).to.equal('ejections_active 0 while /clusters shows 1 ejected, with no ejection in between (ejections_enforced_total 3)');
    expect(gaugeDisagreement(sample([], 1))).to.match(/ejections_active 1 while \/clusters shows 0/);
    expect(gaugeDisagreement(sample(['p-1', 'p-2', 'p-0'], 2, 1))).to.match(/ejections_active 2 before and 1 after while \/clusters shows 3/);
    expect(gaugeDisagreement(sample([], 2, 1))).to.match(/2 before and 1 after while \/clusters shows 0/);
    // With an ejection in between, even a gauge of 0 against 1 shown is no evidence.
    expect(gaugeDisagreement(sample(['p-1'], 0, 0, 3, 4))).to.equal(undefined);
  });

  it('reads the stats before and after /clusters, for the client and cluster asked, until the work ends', async function () {
    const reads: string[] = [];
    let threeSampled = (): void => {};
    const work = new Promise<string>((r) => (threeSampled = () => r('done')));
    // p-1 comes back between the first sample's two stats reads (gauge 1 → 0, no new ejection);
    // p-2 is ejected during the second sample (the counter moves 3 → 4).
    const views = [['p-1'], ['p-2'], [], [], [], []];
    const scrapes: [number, number][] = [[1, 3], [0, 3], [0, 3], [1, 4], [0, 4]];
    const mesh = {
      clusters: async (pod: string): Promise<ClusterStatus[]> => {
        reads.push(`clusters ${pod}`);
        return clusters(views.shift() ?? []);
      },
      metrics: async (pod: string): Promise<MetricSamples> => {
        reads.push(`metrics ${pod}`);
        if (reads.length === 9) threeSampled();
        return stats(...(scrapes.shift() ?? [0, 4]));
      },
    };
    const origin = Date.now();
    const { result, samples } = await sampleClusterWhile(mesh, 'order-client', CLUSTER, origin, 5, work);
    expect(result).to.equal('done');
    expect(samples).to.have.length(3);
    expect(reads.slice(0, 3)).to.deep.equal(['metrics order-client', 'clusters order-client', 'metrics order-client']);
    expect(samples[0]).to.deep.include({ ejected: ['p-1'], active: 1, activeAfter: 0, ejections: 3, ejectionsAfter: 3 });
    expect([comparable(samples[0]!), steady(samples[0]!)]).to.deep.equal([true, false]);
    expect(samples[1]).to.deep.include({ ejected: ['p-2'], active: 0, activeAfter: 1, ejections: 3, ejectionsAfter: 4 });
    expect(comparable(samples[1]!)).to.equal(false);
    expect(samples[2]).to.deep.include({ ejected: [], active: 0, activeAfter: 0, ejections: 4, ejectionsAfter: 4 });
    expect(steady(samples[2]!)).to.equal(true);
    expect(samples.every((s) => s.atMs >= 0 && s.atMs < 1_000)).to.equal(true);
  });
});
