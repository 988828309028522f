/**
 * Checks, before a run starts anything, that the report can be written where it is asked for:
 * `<dir>/<run id>/` and `<dir>/latest/`. Found only after the run, a bad report folder cost the
 * whole run and surfaced as "mocha process ended with code 13"; a folder in /proc made the run spin.
 */
import { accessSync, constants, mkdirSync, rmdirSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ErrorCode, MeshproofError } from '../errors.ts';

/** File systems that hold no files, only the kernel's views (statfs f_type). */
const PSEUDO_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x73636673, 'securityfs'],
  [0x64626720, 'debugfs'],
  [0xcafe4a11, 'bpf'],
  [0x6e736673, 'nsfs'],
]);

/** The folder itself or its nearest ancestor that exists. */
function nearestExisting(path: string): string {
  let current = path;
  for (;;) {
    try {
      statSync(current);
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/**
 * Throws MESHPROOF_ERR_BAD_ARGUMENT (exit 2) with the reason when reports cannot be written below
 * `dir`: it is a file, it is on a kernel pseudo file system (/proc, /sys, …), or its file system is
 * read-only or closed to this user. Creates `dir` when it is missing (as the run would).
 */
export function checkReportDir(dir: string, flag = '--report'): void {
  const path = resolve(dir);
  const fail = (why: string, hint = `pass ${flag} a folder you can write, e.g. ${flag} reports`): MeshproofError =>
    new MeshproofError(ErrorCode.BadArgument, `${flag} ${dir}: ${why}`, { hint });
  const existing = nearestExisting(path);
  const stats = statSync(existing);
  if (!stats.isDirectory()) throw fail(existing === path ? 'is a file, not a folder' : `${existing} is a file, not a folder`);
  const pseudo = PSEUDO_FILE_SYSTEMS.get(Number(statfsSync(existing).type));
  if (pseudo !== undefined) throw fail(`${existing} is on the kernel's ${pseudo} file system, which holds no files`);
  // access() passes on a read-only mount for root; a folder created and removed tells the truth.
  const probe = (folder: string): void => {
    accessSync(folder, constants.W_OK | constants.X_OK);
    const probeDir = resolve(folder, `.meshproof-write-check-${process.pid}`);
    mkdirSync(probeDir);
    rmdirSync(probeDir);
  };
  try {
    probe(existing);
    if (existing !== path) {
      mkdirSync(path, { recursive: true });
      probe(path);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : code === 'EACCES' || code === 'EPERM' ? 'cannot be written by this user' : `cannot be written (${(error as Error).message})`;
    throw fail(why);
  }
}
