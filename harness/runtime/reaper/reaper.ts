/**
 * The reaper's server: listens on a Unix socket, holds its owner's one connection, and calls
 * `reap` when that connection ends without a `release`. It ends (resolving `done`) after a reap,
 * after a release, or when no owner connected within `connectTimeoutMs` (then nothing is removed:
 * the owner creates nothing before its connection is held).
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { BUSY, HELD, RELEASE, RELEASED } from './protocol.ts';

export type ReaperEnd = { readonly how: 'reaped'; readonly detail: unknown } | { readonly how: 'released' } | { readonly how: 'never-connected' };

export interface ReaperOptions<T> {
  readonly socketPath: string;
  readonly connectTimeoutMs: number;
  readonly reap: () => Promise<T>;
}

export class Reaper<T> {
  readonly done: Promise<ReaperEnd>;
  readonly #options: ReaperOptions<T>;
  readonly #server: Server;
  #finish!: (end: ReaperEnd) => void;
  #owner: Socket | undefined;
  #connectTimer: NodeJS.Timeout | undefined;

  constructor(options: ReaperOptions<T>) {
    this.#options = options;
    this.done = new Promise((resolve) => (this.#finish = resolve));
    this.#server = createServer((socket) => this.#onConnection(socket));
  }

  listen(): Promise<void> {
    rmSync(this.#options.socketPath, { force: true });
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.socketPath, () => {
        // The owner may run as another user than the container's root; the run folder (0700 on
        // the host) is what keeps other users out.
        chmodSync(this.#options.socketPath, 0o666);
        this.#connectTimer = setTimeout(() => this.#end({ how: 'never-connected' }), this.#options.connectTimeoutMs);
        resolve();
      });
    });
  }

  #onConnection(socket: Socket): void {
    if (this.#owner !== undefined) {
      socket.end(`${BUSY}\n`);
      return;
    }
    this.#owner = socket;
    clearTimeout(this.#connectTimer);
    let released = false;
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.split('\n').some((line) => line.trim() === RELEASE)) {
        released = true;
        socket.end(`${RELEASED}\n`);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (released) {
        this.#end({ how: 'released' });
        return;
      }
      void this.#options.reap().then(
        (detail) => this.#end({ how: 'reaped', detail }),
        (error: unknown) => this.#end({ how: 'reaped', detail: { error: String((error as Error)?.message ?? error) } }),
      );
    });
    socket.write(`${HELD}\n`);
  }

  #end(end: ReaperEnd): void {
    clearTimeout(this.#connectTimer);
    this.#server.close();
    rmSync(this.#options.socketPath, { force: true });
    this.#finish(end);
  }
}
