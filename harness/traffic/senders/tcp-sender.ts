/** Raw TCP: connect, send the body, read until the peer closes (or the call times out). */
import { connect } from 'node:net';
import { classifyError } from '../classify-error.ts';
import type { CallRequest, Observation } from '../types.ts';
import { MAX_BODY_BYTES } from './http-sender.ts';

export function sendTcp(request: CallRequest, timeoutMs: number): Promise<Observation> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const socket = connect({ host: request.host, port: request.port });
    const finish = (result: Omit<Observation, 'request' | 'startedAt' | 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ request, startedAt, durationMs: Date.now() - startedAt, ...result });
    };
    const received = (): string => Buffer.concat(chunks).toString('utf8');
    const timer = setTimeout(() => {
      // Data then silence is an answer; silence from the start is a timeout.
      if (size > 0) finish({ outcome: 'connected', body: received() });
      else finish({ outcome: 'timeout', error: { code: 'ERR_MESHPROOF_CALL_TIMEOUT', message: `no bytes within ${timeoutMs} ms` } });
    }, timeoutMs);
    socket.once('connect', () => {
      if (request.body !== undefined) socket.write(request.body);
    });
    socket.on('data', (chunk: Buffer) => {
      if (size < MAX_BODY_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    socket.once('end', () => {
      // Closed with no bytes at all: a denied TCP connection (network RBAC) looks like this.
      if (size === 0) finish({ outcome: 'reset', error: { code: 'EOF', message: 'peer closed the connection without sending any bytes' } });
      else finish({ outcome: 'connected', body: received() });
    });
    // `on`, not `once`: Node emits one 'error' per socket today, but a listener removed after the
    // first would turn any later one into an uncaught exception; finish() ignores repeats.
    socket.on('error', (error) => {
      const failure = classifyError(error);
      if (size > 0 && failure.outcome === 'reset') finish({ outcome: 'connected', body: received() });
      else finish({ outcome: failure.outcome, error: { code: failure.code, message: failure.message } });
    });
  });
}
