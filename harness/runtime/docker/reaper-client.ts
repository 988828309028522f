/**
 * A run's side of its reaper (harness/runtime/reaper): starts the reaper container before the run
 * creates anything, and holds one Unix socket connection to it for the run's life.
 *
 * The kernel closes that connection when the run's process ends, however it ends (SIGKILL, a
 * crash, a CI job cancelled), and the reaper then removes the session's containers, networks and
 * run folder. That is the proof of death a pid cannot give on a shared engine: it holds across
 * PID namespaces, containers and host names. close() releases the reaper first, so a run that
 * ends normally removes its own objects and the reaper removes nothing.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { HELD, REAPER_ENV, REAPER_SOCKET, RELEASE, RELEASED } from '../reaper/protocol.ts';
import { ROLE_LABEL } from '../types.ts';
import { engineEndpoint } from './docker-connection.ts';
import { demuxLogs } from './demux-logs.ts';

/** Where the runs root is mounted in the reaper. */
const RUNS_IN_REAPER = '/runs';

export interface ReaperStartOptions {
  readonly docker: Dockerode;
  /** The reaper image's tag and command (built by ImageBuilder). */
  readonly image: string;
  readonly command: readonly string[];
  readonly name: string;
  readonly session: string;
  readonly runId: string;
  readonly runsRoot: string;
  /** The run's labels (run, owner, session); the reaper gets them plus role=reaper. */
  readonly labels: Readonly<Record<string, string>>;
  readonly ownerText: string;
  readonly readyTimeoutMs: number;
}

/** The engine's socket as the engine's host sees it: what the reaper mounts. */
export function engineSocketForReaper(env: NodeJS.ProcessEnv = process.env): string {
  return env['MESHPROOF_REAPER_DOCKER_SOCKET'] ?? engineEndpoint(env['DOCKER_HOST']).socketPath ?? '/var/run/docker.sock';
}

export class ReaperClient {
  readonly containerId: string;
  readonly #docker: Dockerode;
  readonly #socket: Socket;
  #lost = false;

  private constructor(docker: Dockerode, containerId: string, socket: Socket) {
    this.#docker = docker;
    this.containerId = containerId;
    this.#socket = socket;
    socket.on('close', () => {
      this.#lost = true;
    });
  }

  /** Starts the reaper and returns once it holds this process's connection. */
  static async start(options: ReaperStartOptions): Promise<ReaperClient> {
    const { docker } = options;
    const container = await docker.createContainer({
      name: options.name,
      Image: options.image,
      Cmd: [...options.command],
      Env: [
        `${REAPER_ENV.session}=${options.session}`,
        `${REAPER_ENV.runFolder}=${RUNS_IN_REAPER}/${options.runId}`,
        `${REAPER_ENV.owner}=${options.ownerText}`,
        `${REAPER_ENV.dockerSocket}=/var/run/docker.sock`,
        `${REAPER_ENV.connectTimeoutMs}=${Math.max(options.readyTimeoutMs * 2, 60_000)}`,
      ],
      Labels: { ...options.labels, [ROLE_LABEL]: 'reaper' },
      HostConfig: {
        AutoRemove: true,
        NetworkMode: 'none',
        Binds: [`${engineSocketForReaper()}:/var/run/docker.sock`, `${options.runsRoot}:${RUNS_IN_REAPER}`],
      },
    });
    try {
      await container.start();
      const socket = await holdConnection(join(options.runsRoot, options.runId, REAPER_SOCKET), options.readyTimeoutMs, async () => {
        const state = await container.inspect().then((i) => i.State, () => undefined);
        return state === undefined || !state.Running;
      });
      return new ReaperClient(docker, container.id, socket);
    } catch (error) {
      const logs = await container.logs({ stdout: true, stderr: true, tail: 20 }).then((b) => demuxLogs(b as unknown as Buffer).trim(), () => '');
      await container.remove({ force: true }).catch(() => undefined);
      throw new MeshproofError(ErrorCode.ContainerStart, `the run's reaper (${options.image}) did not take the run's connection: ${(error as Error).message}${logs === '' ? '' : `\n--- its output ---\n${logs}`}`, {
        cause: error,
        hint: `the reaper mounts the engine's socket ${engineSocketForReaper()} and the runs folder ${options.runsRoot}; set MESHPROOF_REAPER_DOCKER_SOCKET to the engine's socket path as the engine's host sees it`,
      });
    }
  }

  /** True once the reaper's end of the connection closed while the run was open. */
  get lost(): boolean {
    return this.#lost;
  }

  /**
   * Tells the reaper to remove nothing, and waits (bounded) until it has exited and the engine
   * removed it. Safe when the reaper is already gone.
   */
  async release(timeoutMs: number): Promise<void> {
    const deadline = AbortSignal.timeout(timeoutMs);
    if (!this.#lost) {
      await new Promise<void>((resolve) => {
        let buffer = '';
        const finish = (): void => {
          deadline.removeEventListener('abort', finish);
          this.#socket.destroy();
          resolve();
        };
        this.#socket.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          if (buffer.includes(`${RELEASED}\n`)) finish();
        });
        this.#socket.once('close', finish);
        deadline.addEventListener('abort', finish);
        // Held unref'd for the run's life; while waiting for the answer it must keep the process up.
        this.#socket.ref();
        this.#socket.write(`${RELEASE}\n`);
      });
    }
    // AutoRemove: the engine removes the reaper once it exits; wait for that, so nothing of the
    // run is listed after close() returns. A 404 means it is already gone.
    const container = this.#docker.getContainer(this.containerId);
    await Promise.race([
      container.wait({ condition: 'removed', abortSignal: deadline } as Dockerode.ContainerWaitOptions).catch(() => undefined),
      new Promise((resolve) => deadline.addEventListener('abort', resolve, { once: true })),
    ]);
    if (deadline.aborted) await container.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Connects to the reaper's socket until it answers `held`, polling while the reaper starts;
 * `gone()` says whether the reaper has stopped (then waiting longer is pointless).
 */
async function holdConnection(socketPath: string, timeoutMs: number, gone: () => Promise<boolean>): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  for (;;) {
    try {
      return await tryHold(socketPath, Math.max(100, deadline - Date.now()));
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`no 'held' from ${socketPath} within ${timeoutMs} ms (timeouts.containerReady): ${lastError}`);
    if (await gone()) throw new Error(`the reaper stopped before holding the connection (${lastError})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tryHold(socketPath: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buffer = '';
    const timer = setTimeout(() => fail(new Error('no answer in time')), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('closed before holding')));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (!buffer.includes('\n')) return;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      if (buffer.trim() !== HELD) {
        socket.destroy();
        reject(new Error(`answered '${buffer.trim()}'`));
        return;
      }
      // The run's process must be able to end with the connection open: the kernel then closes it.
      socket.on('error', () => undefined);
      socket.unref();
      resolve(socket);
    });
  });
}
