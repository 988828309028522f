/**
 * The access log: one JSON line per request (HTTP) or connection (TCP, rejected connections), in
 * the AccessLogEntry shape, written to a file in the sidecar's folder (the harness reads it from
 * the host) and to stdout.
 *
 * A line is written synchronously before the last byte of the response goes out, so a caller
 * that has its response can read the line at once; no polling for the log is needed.
 *
 * As in Envoy, a failed TLS handshake writes no line (no filter chain ran a request); it shows in
 * the envoy_listener_ssl_* counters. A connection that matches no filter chain does (NR).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { AccessLogEntry } from '../../../traffic/types.ts';

export class AccessLog {
  readonly #fd: number | undefined;
  readonly #stdout: boolean;

  constructor(options: { readonly path?: string; readonly stdout: boolean }) {
    this.#fd = options.path === undefined ? undefined : openSync(options.path, 'a', 0o644);
    this.#stdout = options.stdout;
  }

  write(entry: AccessLogEntry): void {
    const line = `${JSON.stringify(entry)}\n`;
    if (this.#fd !== undefined) writeSync(this.#fd, line);
    if (this.#stdout) process.stdout.write(line);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
  }
}
