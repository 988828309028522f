/**
 * What a dynamically linked binary needs at run time, as `ldd` reports it: the shared libraries
 * and the dynamic loader. Used to copy a host binary (Node for the base image, a local Envoy)
 * into a container that has none of its libraries.
 */
import { execFileSync } from 'node:child_process';
import { ErrorCode, MeshproofError } from '../errors.ts';

export interface SharedLibraries {
  /** Absolute paths of the libraries, in ldd's order, loader excluded. */
  readonly libraries: readonly string[];
  /** The dynamic loader (`/lib64/ld-linux-x86-64.so.2`), or undefined for a static binary. */
  readonly loader: string | undefined;
}

export function parseLdd(output: string, binary = 'the binary'): SharedLibraries {
  if (/statically linked|not a dynamic executable/.test(output)) return { libraries: [], loader: undefined };
  const libraries: string[] = [];
  let loader: string | undefined;
  for (const line of output.split('\n')) {
    const missing = /^\s*(\S+) => not found/.exec(line);
    if (missing !== null) throw new MeshproofError(ErrorCode.RuntimeOperation, `${binary} needs ${missing[1]}, which this machine does not have`);
    const resolved = /=>\s+(\/\S+)/.exec(line)?.[1];
    if (resolved !== undefined && !libraries.includes(resolved)) libraries.push(resolved);
    const bare = /^\s*(\/\S+)\s+\(0x/.exec(line)?.[1];
    if (bare !== undefined) loader = bare;
  }
  return { libraries, loader };
}

export function readSharedLibraries(binary: string): SharedLibraries {
  try {
    return parseLdd(execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), binary);
  } catch (error) {
    if (error instanceof MeshproofError) throw error;
    const text = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(text)) return { libraries: [], loader: undefined };
    throw new MeshproofError(ErrorCode.RuntimeOperation, `ldd ${binary} failed: ${text.trim() || (error as Error).message}`, { cause: error, hint: 'install ldd (Debian: libc-bin)' });
  }
}
