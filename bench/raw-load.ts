/**
 * A lean HTTP/1.1 load generator for the benchmarks: keep-alive connections over plain sockets,
 * one request in flight per connection, the same request bytes every time, and just enough
 * response parsing to know where a response ends (Content-Length or chunked) and its status.
 *
 * Why not undici here: on this 2-core machine the load generator shares the CPUs with the
 * processes it measures, and undici's full client spends about as much CPU per request as a
 * sidecar does. This one spends far less, so more of the machine goes to what is measured.
 * Every response is still read to its end and its status checked; a non-2xx counts as an error.
 */
import { connect, type Socket } from 'node:net';

export interface RawLoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly requestsPerSecond: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('\r\n0\r\n\r\n');

/** Where the response at the start of `buffer` ends, and its status; undefined while incomplete. */
export function responseEnd(buffer: Buffer): { readonly end: number; readonly status: number } | undefined {
  const headerEnd = buffer.indexOf(HEADER_END);
  if (headerEnd < 0) return undefined;
  const head = buffer.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length !== null) {
    const end = headerEnd + 4 + Number(length[1]);
    return buffer.length >= end ? { end, status } : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const at = buffer.indexOf(CHUNKED_END, headerEnd);
    // An empty chunked body ends right after the headers with "0\r\n\r\n".
    if (buffer.length >= headerEnd + 9 && buffer.toString('latin1', headerEnd + 4, headerEnd + 9) === '0\r\n\r\n') return { end: headerEnd + 9, status };
    return at < 0 ? undefined : { end: at + CHUNKED_END.length, status };
  }
  return { end: headerEnd + 4, status }; // no body (204/304 or a bodiless 200)
}

function runConnection(port: number, request: Buffer, until: number): Promise<{ requests: number; errors: number }> {
  return new Promise((resolve, reject) => {
    let requests = 0;
    let errors = 0;
    let pending: Buffer = Buffer.alloc(0);
    const socket: Socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const done = responseEnd(pending);
      if (done === undefined) return;
      pending = pending.subarray(done.end);
      requests += 1;
      if (done.status < 200 || done.status > 299) errors += 1;
      if (performance.now() < until) socket.write(request);
      else socket.end();
    });
    socket.once('error', reject);
    socket.once('close', () => resolve({ requests, errors }));
  });
}

/** Drives `connections` keep-alive connections at 127.0.0.1:port for `durationMs`. */
export async function rawLoad(port: number, request: string, connections: number, durationMs: number): Promise<RawLoadResult> {
  const bytes = Buffer.from(request, 'latin1');
  const start = performance.now();
  const results = await Promise.all(Array.from({ length: connections }, () => runConnection(port, bytes, start + durationMs)));
  const seconds = (performance.now() - start) / 1000;
  const requests = results.reduce((n, r) => n + r.requests, 0);
  return { requests, errors: results.reduce((n, r) => n + r.errors, 0), requestsPerSecond: requests / seconds };
}
