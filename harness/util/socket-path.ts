/**
 * Linux's limit on Unix socket paths. sockaddr_un holds 108 bytes with the closing NUL, and a
 * longer path fails to listen or connect (EINVAL): a control socket that cannot be reached would
 * make a check fail for a reason that has nothing to do with the mesh.
 */
import { ErrorCode, MeshproofError } from '../errors.ts';

/** Bytes of a Unix socket path Linux accepts, the closing NUL excluded. */
export const UNIX_SOCKET_PATH_MAX = 107;

/** Throws MESHPROOF_ERR_SOCKET_PATH (infrastructure, never a verdict) when `path` cannot be a Unix socket path. */
export function assertSocketPathFits(path: string, hint = 'set MESHPROOF_RUNS_DIR to a shorter folder, e.g. MESHPROOF_RUNS_DIR=/tmp/mp'): void {
  const bytes = Buffer.byteLength(path);
  if (bytes <= UNIX_SOCKET_PATH_MAX) return;
  throw new MeshproofError(ErrorCode.SocketPath, `Unix socket path ${path} is ${bytes} bytes long: past Linux's ${UNIX_SOCKET_PATH_MAX}-byte limit, it cannot be connected to`, { hint });
}
