/**
 * Run options: one immutable, documented value for everything a conformance run is told, with
 * defaults filled by one pure function (resolveRunOptions). The CLI builds it from flags and
 * hands it to the mocha process through environment variables (runOptionsToEnv); the suites and
 * the reporter read it back with runOptionsFromEnv. Bad values name the flag or variable.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { projectRoot } from '../project-root.ts';
import type { Area } from '../spec/features.ts';
import { DATA_PLANES, type DataPlaneName } from '../spec/data-plane.ts';
import { DEFAULT_TIME_SCALE, MIN_TIME_SCALE, SUITE_AREAS, newRunId, type RunOptions, type RunTiming } from '../spec/run.ts';


/** Anything the caller knows; strings are parsed (flags and environment variables are strings). */
export interface RunOptionsInput {
  readonly seed?: number | string | undefined;
  readonly timeScale?: number | string | undefined;
  readonly dataPlane?: string | undefined;
  readonly suites?: string | readonly string[] | undefined;
  readonly reportDir?: string | undefined;
  readonly suitesDir?: string | undefined;
  readonly grep?: string | undefined;
  readonly policiesDir?: string | undefined;
  readonly expectFile?: string | undefined;
}

/** How each field is called where it came from, for error messages (`--seed`, `MESHPROOF_SEED`). */
export type OptionNames = Readonly<Record<keyof RunOptionsInput, string>>;

export const FLAG_NAMES: OptionNames = {
  seed: '--seed',
  timeScale: '--time-scale',
  dataPlane: '--dataplane',
  suites: '--suite',
  reportDir: '--report',
  suitesDir: '--suites-dir',
  grep: '--grep',
  policiesDir: '--policies',
  expectFile: '--expect',
};

export const ENV_NAMES: OptionNames = {
  seed: 'MESHPROOF_SEED',
  timeScale: 'MESHPROOF_TIME_SCALE',
  dataPlane: 'MESHPROOF_DATAPLANE',
  suites: 'MESHPROOF_SUITES',
  reportDir: 'MESHPROOF_REPORT_DIR',
  suitesDir: 'MESHPROOF_SUITES_DIR',
  grep: 'MESHPROOF_GREP',
  policiesDir: 'MESHPROOF_POLICIES',
  expectFile: 'MESHPROOF_EXPECT',
};

/** The run's timing (RunTiming as JSON), from the CLI to the mocha process. */
export const TIMING_ENV = 'MESHPROOF_TIMING';

const MAX_SEED = 0xffff_ffff;

/** A fresh random seed (the default). */
export function randomSeed(): number {
  return randomInt(0, MAX_SEED + 1);
}

function bad(name: string, value: unknown, expected: string, hint: string): MeshproofError {
  return new MeshproofError(ErrorCode.BadArgument, `${name} '${String(value)}' is not ${expected}`, { hint });
}

function parseSeed(value: number | string, name: string): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SEED) throw bad(name, value, `an integer from 0 to ${MAX_SEED}`, 'e.g. --seed 42, or leave it out for a random one (printed at the start)');
  return n;
}

export function parseTimeScale(value: number | string, name: string, max = 1): number {
  const n = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n < MIN_TIME_SCALE || n > max) {
    throw bad(name, value, `a number from ${MIN_TIME_SCALE} to ${max}`, `e.g. ${DEFAULT_TIME_SCALE} (a 30 s ejection lasts 0.6 s), or 1 for real time; below ${MIN_TIME_SCALE} a policy's 1 s would be under a millisecond`);
  }
  return n;
}

function parseDataPlane(value: string, name: string): DataPlaneName {
  const found = DATA_PLANES.find((d) => d === value);
  if (found === undefined) throw bad(name, value, `one of ${DATA_PLANES.join(', ')}`, '--dataplane reference runs everywhere; envoy needs the envoyproxy/envoy image');
  return found;
}

function parseSuites(value: string | readonly string[], name: string): Area[] {
  const list = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw bad(name, value, `a comma-separated list of ${SUITE_AREAS.join(', ')}`, 'e.g. --suite mtls,authz');
  for (const s of list) {
    if (!SUITE_AREAS.includes(s as Area)) throw bad(name, s, `a suite (${SUITE_AREAS.join(', ')})`, 'e.g. --suite mtls,authz');
  }
  // Always in promise order, each once: the report and the replay command read the same either way.
  return SUITE_AREAS.filter((area) => list.includes(area));
}

function nonEmpty(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw bad(name, value, 'a non-empty value', `leave ${name} out instead`);
  return value;
}

/**
 * Fills defaults and checks every value: the only place defaults are applied. Pure but for
 * `newSeed`, which is called only when no seed is given (inject a constant in tests).
 */
