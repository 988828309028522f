import { expect } from 'chai';
import { MetricSamples, type CaseContext } from '../../harness/index.ts';
import { MetricWatch, compareIncrease, seriesText } from './metric-watch.ts';

const scrape = (value: number): MetricSamples => MetricSamples.parse(`# TYPE envoy_cluster_upstream_rq_retry counter\nenvoy_cluster_upstream_rq_retry{cluster_name="c"} ${value}\n`);
const series = { name: 'envoy_cluster_upstream_rq_retry', labels: { cluster_name: 'c' } };

describe('metrics held against what a case expects', function () {
  it('compares an increase with a number or a range, naming the series', function () {
    expect(compareIncrease(series, 3, 3)).to.equal(undefined);
    expect(compareIncrease(series, 3, [2, 4])).to.equal(undefined);
    expect(compareIncrease(series, 5, [2, 4])?.message).to.equal('envoy_cluster_upstream_rq_retry{cluster_name="c"} grew by 5; expected 2 to 4');
    expect(compareIncrease(series, 0, 1)?.message).to.match(/grew by 0; expected 1$/);
    expect(seriesText({ name: 'up', labels: {} })).to.equal('up');
  });

  it('reads before and after, records a sample with the value read and the value expected, and fails the check when they differ', async function () {
    const reads = [scrape(10), scrape(14)];
    const watch = await MetricWatch.start(async () => reads.shift()!, 'order-client sidecar');
    await watch.stop();
    const verdicts: [string, string | undefined][] = [];
    const ctx = { verify: (what: string, error: Error | undefined) => void verdicts.push([what, error?.message]), supports: () => true } as unknown as CaseContext<unknown>;
    watch.check(ctx, series, 4, 'retries counted');
    watch.check(ctx, series, [0, 2], 'too few');
    expect(verdicts).to.deep.equal([
      ['retries counted', undefined],
      ['too few', 'envoy_cluster_upstream_rq_retry{cluster_name="c"} grew by 4; expected 0 to 2'],
    ]);
    expect(watch.samples).to.deep.equal([
      { name: series.name, labels: series.labels, value: 14, source: 'order-client sidecar', expected: 14, agrees: true },
      { name: series.name, labels: series.labels, value: 14, source: 'order-client sidecar', agrees: false },
    ]);
  });

  it("reports a check on Istio's own metrics as not supported where the data plane does not claim them, and makes it where it does", async function () {
    const istio = { name: 'istio_requests_total', labels: { response_code: '503' } };
    const reads = [MetricSamples.parse('# TYPE istio_requests_total counter\nistio_requests_total{response_code="503"} 1\n'), MetricSamples.parse('# TYPE istio_requests_total counter\nistio_requests_total{response_code="503"} 3\n')];
    const watch = await MetricWatch.start(async () => reads.shift()!, 'order-client sidecar');
    await watch.stop();
    const verified: string[] = [];
    const skipped: string[] = [];
    const ctx = (supported: boolean) =>
      ({ verify: (what: string) => void verified.push(what), supports: () => supported, notSupported: (feature: string, what: string) => void skipped.push(`${feature}: ${what}`) }) as unknown as CaseContext<unknown>;
    watch.check(ctx(false), istio, 2, '503s counted');
    expect(verified).to.deep.equal([]);
    expect(skipped).to.deep.equal(['observability.istio-metrics: istio_requests_total{response_code="503"}: 503s counted']);
    expect(watch.samples).to.deep.equal([]);
    watch.check(ctx(true), istio, 2, '503s counted');
    expect(verified).to.deep.equal(['503s counted']);
  });
});
