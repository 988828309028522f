import { expect } from 'chai';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import * as prom from 'prom-client';
import * as lite from './prom-lite.ts';

type Api = typeof lite;

/** The same operations, against either implementation; returns the exposition text. */
async function exercise(api: Api): Promise<string> {
  const registry = new api.Registry();
  const requests = new api.Counter({ name: 'istio_requests_total', help: 'Requests "quoted" \\ help', labelNames: ['reporter', 'response_code', 'response_flags'], registers: [registry] });
  const plain = new api.Counter({ name: 'meshproof_plain_total', help: 'unlabelled', registers: [registry] });
  const active = new api.Gauge({ name: 'envoy_listener_downstream_cx_active', help: 'active', labelNames: ['listener_address'], registers: [registry] });
  const generation = new api.Gauge({ name: 'meshproof_sidecar_config_generation', help: 'generation', registers: [registry] });
  let collected = 0;
  new api.Gauge({
    name: 'envoy_cluster_membership_total',
    help: 'collected at scrape',
    labelNames: ['cluster_name'],
    registers: [registry],
    collect() {
      this.reset();
      collected += 1;
      this.set({ cluster_name: 'outbound|80||payment' }, 4);
      this.set({ cluster_name: 'outbound|80||order' }, collected);
    },
  });
  const duration = new api.Histogram({ name: 'istio_request_duration_milliseconds', help: 'duration', labelNames: ['reporter', 'response_code'], buckets: [0.5, 1, 5, 10, 25], registers: [registry] });

  const ok = requests.labels({ reporter: 'destination', response_code: '200', response_flags: '-' });
  ok.inc();
  ok.inc(2);
  requests.inc({ reporter: 'source', response_code: '503', response_flags: 'UO,URX' });
  requests.labels({ reporter: 'source', response_code: '503', response_flags: 'a"b\\c\nd' }).inc(5);
  plain.inc();
  active.inc({ listener_address: '0.0.0.0_8080' });
  active.inc({ listener_address: '0.0.0.0_8080' });
  active.dec({ listener_address: '0.0.0.0_8080' });
  active.inc({ listener_address: '0.0.0.0_9090' });
  generation.set(7);
  const fast = duration.labels({ reporter: 'destination', response_code: '200' });
  for (const v of [0.2, 0.5, 0.7, 3, 9.99, 30, 1000]) fast.observe(v);
  duration.labels({ reporter: 'source', response_code: '504' }).observe(12.5);
  return registry.metrics();
}

function normalized(text: string): unknown {
  return parsePrometheusTextFormat(text)
    .map((f) => ({ ...f, metrics: [...f.metrics].map((m) => JSON.stringify(m)).sort() }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

describe('prom-lite (the sidecar metrics without prom-client)', function () {
  it('exposes the same families, labels and values as prom-client for the same operations', async function () {
    const ours = await exercise(lite);
    const theirs = await exercise(prom as unknown as Api);
    expect(normalized(ours)).to.deep.equal(normalized(theirs));
    // The comparison has something in it: values as set, escaping and cumulative buckets.
    expect(ours).to.include('istio_requests_total{reporter="destination",response_code="200",response_flags="-"} 3');
    expect(ours).to.include('response_flags="a\\"b\\\\c\\nd"} 5');
    expect(ours).to.include('istio_request_duration_milliseconds_bucket{le="5",reporter="destination",response_code="200"} 4');
    expect(ours).to.include('envoy_listener_downstream_cx_active{listener_address="0.0.0.0_8080"} 1');
  });

  it('differs from prom-client where the operations differ (the comparison can fail)', async function () {
    const registry = new lite.Registry();
    new lite.Counter({ name: 'x_total', help: 'x', labelNames: ['a'], registers: [registry] }).inc({ a: '1' }, 2);
    const other = new prom.Registry();
    new prom.Counter({ name: 'x_total', help: 'x', labelNames: ['a'], registers: [other] }).inc({ a: '1' }, 3);
    expect(normalized(await registry.metrics())).not.to.deep.equal(normalized(await other.metrics()));
  });

  it('refuses labels it was not told about, and a negative counter step, as prom-client does', function () {
    const c = new lite.Counter({ name: 'y_total', help: 'y', labelNames: ['a'] });
    expect(() => c.inc({ b: '1' })).to.throw(/not included in initial labelset/);
    expect(() => c.labels({ a: '1' }).inc(-1)).to.throw(/not possible to decrease/);
  });
});
