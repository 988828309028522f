/**
 * Where run folders live on the host, and the room their Unix sockets need.
 *
 * Programs in a pod put control sockets in the pod's folder (admin.sock, agent.sock,
 * envoy-stats.sock), and the harness connects to them by host path. Linux's sockaddr_un holds
 * 108 bytes with the closing NUL, and a longer path does not connect at all: a proxy's admin
 * socket that cannot be reached would make checks fail for the wrong reason. So pod folders have
 * short fixed-length names (`<run folder>/pods/<n>/<a|s>`), and the run folder is checked before
 * anything starts: too long a folder is an infrastructure error that names the cause and the fix.
 */
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { UNIX_SOCKET_PATH_MAX } from '../../util/socket-path.ts';

export { UNIX_SOCKET_PATH_MAX };

/** Longest socket name a program may put in its pod folder. */
export const SOCKET_NAME_ROOM = 24;
/** `/pods/<up to 4 digits>/<a|s>/` below the run folder. */
const POD_DIR_ROOM = '/pods/0000/s/'.length;

export const RUNS_DIR_ENV = 'MESHPROOF_RUNS_DIR';
const FALLBACK_ROOT = '/tmp/meshproof-runs';

/** The longest run folder whose pod sockets still fit. */
export const RUN_DIR_MAX = UNIX_SOCKET_PATH_MAX - POD_DIR_ROOM - SOCKET_NAME_ROOM;

/** Longest run id the CLI makes or accepts (`mp-<date>-<time>-<hex>-user`). */
const RUN_ID_ROOM = 'mp-20260101-000000-0000-user'.length;

/**
 * Host folder holding one sub-folder per run: $MESHPROOF_RUNS_DIR, else `<tmpdir>/meshproof-runs`,
 * else (when a long TMPDIR leaves no room for socket paths) /tmp/meshproof-runs.
 */
export function runsRoot(env: NodeJS.ProcessEnv = process.env, tmp: string = tmpdir()): string {
  const configured = env[RUNS_DIR_ENV];
  if (configured !== undefined && configured !== '') return configured;
  const preferred = join(tmp, 'meshproof-runs');
  if (preferred.length + 1 + RUN_ID_ROOM <= RUN_DIR_MAX) return preferred;
  return existsSync('/tmp') && statSync('/tmp').isDirectory() ? FALLBACK_ROOT : preferred;
}

/** Throws MESHPROOF_ERR_SOCKET_PATH (infrastructure) when sockets below `runDir` could not be reached. */
export function checkSocketRoom(runDir: string): void {
  if (Buffer.byteLength(runDir) <= RUN_DIR_MAX) return;
  throw new MeshproofError(
    ErrorCode.SocketPath,
    `run folder ${runDir} is ${Buffer.byteLength(runDir)} bytes long: sockets below it would pass Linux's ${UNIX_SOCKET_PATH_MAX}-byte limit for Unix socket paths (a run folder may have ${RUN_DIR_MAX})`,
    { hint: `set ${RUNS_DIR_ENV} to a shorter folder, e.g. ${RUNS_DIR_ENV}=/tmp/mp` },
  );
}
