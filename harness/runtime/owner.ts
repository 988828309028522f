/**
 * Who owns a run, and when that owner can be proved gone.
 *
 * Stored as a label on every container and network of a run (and as the `owner` file of its run
 * folder): `boot=<kernel boot id>;pidns=<PID namespace inode>;pid=<pid>;start=<start time>;host=<name>`.
 *
 * A pid means something only inside the PID namespace it was read in, and only during one boot of
 * one kernel. Two CI jobs in containers that share the host's Docker socket have the same host name
 * (often) and their own PID namespaces, so "same host name and the pid does not answer" calls a
 * live run dead. Here an owner is gone only when this process can check it in the owner's own PID
 * namespace of the same boot: its pid does not exist, or belongs to a process started at another
 * time (a recycled pid). Anything else (another namespace, another machine, an older label) cannot
 * be proved gone and is kept: the run's reaper removes it when its owner dies (reaper-client.ts),
 * and `meshproof clean --all` removes it on request.
 *
 * A namespace inode can be reused only after that namespace is destroyed, that is after every
 * process in it has ended: a match on a reused inode still means the owner is gone.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface Owner {
  /** The kernel's boot id (/proc/sys/kernel/random/boot_id): one per boot of one machine. */
  readonly boot: string;
  /** Inode of the PID namespace the pid belongs to (/proc/self/ns/pid), 0 where unknown. */
  readonly pidNamespace: number;
  readonly pid: number;
  /** Clock ticks since boot at which the process started (/proc/<pid>/stat), 0 where unknown. */
  readonly startTime: number;
  /** For people reading `meshproof clean`; never used to decide anything. */
  readonly host: string;
}

export type OwnerState =
  | { readonly state: 'alive'; readonly reason: string }
  | { readonly state: 'gone'; readonly reason: string }
  | { readonly state: 'unknown'; readonly reason: string };

/** What this process knows about where it runs; injectable for tests. */
export interface ProcessView {
  readonly self: Owner;
  /** True when /proc shows this process's own PID namespace (so /proc/<pid> means the pid we hold). */
  readonly procMatches: boolean;
  /** Does `pid` exist in this PID namespace? (kill(pid, 0): ESRCH means no; EPERM means yes.) */
  exists(pid: number): boolean;
  /** Start time of `pid` as /proc shows it, or 0. */
  startTimeOf(pid: number): number;
}

export function processStartTime(pid: number | 'self'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19] ?? 0); // field 22 overall
  } catch {
    return 0;
  }
}

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function readPidNamespace(): number {
  try {
    const match = /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** /proc/self/stat starts with the pid as /proc's namespace numbers it. */
function procShowsOwnNamespace(): boolean {
  try {
    return Number(readFileSync('/proc/self/stat', 'utf8').split(' ', 1)[0]) === process.pid;
  } catch {
    return false;
  }
}

export function currentOwner(): Owner {
  return { boot: readBootId(), pidNamespace: readPidNamespace(), pid: process.pid, startTime: processStartTime(process.pid), host: hostname() };
}

export function localProcessView(): ProcessView {
  return {
    self: currentOwner(),
    procMatches: procShowsOwnNamespace(),
    exists(pid) {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code !== 'ESRCH';
      }
    },
    startTimeOf: processStartTime,
  };
}

export function formatOwner(owner: Owner): string {
  return `boot=${owner.boot};pidns=${owner.pidNamespace};pid=${owner.pid};start=${owner.startTime};host=${owner.host}`;
}

/** The owner a label or owner file names, or undefined for anything else (an older meshproof's `host:pid:start` included). */
export function parseOwner(text: string | undefined): Owner | undefined {
  if (text === undefined) return undefined;
  const match = /^boot=([0-9a-f-]*);pidns=(\d+);pid=(\d+);start=(\d+);host=(.*)$/.exec(text.trim());
  if (match === null) return undefined;
  return { boot: match[1]!, pidNamespace: Number(match[2]), pid: Number(match[3]), startTime: Number(match[4]), host: match[5]! };
}

/**
 * Whether the owner is alive, gone, or cannot be known from here. Only `gone` allows removing
 * what the owner made.
 */
export function ownerState(owner: Owner | undefined, view: ProcessView = localProcessView()): OwnerState {
  if (owner === undefined) return { state: 'unknown', reason: 'no owner that this meshproof can read (an older version made it)' };
  const self = view.self;
  const who = `pid ${owner.pid} on ${owner.host}`;
  if (owner.boot === '' || self.boot === '' || owner.boot !== self.boot) return { state: 'unknown', reason: `${who} ran on another machine or boot: cannot be checked from here` };
  if (owner.pidNamespace === 0 || self.pidNamespace === 0 || owner.pidNamespace !== self.pidNamespace) {
    return { state: 'unknown', reason: `${who} is in another PID namespace (pid:[${owner.pidNamespace}]): cannot be checked from here` };
  }
  if (!view.exists(owner.pid)) return { state: 'gone', reason: `${who} has exited` };
  if (owner.startTime === 0 || !view.procMatches) return { state: 'alive', reason: `${who} answers` };
  const startTime = view.startTimeOf(owner.pid);
  if (startTime !== 0 && startTime !== owner.startTime) return { state: 'gone', reason: `${who} has exited (the pid now belongs to a later process)` };
  return { state: 'alive', reason: `${who} is running` };
}
