/**
 * Who owns a run: `<hostname>:<pid>:<process start time>`.
 *
 * Stored as a label on every container and network of a run, so that a later run can tell whether
 * the process that created them is gone (and sweep what it left) without touching runs that are
 * still going, such as a second meshproof in another terminal. The start time guards against a
 * recycled pid.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface Owner {
  readonly host: string;
  readonly pid: number;
  /** Clock ticks since boot at which the process started (Linux /proc), or 0 where unknown. */
  readonly startTime: number;
}

export function processStartTime(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19] ?? 0); // field 22 overall
  } catch {
    return 0;
  }
}

export function currentOwner(): Owner {
  return { host: hostname(), pid: process.pid, startTime: processStartTime(process.pid) };
}

export function formatOwner(owner: Owner): string {
  return `${owner.host}:${owner.pid}:${owner.startTime}`;
}

export function parseOwner(text: string | undefined): Owner | undefined {
  if (text === undefined) return undefined;
  const match = /^(.+):(\d+):(\d+)$/.exec(text);
  if (match === null) return undefined;
  return { host: match[1]!, pid: Number(match[2]), startTime: Number(match[3]) };
}

/**
 * True when the owner process certainly no longer exists. An owner on another host, or one
 * that cannot be checked, is not dead: its leftovers are kept (`meshproof clean --all` removes them).
 */
export function isOwnerDead(owner: Owner | undefined, self: Owner = currentOwner()): boolean {
  if (owner === undefined || owner.host !== self.host) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  if (owner.startTime === 0) return false;
  const startTime = processStartTime(owner.pid);
  return startTime !== 0 && startTime !== owner.startTime;
}
