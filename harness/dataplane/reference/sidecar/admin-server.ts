/**
 * The admin interface, shaped after Envoy's: `/ready`, `/stats/prometheus`, `/config_dump`,
 * `/certs`, `/server_info`, `/clusters` (text, or JSON with `?format=json`). It listens on a Unix socket in the sidecar's private folder (only the
 * harness can reach it) and optionally on 127.0.0.1:15000 inside the pod, never on the pod address.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

export interface AdminSources {
  readonly ready: () => boolean;
  readonly metrics: () => Promise<string>;
  readonly configDump: () => unknown;
  readonly certs: () => unknown;
  readonly serverInfo: () => unknown;
  readonly clusters: (format: 'text' | 'json') => string | unknown;
}

export class AdminServer {
  readonly #servers: Server[] = [];
  readonly #sources: AdminSources;

  constructor(sources: AdminSources) {
    this.#sources = sources;
  }

  async listen(socketPath: string, tcp?: { readonly port: number; readonly address: string }): Promise<void> {
    rmSync(socketPath, { force: true });
    await this.#listen((server, done) => server.listen(socketPath, done));
    // The harness may run as another user than the container's root.
    chmodSync(socketPath, 0o666);
    if (tcp !== undefined) await this.#listen((server, done) => server.listen(tcp.port, tcp.address, done));
  }

  #listen(start: (server: Server, done: () => void) => void): Promise<void> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://admin');
      void this.#answer(req.method ?? 'GET', url.pathname, url.searchParams).then(
        ([status, type, body]) => {
          res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        },
      );
    });
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      start(server, () => resolve());
    });
  }

  async #answer(method: string, path: string, query: URLSearchParams): Promise<[number, string, string]> {
    const json = (value: unknown): [number, string, string] => [200, 'application/json', `${JSON.stringify(value, null, 2)}\n`];
    if (method !== 'GET') return [405, 'text/plain', 'admin accepts GET only\n'];
    switch (path) {
      case '/ready':
        return this.#sources.ready() ? [200, 'text/plain', 'LIVE\n'] : [503, 'text/plain', 'PRE_INITIALIZING\n'];
      case '/stats/prometheus':
        return [200, 'text/plain; version=0.0.4; charset=utf-8', await this.#sources.metrics()];
      case '/config_dump':
        return json(this.#sources.configDump());
      case '/certs':
        return json(this.#sources.certs());
      case '/server_info':
        return json(this.#sources.serverInfo());
      case '/clusters':
        return query.get('format') === 'json' ? json(this.#sources.clusters('json')) : [200, 'text/plain', String(this.#sources.clusters('text'))];
      default:
        return [404, 'text/plain', `no admin endpoint ${path}; try /ready, /stats/prometheus, /config_dump, /certs, /server_info, /clusters\n`];
    }
  }

  close(): Promise<void> {
    return Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined);
  }
}
