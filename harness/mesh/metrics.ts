/**
 * Metrics scraped from proxies' `/stats/prometheus` (parsed with parse-prometheus-text-format),
 * with the one question checks ask: the value of a series, summed over everything that matches.
 */
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';

export class MetricSamples {
  readonly #families: ReadonlyMap<string, PrometheusFamily>;

  constructor(families: readonly PrometheusFamily[]) {
    this.#families = new Map(families.map((f) => [f.name, f]));
  }

  static parse(text: string): MetricSamples {
    return new MetricSamples(parsePrometheusTextFormat(text));
  }

  /** Several scrapes (the replicas of a workload) as one: values of the same series add up. */
  static merge(all: readonly MetricSamples[]): MetricSamples {
    const byName = new Map<string, PrometheusFamily>();
    for (const samples of all) {
      for (const family of samples.#families.values()) {
        const known = byName.get(family.name);
        byName.set(family.name, known === undefined ? family : { ...known, metrics: [...known.metrics, ...family.metrics] });
      }
    }
    return new MetricSamples([...byName.values()]);
  }

  names(): string[] {
    return [...this.#families.keys()].sort();
  }

  /**
   * Sum of the series named `name` whose labels include `labels` (counters and gauges; for a
   * histogram, its sample count). 0 when nothing matches: a counter that never moved is absent.
   */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    const family = this.#families.get(name);
    if (family === undefined) return 0;
    let total = 0;
    for (const m of family.metrics) {
      if (!Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) continue;
      total += Number(m.value ?? m.count ?? 0);
    }
    return total;
  }

  /** Every series of `name`, with its labels. */
  series(name: string): { labels: Readonly<Record<string, string>>; value: number }[] {
    return (this.#families.get(name)?.metrics ?? []).map((m) => ({ labels: m.labels ?? {}, value: Number(m.value ?? m.count ?? 0) }));
  }
}
