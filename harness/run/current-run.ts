/**
 * The run's options as one frozen value, read from the environment once per process: the CLI
 * hands them to the mocha process as environment variables (run-options.ts), and from then on
 * the child's entry point, the suite glue and the reporter all take this value instead of parsing
 * the environment again. A seed or run id left to chance is drawn here once and written back to
 * the environment, so every process the run starts agrees on it.
 */
import type { RunOptions } from '../spec/run.ts';
import { RUN_ID_ENV, pinRunOptions, runIdFromEnv } from './run-options.ts';

/** The run's options and its id (containers and the report share it). */
export type RunContext = RunOptions & { readonly runId: string };

/** Reads the run from `env` and writes back what was drawn (seed, run id), so the processes it starts agree; frozen. */
export function readRun(env: NodeJS.ProcessEnv): RunContext {
  const options = pinRunOptions(env);
  const runId = runIdFromEnv(env);
  env[RUN_ID_ENV] = runId;
  return Object.freeze({ ...options, runId });
}

let current: RunContext | undefined;

/** This process's run: read from the environment the first time, the same frozen value after. */
export function currentRun(): RunContext {
  current ??= readRun(process.env);
  return current;
}