export function resolveRunOptions(input: RunOptionsInput = {}, newSeed: () => number = randomSeed, names: OptionNames = FLAG_NAMES): RunOptions {
  const grep = nonEmpty(input.grep, names.grep);
  const policiesDir = nonEmpty(input.policiesDir, names.policiesDir);
  const expectFile = nonEmpty(input.expectFile, names.expectFile);
  return Object.freeze({
    seed: input.seed === undefined || input.seed === '' ? parseSeed(newSeed(), names.seed) : parseSeed(input.seed, names.seed),
    timeScale: input.timeScale === undefined || input.timeScale === '' ? DEFAULT_TIME_SCALE : parseTimeScale(input.timeScale, names.timeScale),
    dataPlane: input.dataPlane === undefined || input.dataPlane === '' ? 'reference' : parseDataPlane(input.dataPlane, names.dataPlane),
    suites: Object.freeze(input.suites === undefined || input.suites === '' ? [...SUITE_AREAS] : parseSuites(input.suites, names.suites)),
    reportDir: nonEmpty(input.reportDir, names.reportDir) ?? join(projectRoot, 'reports'),
    suitesDir: nonEmpty(input.suitesDir, names.suitesDir) ?? join(projectRoot, 'suites'),
    ...(grep === undefined ? {} : { grep }),
    ...(policiesDir === undefined ? {} : { policiesDir }),
    ...(expectFile === undefined ? {} : { expectFile }),
  });
}

/** The environment variables that carry `options` to the mocha process. */
export function runOptionsToEnv(options: RunOptions): Record<string, string> {
  const env: Record<string, string> = {
    [ENV_NAMES.seed]: String(options.seed),
    [ENV_NAMES.timeScale]: String(options.timeScale),
    [ENV_NAMES.dataPlane]: options.dataPlane,
    [ENV_NAMES.suites]: options.suites.join(','),
    [ENV_NAMES.reportDir]: options.reportDir,
    [ENV_NAMES.suitesDir]: options.suitesDir,
  };
  if (options.grep !== undefined) env[ENV_NAMES.grep] = options.grep;
  if (options.policiesDir !== undefined) env[ENV_NAMES.policiesDir] = options.policiesDir;
  if (options.expectFile !== undefined) env[ENV_NAMES.expectFile] = options.expectFile;
  if (options.timing !== undefined) env[TIMING_ENV] = JSON.stringify(options.timing);
  return env;
}

function timingFromEnv(text: string | undefined): RunTiming | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as RunTiming;
  } catch {
    throw new MeshproofError(ErrorCode.BadArgument, `${TIMING_ENV} is not JSON: '${text.slice(0, 80)}'`, { hint: `leave ${TIMING_ENV} unset; meshproof run sets it` });
  }
}

/**
 * Reads the options back from the environment. Unset variables take their defaults, so a seed
 * left unset is drawn anew on every call: in a process the CLI did not start, call
 * pinRunOptions() once first (the mocha reporter does).
 */
export function runOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, newSeed: () => number = randomSeed): RunOptions {
  const timing = timingFromEnv(env[TIMING_ENV]);
  const options = resolveRunOptions(
    {
      seed: env[ENV_NAMES.seed],
      timeScale: env[ENV_NAMES.timeScale],
      dataPlane: env[ENV_NAMES.dataPlane],
      suites: env[ENV_NAMES.suites],
      reportDir: env[ENV_NAMES.reportDir],
      suitesDir: env[ENV_NAMES.suitesDir],
      grep: env[ENV_NAMES.grep],
      policiesDir: env[ENV_NAMES.policiesDir],
      expectFile: env[ENV_NAMES.expectFile],
    },
    newSeed,
    ENV_NAMES,
  );
  return timing === undefined ? options : Object.freeze({ ...options, timing });
}

/** Reads the options and writes them back to `env`, so every later reader in the process sees the same seed. */
export function pinRunOptions(env: NodeJS.ProcessEnv = process.env): RunOptions {
  const options = runOptionsFromEnv(env);
  Object.assign(env, runOptionsToEnv(options));
  return options;
}

/** Carries the run id from the CLI to the mocha process; suites pass it to DockerRuntime({ runId }) so containers and report share it. */
export const RUN_ID_ENV = 'MESHPROOF_RUN_ID';


/** The run id the CLI chose (MESHPROOF_RUN_ID), or a fresh one. */
export function runIdFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const id = env[RUN_ID_ENV];
  return id !== undefined && /^[A-Za-z0-9._-]{1,80}$/.test(id) ? id : newRunId();
}

/** The suite file of an area. */
export function suiteFile(options: Pick<RunOptions, 'suitesDir'>, area: Area): string {
  return join(options.suitesDir, area, `${area}.suite.ts`);
}
