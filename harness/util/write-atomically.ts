/**
 * Writes a file so that a reader never sees it half-written: a temp file beside it, then rename.
 * The mode is set exactly (writeFile's mode passes through the umask). Used for the plug-in CA
 * files, workload certificates and sidecar configs, which running sidecars watch.
 * Its own module, so the sidecar bundle that writes nothing with X.509 does not load the PKI.
 */
import { randomBytes } from 'node:crypto';
import { chmod, rename, writeFile } from 'node:fs/promises';

export async function writeAtomically(path: string, content: string, mode = 0o644): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, content, { mode, flag: 'wx' });
  await chmod(temp, mode);
  await rename(temp, path);
}
