/**
 * What the two sidecar benches share: the echo app as a child process, sequential latency on one
 * keep-alive connection, percentiles. Children started here die with the bench, also when its
 * setup fails half-way (an orphaned echo would keep its port and the terminal's pipe).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Pool } from 'undici';
import { waitForReadyLine } from '../harness/dataplane/reference/testing/local-pod.ts';
import { projectRoot } from '../harness/project-root.ts';

export const LATENCY_REQUESTS = 3_000;
export const WARMUP = 500;
export const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
export const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 5_000);
/** This Node, as every child of a bench runs. */
export const NODE: readonly [string, ...string[]] = [process.execPath, '--disable-warning=ExperimentalWarning'];

const children: ChildProcess[] = [];
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Spawns `args` with this Node; the child is killed when the bench exits. */
export function spawnChild(args: readonly string[], env: NodeJS.ProcessEnv = process.env, stdio: 'inherit' | 'pipe' = 'inherit'): ChildProcess {
  const child = spawn(NODE[0], [...NODE.slice(1), ...args], { env, stdio: ['ignore', 'pipe', stdio] });
  children.push(child);
  return child;
}

/** The echo app (harness/apps/echo) on `port`, ready. */
export async function startEcho(port: number, podDir: string, podName: string): Promise<ChildProcess> {
  const echo = spawnChild([join(projectRoot, 'harness/apps/echo/main.ts')], { ...process.env, ECHO_PORT: String(port), POD_DIR: podDir, POD_NAME: podName });
  await waitForReadyLine(echo, 'echo');
  return echo;
}

/** `once` WARMUP times, then LATENCY_REQUESTS times timed, one at a time; the samples sorted (ms). Destroys `pool`. */
export async function sequentialLatency(pool: Pool, once: (pool: Pool) => Promise<void>): Promise<number[]> {
  try {
    for (let i = 0; i < WARMUP; i++) await once(pool);
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_REQUESTS; i++) {
      const t = performance.now();
      await once(pool);
      samples.push(performance.now() - t);
    }
    return samples.sort((a, b) => a - b);
  } finally {
    await pool.destroy();
  }
}

/** The p-quantile of sorted samples. */
export const pct = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
