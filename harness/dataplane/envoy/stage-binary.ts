/**
 * A host Envoy binary (`MESHPROOF_ENVOY_BINARY`) made runnable in a container that has none of
 * its libraries: the binary, every shared library `ldd` resolves for it, and the dynamic loader
 * are copied into one folder, and the command runs the loader on the binary with that folder as
 * its only library path. A static binary is copied and run as is. The container is the offline
 * `base` image; the folder is the sidecar's private host folder, seen at /run/meshproof.
 */
import { copyFileSync, chmodSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readSharedLibraries } from '../../util/ldd.ts';

export interface StagingPlan {
  /** The argv that runs the binary, in paths as the container sees them. */
  readonly command: readonly string[];
  /** Host file → path relative to the staging folder. */
  readonly copies: readonly { readonly from: string; readonly to: string; readonly mode: number }[];
}

/** What to copy for `binary` and how to run it from `containerDir`; reads the binary, writes nothing. */
export function planStaging(binary: string, containerDir: string): StagingPlan {
  const { libraries, loader } = readSharedLibraries(binary);
  const name = basename(binary);
  const copies = [{ from: binary, to: name, mode: 0o755 }, ...libraries.map((lib) => ({ from: lib, to: `lib/${basename(lib)}`, mode: 0o644 }))];
  if (loader === undefined) return { command: [`${containerDir}/${name}`], copies };
  copies.push({ from: loader, to: `lib/${basename(loader)}`, mode: 0o755 });
  return { command: [`${containerDir}/lib/${basename(loader)}`, '--library-path', `${containerDir}/lib`, `${containerDir}/${name}`], copies };
}

/** Copies the plan's files into `hostDir` (the folder the container sees at the plan's containerDir). */
export function applyStaging(plan: StagingPlan, hostDir: string): string[] {
  mkdirSync(join(hostDir, 'lib'), { recursive: true });
  return plan.copies.map((c) => {
    const dest = join(hostDir, c.to);
    copyFileSync(c.from, dest);
    chmodSync(dest, c.mode);
    return dest;
  });
}
