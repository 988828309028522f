/**
 * The one door to the Docker engine. Ryuk is turned off here (its image cannot be pulled
 * offline); the harness removes what it creates itself, by label.
 */
import { getContainerRuntimeClient, type ContainerRuntimeClient } from 'testcontainers';
import { Client } from 'undici';
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
    // testcontainers tries several places in turn and would quietly use /var/run/docker.sock when
    // DOCKER_HOST names an engine that is down; ask exactly the configured engine first.
    await withTimeout(pingEngine(engineEndpoint()), timeoutMs, 'pinging the Docker engine', 'runtimeConnect');
    return await withTimeout(getContainerRuntimeClient(), timeoutMs, 'connecting to the Docker engine', 'runtimeConnect');
  } catch (error) {
    throw runtimeUnavailable(error);
  }
}

export interface EngineEndpoint {
  /** What the user configured (or the default), for messages. */
  readonly display: string;
  readonly socketPath?: string;
  readonly origin: string;
  /** TLS-protected TCP engines are left to testcontainers (which reads DOCKER_CERT_PATH). */
  readonly skipPing: boolean;
}

export function engineEndpoint(dockerHost: string | undefined = process.env['DOCKER_HOST']): EngineEndpoint {
  const display = dockerHost ?? 'unix:///var/run/docker.sock';
  if (display.startsWith('unix://')) return { display, socketPath: display.slice('unix://'.length), origin: 'http://docker', skipPing: false };
  if (display.startsWith('tcp://')) {
    const tls = process.env['DOCKER_TLS_VERIFY'] !== undefined && process.env['DOCKER_TLS_VERIFY'] !== '';
    return { display, origin: `http://${display.slice('tcp://'.length)}`, skipPing: tls };
  }
  return { display, origin: 'http://docker', skipPing: true };
}

async function pingEngine(endpoint: EngineEndpoint): Promise<void> {
  if (endpoint.skipPing) return;
  const client = new Client(endpoint.origin, endpoint.socketPath === undefined ? {} : { socketPath: endpoint.socketPath });
  try {
    const response = await client.request({ method: 'GET', path: '/_ping' });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`/_ping answered ${response.statusCode}`);
  } finally {
    await client.destroy();
  }
}

export function runtimeUnavailable(cause: unknown): MeshproofError {
  const where = engineEndpoint().display;
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
