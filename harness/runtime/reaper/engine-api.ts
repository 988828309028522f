/**
 * The few Docker Engine API calls the reaper makes, over the engine's Unix socket with node:http
 * (the reaper image holds one bundled file and no client library).
 */
import { request } from 'node:http';

export interface EngineObject {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** What the reaper needs from an engine; a fake stands in for it in unit tests. */
export interface ReapEngine {
  listContainers(label: string): Promise<EngineObject[]>;
  removeContainer(id: string): Promise<void>;
  listNetworks(label: string): Promise<EngineObject[]>;
  removeNetwork(id: string): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

export class SocketEngine implements ReapEngine {
  readonly #socketPath: string;
  readonly #timeoutMs: number;

  constructor(socketPath: string, timeoutMs = 30_000) {
    this.#socketPath = socketPath;
    this.#timeoutMs = timeoutMs;
  }

  async listContainers(label: string): Promise<EngineObject[]> {
    const list = await this.#json<{ Id: string; Names?: string[]; Labels?: Record<string, string> }[]>(`/containers/json?all=1&filters=${filter(label)}`);
    return list.map((c) => ({ id: c.Id, name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {} }));
  }

  async removeContainer(id: string): Promise<void> {
    await this.#expect('DELETE', `/containers/${encodeURIComponent(id)}?force=1&v=1`, [204, 404]);
  }

  async listNetworks(label: string): Promise<EngineObject[]> {
    const list = await this.#json<{ Id: string; Name: string; Labels?: Record<string, string> }[]>(`/networks?filters=${filter(label)}`);
    return list.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
  }

  async removeNetwork(id: string): Promise<void> {
    await this.#expect('DELETE', `/networks/${encodeURIComponent(id)}`, [204, 404]);
  }

  async #json<T>(path: string): Promise<T> {
    const answer = await this.#expect('GET', path, [200]);
    return JSON.parse(answer.body) as T;
  }

  async #expect(method: string, path: string, ok: readonly number[]): Promise<Answer> {
    const answer = await this.#call(method, path);
    if (!ok.includes(answer.status)) throw new Error(`${method} ${path.split('?')[0]} answered ${answer.status}: ${answer.body.trim()}`);
    return answer;
  }

  #call(method: string, path: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.#socketPath, method, path, headers: { host: 'docker' }, timeout: this.#timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path.split('?')[0]} took over ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}

function filter(label: string): string {
  return encodeURIComponent(JSON.stringify({ label: [label] }));
}
