/**
 * Eventual consistency as a primitive (Gateway API's AwaitConvergence): poll a condition until it
 * holds N times in a row, within a named timeout. A policy change is "in effect" only then.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, MeshproofError } from '../errors.ts';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => delay(ms),
};

export interface ConvergenceOptions {
  /** What is awaited, for the error message: `STRICT in effect on payment-service`. */
  readonly name: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** How many successes in a row count as converged (default 3). */
  readonly consecutiveSuccesses?: number;
  /** The name of the timeout setting, for the error message (default `convergence`). */
  readonly timeoutSetting?: string;
  readonly clock?: Clock;
}

export interface Converged {
  readonly attempts: number;
  readonly elapsedMs: number;
}

/** `condition` returns undefined when it holds, or an Error that says why not. */
export async function awaitConvergence(condition: () => Promise<Error | undefined>, options: ConvergenceOptions): Promise<Converged> {
  const clock = options.clock ?? realClock;
  const needed = options.consecutiveSuccesses ?? 3;
  const started = clock.now();
  let attempts = 0;
  let streak = 0;
  let lastFailure: Error | undefined;
  for (;;) {
    attempts += 1;
    const failure = await condition();
    if (failure === undefined) {
      streak += 1;
      if (streak >= needed) return { attempts, elapsedMs: clock.now() - started };
    } else {
      streak = 0;
      lastFailure = failure;
    }
    if (clock.now() - started >= options.timeoutMs) {
      throw new MeshproofError(
        ErrorCode.ConvergenceTimeout,
        `${options.name}: did not hold ${needed} times in a row within ${options.timeoutMs} ms (timeouts.${options.timeoutSetting ?? 'convergence'}) after ${attempts} attempts; last failure: ${lastFailure?.message ?? 'none (too few successes in a row)'}`,
      );
    }
    // Gateway API skips the pause after a success, so a converged condition is confirmed quickly.
    if (failure !== undefined) await clock.sleep(options.intervalMs);
  }
}
