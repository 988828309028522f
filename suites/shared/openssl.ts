/**
 * The host's own openssl, as the seed notes use it (`openssl s_client -showcerts`, `openssl
 * verify`): a client nobody in this project wrote, run against a pod's address.
 */
import { spawn } from 'node:child_process';
import { ErrorCode, MeshproofError, splitPemCertificates } from '../../harness/index.ts';

export interface OpensslResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `openssl <args>` with `input` on stdin (closed at once otherwise); never throws for a non-zero exit. */
export function openssl(args: readonly string[], timeoutMs: number, input = ''): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new MeshproofError(error.code === 'ENOENT' ? ErrorCode.RuntimeUnavailable : ErrorCode.RuntimeOperation, `openssl could not be run: ${error.message}`, { hint: 'install OpenSSL on the host (the plug-in CA case runs openssl s_client and openssl verify)' }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** The certificates `openssl s_client -showcerts` printed, in the order the server sent them. */
export function certificatesShown(output: string): string[] {
  return splitPemCertificates(output);
}
