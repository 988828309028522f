import { expect } from 'chai';
import { sampleClusterWhile, steady, type ClusterSample } from './cluster-sampler.ts';
import type { ClusterStatus } from './cluster-status.ts';
import { MetricSamples } from './metrics.ts';

const CLUSTER = 'outbound|80||payment.prod.svc.cluster.local';
const clusters = (ejected: readonly string[]): ClusterStatus[] => [
  { name: CLUSTER, hosts: ['p-0', 'p-1', 'p-2'].map((h) => ({ address: h, port: 8080, hostname: h, ejected: ejected.includes(h), stats: {} })) },
];
const gauge = (active: number): MetricSamples =>
  MetricSamples.parse(`# TYPE envoy_cluster_outlier_detection_ejections_active gauge\nenvoy_cluster_outlier_detection_ejections_active{cluster_name="${CLUSTER}"} ${active}\n`);
const sample = (ejected: string[], ejectedAfter: string[]): ClusterSample => ({ atMs: 0, ejected, active: ejected.length, ejectedAfter });

describe('cluster sampler', function () {
  it('calls a sample steady when /clusters read the same hosts before and after the gauge, in any order', function () {
    expect(steady(sample(['p-1', 'p-2'], ['p-2', 'p-1']))).to.equal(true);
    expect(steady(sample([], []))).to.equal(true);
    expect(steady(sample(['p-1'], []))).to.equal(false);
    expect(steady(sample(['p-1'], ['p-2']))).to.equal(false);
    expect(steady(sample(['p-1'], ['p-1', 'p-2']))).to.equal(false);
  });

  it('reads the gauge between two reads of /clusters, for the client and cluster asked, until the work ends', async function () {
    const reads: string[] = [];
    // An ejection that ends while the gauge is read: the first sample's two /clusters reads differ.
    const views = [['p-1'], [], [], [], []];
    const mesh = {
      clusters: async (pod: string): Promise<ClusterStatus[]> => {
        reads.push(`clusters ${pod}`);
        return clusters(views.shift() ?? []);
      },
      metrics: async (pod: string): Promise<MetricSamples> => {
        reads.push(`metrics ${pod}`);
        return gauge(reads.length === 2 ? 1 : 0);
      },
    };
    const origin = Date.now();
    const { result, samples } = await sampleClusterWhile(mesh, 'order-client', CLUSTER, origin, 5, new Promise<string>((r) => setTimeout(() => r('done'), 20)));
    expect(result).to.equal('done');
    expect(samples.length).to.be.at.least(2);
    expect(reads.slice(0, 3)).to.deep.equal(['clusters order-client', 'metrics order-client', 'clusters order-client']);
    expect(samples[0]).to.include({ active: 1 });
    expect(samples[0]!.ejected).to.deep.equal(['p-1']);
    expect(samples[0]!.ejectedAfter).to.deep.equal([]);
    expect(steady(samples[0]!)).to.equal(false);
    expect(samples[1]).to.deep.include({ active: 0, ejected: [], ejectedAfter: [] });
    expect(samples.every((s) => s.atMs >= 0 && s.atMs < 1_000)).to.equal(true);
  });
});
