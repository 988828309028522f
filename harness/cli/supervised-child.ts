/**
 * Runs a child process that owns containers (the mocha process of `meshproof run`) so that it can
 * never outlive its parent's interruption:
 *
 * - the child gets its own process group, so a terminal's Ctrl-C reaches only the parent, which
 *   forwards SIGINT, SIGTERM and SIGHUP to the child exactly once (a second signal is forwarded
 *   too, and makes the child exit at once; its reaper removes what is left);
 * - the child has an IPC channel: when the parent dies outright (SIGKILL) the channel closes and the
 *   child cleans up as on SIGTERM (cleanup-on-signal.ts);
 * - after forwarding, the parent waits for the child's clean-up, bounded by `cleanupMs`; a child
 *   still running then is killed (its reaper removes its objects).
 */
import { spawn } from 'node:child_process';
import { SIGNAL_NUMBERS } from '../runtime/cleanup-on-signal.ts';

export type ForwardedSignal = keyof typeof SIGNAL_NUMBERS;

export interface ChildEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The first signal the parent received and forwarded, if any. */
  readonly interrupted: ForwardedSignal | undefined;
  /** True when the child outlived `cleanupMs` after the signal and was killed. */
  readonly killed: boolean;
  readonly error?: Error;
}

export interface SupervisedChildOptions {
  readonly env: NodeJS.ProcessEnv;
  /** How long the child may take to clean up after a forwarded signal. */
  readonly cleanupMs: number;
  /** Called once, when the first signal arrives (before it is forwarded). */
  readonly onSignal?: (signal: ForwardedSignal) => void;
}

export function runSupervisedChild(command: string, args: readonly string[], options: SupervisedChildOptions): Promise<ChildEnd> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: options.env, detached: true });
    let interrupted: ForwardedSignal | undefined;
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    const handlers = new Map<ForwardedSignal, () => void>();
    const forward = (signal: ForwardedSignal): void => {
      if (interrupted === undefined) {
        interrupted = signal;
        options.onSignal?.(signal);
        timer = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, options.cleanupMs);
      }
      child.kill(signal);
    };
    for (const signal of Object.keys(SIGNAL_NUMBERS) as ForwardedSignal[]) {
      const handler = (): void => forward(signal);
      handlers.set(signal, handler);
      process.on(signal, handler);
    }
    const finish = (end: Omit<ChildEnd, 'interrupted' | 'killed'>): void => {
      clearTimeout(timer);
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve({ ...end, interrupted, killed });
    };
    child.once('error', (error) => finish({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => finish({ code, signal }));
  });
}
