/**
 * Clean-up that also runs when the run is interrupted.
 *
 * A runtime registers its close() here while it is open. On SIGINT or SIGTERM every registered
 * clean-up runs (bounded by a timeout), then the process exits with 128 + the signal number, as a
 * shell would report it. A second signal during clean-up exits at once; the next run's sweep
 * removes what is left.
 */
const cleanups = new Set<() => Promise<void>>();
let installed = false;
let interrupted = false;

const signalNumbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

export function registerCleanup(cleanup: () => Promise<void>): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Runs every registered clean-up once; used by the signal handler and by tests. */
export async function runAllCleanups(timeoutMs: number): Promise<void> {
  const pending = [...cleanups];
  cleanups.clear();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([Promise.allSettled(pending.map((cleanup) => cleanup())), deadline]);
  clearTimeout(timer);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of Object.keys(signalNumbers) as NodeJS.Signals[]) {
    process.on(signal, () => {
      const code = 128 + (signalNumbers[signal] ?? 0);
      if (interrupted) process.exit(code);
      interrupted = true;
      if (cleanups.size === 0) process.exit(code);
      process.stderr.write(`\nmeshproof: ${signal} received; removing this run's containers and networks…\n`);
      void runAllCleanups(30_000).finally(() => process.exit(code));
    });
  }
}
