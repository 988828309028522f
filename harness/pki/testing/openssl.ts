/**
 * Test support: the real `openssl` as an independent judge of certificates (never used by the
 * library itself). Needs /usr/bin/openssl (or `openssl` on PATH).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOpenssl } from '../openssl-cli.ts';

export interface VerifyInput {
  /** PEM of the trust anchors (`-CAfile`). */
  readonly trusted: string;
  /** PEM of the certificate to verify (its first certificate is the leaf). */
  readonly leaf: string;
  /** PEM of intermediates a peer presented (`-untrusted`). */
  readonly untrusted?: string;
  /** `-purpose sslclient|sslserver`: the checks a TLS peer makes of a client or server certificate. */
  readonly purpose?: 'sslclient' | 'sslserver';
  readonly x509Strict?: boolean;
}

export interface VerifyVerdict {
  readonly ok: boolean;
  /** OpenSSL's X509_V_ERR number, depth and text of the first error, when not ok. */
  readonly error?: { readonly code: number; readonly depth: number; readonly message: string };
  readonly output: string;
}

export async function opensslVerify(input: VerifyInput): Promise<VerifyVerdict> {
  const dir = await mkdtemp(join(tmpdir(), 'meshproof-openssl-'));
  try {
    const file = async (name: string, text: string): Promise<string> => {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    };
    const args = ['verify', '-CAfile', await file('trusted.pem', input.trusted)];
    if (input.untrusted !== undefined) args.push('-untrusted', await file('untrusted.pem', input.untrusted));
    if (input.purpose !== undefined) args.push('-purpose', input.purpose);
    if (input.x509Strict === true) args.push('-x509_strict');
    args.push(await file('leaf.pem', input.leaf));
    const result = await runOpenssl(args);
    if (result.code === null) throw new Error(`openssl verify did not end: ${result.stderr}`);
    const output = result.stdout + result.stderr;
    const ok = result.code === 0;
    const match = /error (\d+) at (\d+) depth lookup: ([^\n]+)/.exec(output);
    const verdict: VerifyVerdict = { ok: ok && /: OK\s*$/.test(output), output };
    return match === null ? verdict : { ...verdict, error: { code: Number(match[1]), depth: Number(match[2]), message: match[3]!.trim() } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs openssl with `args` in `cwd`; rejects with its output when it fails. */
export async function openssl(args: readonly string[], cwd: string): Promise<string> {
  const result = await runOpenssl(args, { cwd });
  const output = result.stdout + result.stderr;
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${result.code}: ${output}`);
  return output;
}
