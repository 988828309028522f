/**
 * The one door to the Docker engine. Ryuk is turned off here (its image cannot be pulled
 * offline); the harness removes what it creates itself, by label.
 */
import { getContainerRuntimeClient, type ContainerRuntimeClient } from 'testcontainers';
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { withTimeout } from '../../util/with-timeout.ts';

process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';

export type DockerClient = ContainerRuntimeClient;

export const DOCKER_HOW_TO =
  'start a Docker engine: on Debian/Ubuntu as root run `sh scripts/setup.sh` (installs docker.io and starts dockerd); ' +
  'with systemd `sudo systemctl start docker`; on macOS start Docker Desktop or Colima; or point DOCKER_HOST at a running engine';

/**
 * Connects to the engine, failing fast (timeoutMs) with MESHPROOF_ERR_RUNTIME_UNAVAILABLE and the
 * way to get one, rather than hanging or surfacing a library's internal message.
 */
export async function connectDocker(timeoutMs: number): Promise<DockerClient> {
  try {
    return await withTimeout(getContainerRuntimeClient(), timeoutMs, 'connecting to the Docker engine', 'runtimeConnect');
  } catch (error) {
    throw runtimeUnavailable(error);
  }
}

export function runtimeUnavailable(cause: unknown): MeshproofError {
  const where = process.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new MeshproofError(ErrorCode.RuntimeUnavailable, `no Docker engine answers at ${where} (${detail})`, {
    hint: DOCKER_HOW_TO,
    cause,
  });
}

/** True for errors that mean the engine itself went away (as opposed to a bad request). */
export function isEngineGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET' || code === 'EPIPE';
}
