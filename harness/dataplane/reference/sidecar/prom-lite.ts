/**
 * The few Prometheus metric types the sidecar needs (counter, gauge, histogram, registry), with
 * prom-client's API shape and its text exposition (format 0.0.4).
 *
 * Why not prom-client in the sidecar: it is on every request's path twice (istio_requests_total
 * with 25 labels, the duration histogram, Envoy's counters), and in the reference sidecar it cost
 * about 7% of each sidecar's CPU and 5-10 MB of its resident memory (bench/sidecar-outbound,
 * cpu-prof). Here a labelled child is an object with a number; its label text is built once.
 * prom-lite.test.ts drives prom-client and this module with the same operations and checks that
 * both expositions parse to the same families and samples. The harness side (scraping, parsing)
 * still uses the libraries made for that.
 */

type Labels = Readonly<Record<string, string | number>>;

interface Family {
  /** The exposition text of this family, HELP and TYPE lines included. */
  text(): string;
}

export class Registry {
  readonly #families: Family[] = [];

  register(family: Family): void {
    this.#families.push(family);
  }

  /** The text exposition of every registered family (async, as prom-client's). */
  async metrics(): Promise<string> {
    return this.#families.map((f) => f.text()).join('\n') + '\n';
  }
}

interface Options {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
  readonly registers?: readonly Registry[];
}

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `a="x",b="y"` in the order of labelNames (missing labels are left out, as prom-client does). */
function labelText(labelNames: readonly string[], labels: Labels): string {
  const parts: string[] = [];
  for (const name of labelNames) {
    const value = labels[name];
    if (value !== undefined) parts.push(`${name}="${escapeValue(String(value))}"`);
  }
  for (const name of Object.keys(labels)) {
    if (!labelNames.includes(name)) throw new Error(`Added label "${name}" is not included in initial labelset: ${JSON.stringify(labelNames)}`);
  }
  return parts.join(',');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function keyOf(labelNames: readonly string[], labels: Labels): string {
  let key = '';
  for (const name of labelNames) key += `${labels[name] ?? ''}\u0000`;
  return key;
}

abstract class Scalar implements Family {
  readonly name: string;
  readonly #help: string;
  readonly #type: 'counter' | 'gauge';
  protected readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { readonly labels: string; value: number }>();

  constructor(options: Options, type: 'counter' | 'gauge') {
    this.name = options.name;
    this.#help = options.help;
    this.#type = type;
    this.labelNames = options.labelNames ?? [];
    for (const registry of options.registers ?? []) registry.register(this);
    if (this.labelNames.length === 0) this.series.set('', { labels: '', value: 0 });
  }

  protected child(labels: Labels = {}): { readonly labels: string; value: number } {
    const key = keyOf(this.labelNames, labels);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { labels: labelText(this.labelNames, labels), value: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  protected collectNow(): void {}

  text(): string {
    this.collectNow();
    let out = `# HELP ${this.name} ${escapeHelp(this.#help)}\n# TYPE ${this.name} ${this.#type}`;
    for (const s of this.series.values()) out += `\n${this.name}${s.labels === '' ? '' : `{${s.labels}}`} ${formatNumber(s.value)}`;
    return out;
  }
}

export class Counter extends Scalar {
  constructor(options: Options) {
    super(options, 'counter');
  }

  /** inc(), inc(n), inc(labels) or inc(labels, n). */
  inc(labelsOrValue?: Labels | number, value?: number): void {
    const [labels, n] = typeof labelsOrValue === 'object' ? [labelsOrValue, value ?? 1] : [{}, labelsOrValue ?? 1];
    if (n < 0) throw new Error('It is not possible to decrease a counter');
    this.child(labels).value += n;
  }

  labels(labels: Labels): { inc(value?: number): void } {
    const series = this.child(labels);
    return {
      inc: (n = 1) => {
        if (n < 0) throw new Error('It is not possible to decrease a counter');
        series.value += n;
      },
    };
  }
}

export class Gauge extends Scalar {
  readonly #collect: ((this: Gauge) => void) | undefined;

  constructor(options: Options & { readonly collect?: (this: Gauge) => void }) {
    super(options, 'gauge');
    this.#collect = options.collect;
  }

  set(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === 'number') this.child().value = labelsOrValue;
    else this.child(labelsOrValue).value = value ?? 0;
  }

  inc(labels: Labels = {}, value = 1): void {
    this.child(labels).value += value;
  }

  dec(labels: Labels = {}, value = 1): void {
    this.child(labels).value -= value;
  }

  /** Forgets every labelled series (an unlabelled gauge goes back to 0). */
  reset(): void {
    this.series.clear();
    if (this.labelNames.length === 0) this.series.set('', { labels: '', value: 0 });
  }

  protected override collectNow(): void {
    this.#collect?.call(this);
  }
}

export class Histogram implements Family {
  readonly name: string;
  readonly #help: string;
  readonly #labelNames: readonly string[];
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, { readonly labels: string; readonly counts: number[]; sum: number; count: number }>();

  constructor(options: Options & { readonly buckets: readonly number[] }) {
    this.name = options.name;
    this.#help = options.help;
    this.#labelNames = options.labelNames ?? [];
    this.#buckets = [...options.buckets].sort((a, b) => a - b);
    for (const registry of options.registers ?? []) registry.register(this);
  }

  labels(labels: Labels): { observe(value: number): void } {
    const key = keyOf(this.#labelNames, labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels: labelText(this.#labelNames, labels), counts: this.#buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    const s = series;
    const bounds = this.#buckets;
    return {
      observe: (value: number) => {
        // Counts per bucket are kept non-cumulative; text() adds them up.
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            s.counts[i]! += 1;
            break;
          }
        }
        s.sum += value;
        s.count += 1;
      },
    };
  }

  text(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.#help)}\n# TYPE ${this.name} histogram`;
    for (const s of this.#series.values()) {
      const sep = s.labels === '' ? '' : ',';
      let cumulative = 0;
      this.#buckets.forEach((bound, i) => {
        cumulative += s.counts[i]!;
        out += `\n${this.name}_bucket{le="${formatNumber(bound)}"${sep}${s.labels}} ${cumulative}`;
      });
      out += `\n${this.name}_bucket{le="+Inf"${sep}${s.labels}} ${s.count}`;
      const braces = s.labels === '' ? '' : `{${s.labels}}`;
      out += `\n${this.name}_sum${braces} ${formatNumber(s.sum)}\n${this.name}_count${braces} ${s.count}`;
    }
    return out;
  }
}
