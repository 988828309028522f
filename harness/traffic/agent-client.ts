/**
 * The harness's side of an echo app's control socket. The socket lives in the pod's private host
 * folder, so only the harness can reach it: no other pod can ask an agent to do anything.
 */
import { Client } from 'undici';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { assertSocketPathFits } from '../util/socket-path.ts';
import type { CallRequest, EchoMode, EchoReport, ForwardRequest, ForwardResponse, Observation } from './types.ts';

export const AGENT_SOCKET = 'agent.sock';

export interface AgentHealth {
  readonly pod: string;
  readonly echoPort: number;
}

export class AgentClient {
  readonly #client: Client;
  readonly #socketPath: string;
  readonly #timeoutMs: number;

  constructor(socketPath: string, timeoutMs: number) {
    assertSocketPathFits(socketPath);
    this.#socketPath = socketPath;
    this.#timeoutMs = timeoutMs;
    this.#client = new Client('http://agent', { socketPath, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  /** Has the agent make one call from inside its pod, and returns what it observed. */
  call(request: CallRequest): Promise<Observation> {
    return this.#json<Observation>('POST', '/call', request);
  }

  /** Many calls from inside the pod (through its sidecar, for an in-mesh client). */
  forward(request: ForwardRequest, timeoutMs: number = this.#timeoutMs): Promise<ForwardResponse> {
    return this.#json<ForwardResponse>('POST', '/forward', request, timeoutMs);
  }

  /** Switches the echo app's fault mode (fail, reset, hang, slow, normal). */
  setMode(mode: EchoMode): Promise<EchoMode> {
    return this.#json<EchoMode>('POST', '/mode', mode);
  }

  health(): Promise<AgentHealth> {
    return this.#json<AgentHealth>('GET', '/healthz');
  }

  /** Requests the echo app has received (newest last), or only those after a request id. */
  received(afterRequestId?: number): Promise<EchoReport[]> {
    return this.#json<EchoReport[]>('GET', afterRequestId === undefined ? '/received' : `/received?after=${afterRequestId}`);
  }

  /** The id of the last request the echo app received (0 before the first): mark it before a call, then ask received(mark). */
  async lastRequestId(): Promise<number> {
    return (await this.#json<{ requestId: number }>('GET', '/received/last')).requestId;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  async #json<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs: number = this.#timeoutMs): Promise<T> {
    try {
      const response = await this.#client.request({
        method,
        path,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`${method} ${path} answered ${response.statusCode}: ${text}`);
      return JSON.parse(text) as T;
    } catch (error) {
      throw new MeshproofError(ErrorCode.RuntimeOperation, `agent at ${this.#socketPath}: ${(error as Error).message}`, { cause: error });
    }
  }
}
