/**
 * The host's own `openssl`, run as a judge nobody in this project wrote: the plug-in CA case's
 * `openssl s_client -showcerts` and `openssl verify` (as the seed notes use them), and the tests
 * that check meshproof's certificates with it. The one wrapper: every caller goes through it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ErrorCode, MeshproofError } from '../errors.ts';

export const OPENSSL = existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';

export interface OpensslResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface OpensslOptions {
  /** Killed (SIGKILL) after this long; its result then has code null. Default 30 s. */
  readonly timeoutMs?: number;
  /** Written to its stdin, which is then closed (closed at once by default: s_client then ends). */
  readonly input?: string;
  readonly cwd?: string;
}

/** Runs `openssl <args>`; never throws for a non-zero exit (read `code`), only when openssl cannot be run at all. */
export function runOpenssl(args: readonly string[], options: OpensslOptions = {}): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(OPENSSL, [...args], { stdio: ['pipe', 'pipe', 'pipe'], ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new MeshproofError(error.code === 'ENOENT' ? ErrorCode.RuntimeUnavailable : ErrorCode.RuntimeOperation, `openssl could not be run: ${error.message}`, { hint: 'install OpenSSL on the host (apt-get install -y openssl): the plug-in CA case runs openssl s_client and openssl verify' }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // openssl may exit before reading its input
    child.stdin.end(options.input ?? '');
  });
}
