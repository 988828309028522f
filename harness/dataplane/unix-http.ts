/**
 * GET over a Unix socket: how the harness reaches a proxy's admin or metrics endpoint in the
 * sidecar's private folder (other pods cannot reach it; the harness on the host can).
 */
import { Client } from 'undici';
import { assertSocketPathFits } from '../util/socket-path.ts';

export interface UnixGetResult {
  readonly status: number;
  readonly body: string;
}

export async function unixGet(socketPath: string, path: string, timeoutMs: number): Promise<UnixGetResult> {
  assertSocketPathFits(socketPath);
  const client = new Client('http://proxy-admin', { socketPath, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: timeoutMs });
  try {
    const response = await client.request({ method: 'GET', path, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.statusCode, body: await response.body.text() };
  } finally {
    await client.close().catch(() => undefined);
  }
}
