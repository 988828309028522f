/**
 * Metrics a case holds against what it expects: the sidecars' `/stats/prometheus` read before the
 * experiment and after it, and for each series the increase compared with the expectation (a
 * number, or a range when the oracle allows several). Every comparison becomes a MetricSample for
 * the report (the value read after, and the value expected when it is one number) and a check.
 */
import { Feature, type CaseContext, type MetricSample, type MetricSamples } from '../../harness/index.ts';

export interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** `name{k="v",…}` as Prometheus writes a series. */
export function seriesText(s: Series): string {
  const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`);
  return labels.length === 0 ? s.name : `${s.name}{${labels.join(',')}}`;
}

/** Whether an increase is what was expected; the message says both when it is not. */
export function compareIncrease(series: Series, increase: number, expected: number | readonly [number, number]): Error | undefined {
  const [low, high] = typeof expected === 'number' ? [expected, expected] : expected;
  if (increase >= low && increase <= high) return undefined;
  const wanted = low === high ? `${low}` : `${low} to ${high}`;
  return new Error(`${seriesText(series)} grew by ${increase}; expected ${wanted}`);
}

export class MetricWatch {
  readonly #read: () => Promise<MetricSamples>;
  readonly #source: string;
  readonly #before: MetricSamples;
  #after: MetricSamples | undefined;
  /** The samples checked so far (attach this array to the case before checking: it fills as checks are made). */
  readonly samples: MetricSample[];

  private constructor(read: () => Promise<MetricSamples>, source: string, before: MetricSamples, samples: MetricSample[]) {
    this.#read = read;
    this.#source = source;
    this.#before = before;
    this.samples = samples;
  }

  /** Reads the metrics now; `source` names whose they are in the report (`order-client sidecar`); `samples` may be shared with another watch. */
  static async start(read: () => Promise<MetricSamples>, source: string, samples: MetricSample[] = []): Promise<MetricWatch> {
    return new MetricWatch(read, source, await read(), samples);
  }

  /** Reads them again: increases are measured up to here. */
  async stop(): Promise<void> {
    this.#after = await this.#read();
  }

  increase(series: Series): number {
    if (this.#after === undefined) throw new Error('MetricWatch: stop() before reading increases');
    return this.#after.value(series.name, series.labels) - this.#before.value(series.name, series.labels);
  }

  /**
   * Compares one series' increase with `expected`, records the sample and makes it a check of the
   * case. Istio's standard metrics (`istio_*`) come from Istio's own proxy build: on a data plane
   * that does not claim them, the check is reported as not supported instead of made.
   */
  check<Env>(ctx: CaseContext<Env>, series: Series, expected: number | readonly [number, number], what: string): void {
    if (series.name.startsWith('istio_') && !ctx.supports(Feature.IstioMetrics)) {
      ctx.notSupported(Feature.IstioMetrics, `${seriesText(series)}: ${what}`);
      return;
    }
    const increase = this.increase(series);
    const error = compareIncrease(series, increase, expected);
    const value = this.#after!.value(series.name, series.labels);
    const exact = typeof expected === 'number' ? expected : expected[0] === expected[1] ? expected[0] : undefined;
    this.samples.push({
      name: series.name,
      labels: { ...series.labels },
      value,
      source: this.#source,
      ...(exact === undefined ? {} : { expected: value - increase + exact }),
      agrees: error === undefined,
    });
    ctx.verify(what, error);
  }
}
