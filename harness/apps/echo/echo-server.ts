/**
 * The echo server: answers every request with what it saw, as JSON (an EchoReport), and keeps
 * the last reports so the harness can ask what reached the app at all.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { ECHO_HEADER } from '../../traffic/echo-report.ts';
import type { EchoReport } from '../../traffic/types.ts';

const KEEP_REPORTS = 2000;

export interface EchoServerOptions {
  readonly pod: string;
  readonly host: string;
  readonly port: number;
}

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
  #nextId = 1;

  constructor(options: EchoServerOptions) {
    this.#options = options;
    this.#server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const report = this.#report(request);
        const body = JSON.stringify(report);
        response.writeHead(200, { 'content-type': 'application/json', [ECHO_HEADER]: options.pod, 'content-length': Buffer.byteLength(body) });
        response.end(body);
      });
    });
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
