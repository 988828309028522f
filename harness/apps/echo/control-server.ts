/**
 * The echo app's control socket: a Unix socket in the pod's private folder, reachable only by the
 * harness. It makes calls on the harness's behalf from inside the pod (the traffic agent) and
 * reports what the echo server received.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { call } from '../../traffic/caller.ts';
import { defaultTimeouts } from '../../config/timeouts.ts';
import type { CallRequest, EchoMode, ForwardRequest } from '../../traffic/types.ts';
import type { EchoServer } from './echo-server.ts';
import { parseCodes } from './fault-knobs.ts';
import { forward } from './forwarder.ts';

export interface ControlServerOptions {
  readonly pod: string;
  readonly socketPath: string;
  readonly echo: EchoServer;
  readonly echoPort: number;
}

type Handler = (body: unknown, query: URLSearchParams) => Promise<unknown> | unknown;

export class ControlServer {
  readonly #options: ControlServerOptions;
  readonly #server: Server;
  readonly #routes: Record<string, Handler>;

  constructor(options: ControlServerOptions) {
    this.#options = options;
    this.#routes = {
      'GET /healthz': () => ({ pod: options.pod, echoPort: options.echoPort }),
      'GET /received': (_body, query) => {
        const after = Number(query.get('after') ?? 0);
        if (!Number.isInteger(after) || after < 0) throw new RangeError('after must be a request id (a whole number)');
        return options.echo.received().filter((report) => report.requestId > after);
      },
      'GET /received/last': () => ({ requestId: options.echo.lastRequestId() }),
      'POST /call': async (body) => ({ ...(await call(body as CallRequest)), from: options.pod }),
      'POST /forward': (body) => forward(body as ForwardRequest, options.pod, defaultTimeouts.probe),
      'GET /mode': () => options.echo.mode,
      'POST /mode': (body) => {
        options.echo.setMode(parseMode(body));
        return options.echo.mode;
      },
    };
    this.#server = createServer((request, response) => void this.#handle(request, response));
  }

  listen(): Promise<void> {
    rmSync(this.#options.socketPath, { force: true });
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.socketPath, () => {
        // The harness may run as another user than the container's root.
        chmodSync(this.#options.socketPath, 0o666);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://agent');
    const route = this.#routes[`${request.method} ${url.pathname}`];
    try {
      if (route === undefined) return reply(response, 404, { error: `no route ${request.method} ${request.url}` });
      const text = await readBody(request);
      reply(response, 200, await route(text === '' ? undefined : JSON.parse(text), url.searchParams));
    } catch (error) {
      reply(response, error instanceof RangeError || error instanceof SyntaxError ? 400 : 500, { error: (error as Error).message });
    }
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function reply(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

const MODES = ['normal', 'fail', 'reset', 'hang', 'slow', 'mix'];

function parseMode(body: unknown): EchoMode {
  const mode = (body as { mode?: unknown } | undefined)?.mode;
  if (typeof mode !== 'string' || !MODES.includes(mode)) throw new RangeError(`mode must be one of ${MODES.join(', ')}`);
  if (mode === 'slow' && typeof (body as { delayMs?: unknown }).delayMs !== 'number') throw new RangeError('mode slow needs delayMs');
  if (mode === 'mix') parseCodes(String((body as { codes?: unknown }).codes ?? ''));
  return body as EchoMode;
}
