/**
 * What a conformance run is told, as one value (RunOptions), and the words for how its time scale
 * was set. Reading it from flags and the environment is harness/run/run-options.ts's job; the
 * report records it and prints the command that replays it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { projectRoot } from '../project-root.ts';
import type { DataPlaneName } from './data-plane.ts';
import type { Area } from './features.ts';

export const SUITE_AREAS: readonly Area[] = ['mtls', 'authz', 'resilience'];

/**
 * Default time scale. Policies say `interval: 10s`, `baseEjectionTime: 30s` (the seed's
 * DestinationRule); at 0.02 those become a 0.2 s sweep and a 0.6 s ejection. That is long
 * against one request through two sidecars (milliseconds), so each ejection window holds many
 * requests and is seen clearly, and short enough that a circuit-breaker case with several
 * ejections and backoff (maxEjectionTime 300 s → 6 s) ends in seconds rather than minutes.
 * Much smaller factors shrink a 10 s interval towards scheduling noise on a loaded 2-core host;
 * 1 runs policies in real time.
 */
export const DEFAULT_TIME_SCALE = 0.02;

/**
 * Smallest time scale. Envoy and the reference sidecar count durations in whole milliseconds, so
 * below 0.001 a policy's 1 s becomes less than one: a timeout or an ejection of 0, which means
 * "none" to a proxy, and a run that tests something other than the policy.
 */
export const MIN_TIME_SCALE = 0.001;

export interface RunOptions {
  /** Drives fault schedules, response-code mixes and probe order; `--seed` replays a run. 0 ≤ seed < 2^32. Default: random, printed and recorded in the report. */
  readonly seed: number;
  /** Multiplies every policy duration (0 < f ≤ 1). Default DEFAULT_TIME_SCALE (0.02). */
  readonly timeScale: number;
  /** The data plane under test. Default `reference`. */
  readonly dataPlane: DataPlaneName;
  /** Areas to run, each from `<suitesDir>/<area>/<area>.suite.ts`, in mtls, authz, resilience order. Default: all three. */
  readonly suites: readonly Area[];
  /** Reports go to `<reportDir>/<run id>/`, and `<reportDir>/latest/` is refreshed. Default `<project>/reports`. */
  readonly reportDir: string;
  /** Where the suite files live. Default `<project>/suites`; tests point it at fixture suites. */
  readonly suitesDir: string;
  /** Only cases whose full title matches this pattern (mocha --grep). */
  readonly grep?: string;
  /** The user's policy directory, instead of each suite's own manifests. */
  readonly policiesDir?: string;
  /** The user's intent file (YAML: from, to, method, path → allow | deny | reject). */
  readonly expectFile?: string;
  /** How the time scale was set and the jitter measured when the run started (set by `meshproof run`; carried as MESHPROOF_TIMING). */
  readonly timing?: RunTiming;
}

/** How late a run of timers fired (ms): their median, 99th percentile and maximum (harness/util/scheduling-jitter.ts measures it). */
export interface JitterSummary {
  /** Timers sampled. */
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** How the run's time scale was set, with the jitter measured when the run started (report: run.timing). */
export interface RunTiming {
  /** `flag`: the user gave --time-scale (or MESHPROOF_TIME_SCALE); `jitter`: chosen from the measured jitter. */
  readonly timeScaleFrom: 'flag' | 'jitter';
  readonly timeScale: number;
  /** Timer lateness over the first second, before anything started. */
  readonly startJitter: JitterSummary;
  /** The p99 expected while the mesh carries traffic: RUN_JITTER_FACTOR × the start's. */
  readonly predictedP99Ms: number;
  readonly reason: string;
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The exact command that replays a run: same seed, time scale, data plane, suites and filters. */
export function replayCommand(options: RunOptions): string {
  const args = ['./bin/meshproof', 'run', '--suite', options.suites.join(','), '--dataplane', options.dataPlane, '--seed', String(options.seed), '--time-scale', String(options.timeScale)];
  if (options.grep !== undefined) args.push('--grep', options.grep);
  if (options.policiesDir !== undefined) args.push('--policies', options.policiesDir);
  if (options.expectFile !== undefined) args.push('--expect', options.expectFile);
  if (options.suitesDir !== join(projectRoot, 'suites')) args.push('--suites-dir', options.suitesDir);
  return args.map(shellQuote).join(' ');
}

/**
 * A fresh run id, `mp-<yyyymmdd-hhmmss>-<4 hex>`: what labels a run's containers and names its
 * report folder. Here, low in the house, so the CLI makes one without loading the Docker runtime
 * (testcontainers costs it most of a second) and the runtime makes the same kind.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `mp-${stamp}-${randomBytes(2).toString('hex')}`;
}
