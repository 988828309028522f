import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entriesSince, logSize } from './access-log-file.ts';
import { MetricSamples } from './metrics.ts';

const scrape = (denied: number, code: string): MetricSamples =>
  MetricSamples.parse(`# HELP envoy_http_rbac_denied x
# TYPE envoy_http_rbac_denied counter
envoy_http_rbac_denied{http_conn_manager_prefix="inbound_8080"} ${denied}
# TYPE istio_requests_total counter
istio_requests_total{response_code="${code}",reporter="destination"} 2
istio_requests_total{response_code="200",reporter="destination"} 5
`);

describe('scraped metrics and access logs', function () {
  it('sums the series whose labels match, over replicas', function () {
    const one = scrape(3, '403');
    expect(one.value('envoy_http_rbac_denied')).to.equal(3);
    expect(one.value('istio_requests_total', { response_code: '403' })).to.equal(2);
    expect(one.value('istio_requests_total')).to.equal(7);
    expect(one.value('istio_requests_total', { response_code: '503' })).to.equal(0);
    expect(one.value('no_such_metric')).to.equal(0);
    const both = MetricSamples.merge([one, scrape(4, '503')]);
    expect(both.value('envoy_http_rbac_denied')).to.equal(7);
    expect(both.value('istio_requests_total', { response_code: '200' })).to.equal(10);
  });

  it('reads the access-log lines written after a mark, complete lines only', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-log-'));
    try {
      const file = join(dir, 'access.log');
      expect(await logSize(file)).to.equal(0);
      writeFileSync(file, `${JSON.stringify({ status: 200 })}\n`);
      const mark = await logSize(file);
      appendFileSync(file, `${JSON.stringify({ status: 403 })}\nnot json\n${JSON.stringify({ status: 0 })}\n{"status": 5`);
      expect((await entriesSince(file, mark)).map((e) => e.status)).to.deep.equal([403, 0]);
      expect((await entriesSince(file)).map((e) => e.status)).to.deep.equal([200, 403, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
