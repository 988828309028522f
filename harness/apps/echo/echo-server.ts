/**
 * The echo server: answers every request with what it saw, as JSON (an EchoReport), and keeps
 * the last reports so the harness can ask what reached the app at all.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ECHO_HEADER } from '../../traffic/echo-report.ts';
import type { EchoMode, EchoReport } from '../../traffic/types.ts';
import { SeededRandom } from '../../util/seeded-random.ts';
import { parseCodes, parseDelay, pickCode } from './fault-knobs.ts';

const KEEP_REPORTS = 2000;
const NO_QUERY = new URLSearchParams();

export interface EchoServerOptions {
  readonly pod: string;
  readonly host: string;
  readonly port: number;
  /** Seeds the ?codes= mix; the same seed and request order give the same codes. */
  readonly seed?: number;
}

/** The body of an answer the app fails on purpose (mode fail, or ?codes=). */
export const FAILING_BODY = 'meshproof echo: failing on purpose';

/** The URI in an Envoy x-forwarded-client-cert header (`By=…;Hash=…;URI=spiffe://…`), last element. */
export function peerIdentityFromXfcc(xfcc: string | undefined): string | undefined {
  if (xfcc === undefined) return undefined;
  const elements = xfcc.split(',');
  const last = elements[elements.length - 1] ?? '';
  const uri = /(?:^|;)URI=("?)([^;"]*)\1/.exec(last);
  return uri?.[2] || undefined;
}

export class EchoServer {
  readonly #options: EchoServerOptions;
  readonly #server: Server;
  readonly #reports: EchoReport[] = [];
  readonly #random: SeededRandom;
  #mode: EchoMode = { mode: 'normal' };
  #nextId = 1;

  constructor(options: EchoServerOptions) {
    this.#options = options;
    this.#random = new SeededRandom(options.seed ?? 1).fork(options.pod);
    this.#server = createServer((request, response) => {
      request.resume();
      request.on('end', () => void this.#answer(request, response));
    });
  }

  get mode(): EchoMode {
    return this.#mode;
  }

  setMode(mode: EchoMode): void {
    this.#mode = mode;
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The app saw the request whatever it then does with it: record first.
    const report = this.#report(request);
    const mode = this.#mode;
    if (mode.mode === 'reset') {
      request.socket.resetAndDestroy();
      return;
    }
    if (mode.mode === 'hang') return;
    // Most requests carry no query: skip the URL parser for them (it shows in the sidecar benchmark, where the echo shares the CPUs).
    const url = request.url ?? '/';
    const query = url.includes('?') ? new URL(url, 'http://echo').searchParams : NO_QUERY;
    let status = mode.mode === 'fail' ? (mode.status ?? 503) : 200;
    let delayMs = mode.mode === 'slow' ? mode.delayMs : 0;
    try {
      const codes = mode.mode === 'mix' ? mode.codes : query.get('codes');
      if (codes !== null && mode.mode !== 'fail') status = pickCode(parseCodes(codes), this.#random);
      const delay = query.get('delay');
      if (delay !== null) delayMs += parseDelay(delay);
    } catch (error) {
      return send(response, 400, (error as Error).message, this.#options.pod);
    }
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (response.destroyed) return;
    if (status !== 200) return send(response, status, FAILING_BODY, this.#options.pod);
    const body = JSON.stringify(report);
    response.writeHead(200, { 'content-type': 'application/json', [ECHO_HEADER]: this.#options.pod, 'content-length': Buffer.byteLength(body) });
    response.end(body);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => resolve());
    });
  }

  /** The port it listens on (useful with port 0). */
  port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : this.#options.port;
  }

  /** The id of the last request received, 0 before the first. */
  lastRequestId(): number {
    return this.#nextId - 1;
  }

  received(): readonly EchoReport[] {
    return this.#reports;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.closeAllConnections();
      this.#server.close(() => resolve());
    });
  }

  #report(request: IncomingMessage): EchoReport {
    const headers: Record<string, string> = {};
    // Node folds repeated headers; Envoy merges them with commas before matching, as here.
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const peerIdentity = peerIdentityFromXfcc(headers['x-forwarded-client-cert']);
    const report: EchoReport = {
      pod: this.#options.pod,
      method: request.method ?? '',
      path: request.url ?? '',
      headers,
      ...(peerIdentity === undefined ? {} : { peerIdentity }),
      protocol: `HTTP/${request.httpVersion}`,
      requestId: this.#nextId++,
    };
    this.#reports.push(report);
    if (this.#reports.length > KEEP_REPORTS) this.#reports.splice(0, this.#reports.length - KEEP_REPORTS);
    return report;
  }
}

function send(response: ServerResponse, status: number, text: string, pod: string): void {
  // Failing answers name the pod too (so a check can tell which replica failed), but they are
  // not echo reports: ECHO_HEADER is absent and a check for "allowed" cannot mistake them.
  response.writeHead(status, { 'content-type': 'text/plain', 'x-meshproof-pod': pod, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
