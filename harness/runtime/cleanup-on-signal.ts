/**
 * Clean-up that also runs when the run is interrupted.
 *
 * A runtime registers its close() here while it is open. On SIGINT, SIGTERM or SIGHUP, or when
 * the parent that started this process over IPC goes away (`meshproof run` killed outright),
 * every registered clean-up runs (bounded by a timeout), each says what it removed on stderr, and
 * the process exits with 128 + the signal number, as a shell would report it. A second signal
 * during clean-up exits at once: the run's reaper then removes what is left.
 */
import { publish } from '../events.ts';

export type Cleanup = () => Promise<string | void>;

const cleanups = new Set<Cleanup>();
let installed = false;
let interrupted = false;

export const SIGNAL_NUMBERS: Readonly<Record<'SIGHUP' | 'SIGINT' | 'SIGTERM', number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
/** How long an interrupted process spends removing its objects before it exits anyway. */
export const INTERRUPT_CLEANUP_MS = 30_000;

export function registerCleanup(cleanup: Cleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Runs every registered clean-up once; returns what they said. Used on interrupt and by tests. */
export async function runAllCleanups(timeoutMs: number): Promise<string[]> {
  const pending = [...cleanups];
  cleanups.clear();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const settled = await Promise.race([Promise.allSettled(pending.map((cleanup) => cleanup())), deadline]);
  clearTimeout(timer);
  if (settled === 'late') return [`clean-up did not finish within ${timeoutMs} ms; the run's reaper removes what is left`];
  return settled.map((s) => (s.status === 'fulfilled' ? (s.value ?? '') : `clean-up failed: ${(s.reason as Error)?.message ?? String(s.reason)}`)).filter((line) => line !== '');
}

/** What the process does on a signal: clean up (bounded), say what was removed, exit 128 + n. */
export function interrupt(signal: keyof typeof SIGNAL_NUMBERS, why = `${signal} received`): void {
  const code = 128 + SIGNAL_NUMBERS[signal];
  if (interrupted) process.exit(code);
  interrupted = true;
  if (cleanups.size === 0) process.exit(code);
  publish('run:interrupted', { why });
  process.stderr.write(`\nmeshproof: ${why}; removing this run's containers and networks…\n`);
  void runAllCleanups(INTERRUPT_CLEANUP_MS)
    .then((lines) => {
      for (const line of lines) process.stderr.write(`meshproof: ${line}\n`);
    })
    .finally(() => process.exit(code));
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of Object.keys(SIGNAL_NUMBERS) as (keyof typeof SIGNAL_NUMBERS)[]) process.on(signal, () => interrupt(signal));
}

/**
 * In a child started with an IPC channel: when the parent goes away without a word (killed with
 * SIGKILL, say), clean up as on SIGTERM instead of running on as an orphan.
 */
export function interruptWhenParentLeaves(): void {
  if (process.channel === undefined) return;
  process.channel.unref();
  process.once('disconnect', () => interrupt('SIGTERM', 'the meshproof run process that started this one is gone'));
}
