/**
 * Durations as Istio writes them (`30s`, `1.5s`, `100ms`, `1m30s`, `1h`): Go's time.ParseDuration
 * syntax, which the CRDs' `duration(self)` CEL rules accept.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Milliseconds, or undefined when `text` is not a valid duration. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-')) {
    sign = -1;
    rest = rest.slice(1);
  } else if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  let index = 0;
  while (index < rest.length) {
    PART.lastIndex = index;
    const m = PART.exec(rest);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
    index = PART.lastIndex;
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

/** Like parseDuration, but for values already validated: throws on a bad one. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new TypeError(`not a duration: '${text}'`);
  return ms;
}

/**
 * A policy duration under the run's time scale (DESIGN.md "Durations can be scaled"): whole
 * milliseconds, as proxies take them, and a positive one never becomes 0 (which means "none" to a
 * proxy). The one rule: the data plane's rendering, the oracle and the cases all scale through it.
 */
export function scaleMs(ms: number, scale: number): number {
  return ms === 0 ? 0 : Math.max(1, Math.round(ms * scale));
}

/** `30000` → `30s`, `1500` → `1.5s`, `250` → `250ms`. */
export function formatDuration(ms: number): string {
  if (ms !== 0 && Math.abs(ms) < 1000) return `${ms}ms`;
  return `${ms / 1000}s`;
}
