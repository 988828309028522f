/**
 * The files a sidecar reads, named as Istio's file-mounted certificates: `cert-chain.pem` (leaf,
 * then intermediates), `key.pem`, `root-cert.pem`.
 *
 * A rotation must never show a reader the new certificate with the old key. Renaming three files
 * one by one would (between two renames), so the files are laid out as Kubernetes lays out a
 * mounted secret (kubelet's AtomicWriter), which is what a real Istio sidecar with file-mounted
 * certs sees:
 *
 *   DIR/..2025_01_01_12_00_00.000_ab12cd/{cert-chain.pem,key.pem,root-cert.pem}   one version
 *   DIR/..data -> ..2025_01_01_12_00_00.000_ab12cd                                 current version
 *   DIR/cert-chain.pem -> ..data/cert-chain.pem   (and key.pem, root-cert.pem)
 *
 * A new version is written in full into its own folder, then `..data` is switched to it by writing
 * a temporary link and renaming it over `..data`, in the same directory: one atomic step. Readers
 * open DIR/cert-chain.pem etc. as usual. A watcher should watch DIR (a rename of `..data` is the
 * signal), not the file names, whose link targets never change. The version before the current one
 * is kept until the next rotation, so a reader that resolved `..data` just before a switch can
 * still open its files.
 */
import { lstat, mkdir, readFile, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CertificateBundleFields } from './certificate-bundle.ts';
import { writeAtomically } from '../util/write-atomically.ts';

export const WORKLOAD_FILES = {
  certChain: 'cert-chain.pem',
  key: 'key.pem',
  rootCert: 'root-cert.pem',
} as const;

const DATA_LINK = '..data';

/** Writes (or replaces) a workload's files in `dir`; `key.pem` has mode 0600, `dir` 0700 when created. */
export async function writeWorkloadFiles(dir: string, bundle: CertificateBundleFields, now: Date = new Date()): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const previous = await currentVersion(dir);
  const version = `..${now.toISOString().replace(/[-:T]/g, '_').replace('Z', '')}_${randomBytes(3).toString('hex')}`;
  const versionDir = join(dir, version);
  await mkdir(versionDir, { mode: 0o700 });
  await writeAtomically(join(versionDir, WORKLOAD_FILES.certChain), bundle.certChainPem, 0o644);
  await writeAtomically(join(versionDir, WORKLOAD_FILES.key), bundle.keyPem, 0o600);
  await writeAtomically(join(versionDir, WORKLOAD_FILES.rootCert), bundle.rootCertPem, 0o644);

  await replaceWithLink(join(dir, DATA_LINK), version);
  for (const name of Object.values(WORKLOAD_FILES)) {
    const target = `${DATA_LINK}/${name}`;
    const path = join(dir, name);
    if ((await linkTarget(path)) !== target) await replaceWithLink(path, target);
  }
  await removeOldVersions(dir, new Set([version, ...(previous === undefined ? [] : [previous])]));
}

/**
 * Reads one consistent version of a workload's files: resolves `..data` once and reads all three
 * files from that version, so the key always belongs to the certificate, even during a rotation.
 * (Reading DIR/cert-chain.pem and then DIR/key.pem can straddle a switch.) A directory written by
 * hand, without `..data`, is read as plain files.
 */
export async function readWorkloadFiles(dir: string): Promise<CertificateBundleFields> {
  for (let attempt = 1; ; attempt++) {
    const version = await currentVersion(dir);
    const base = version === undefined ? dir : join(dir, version);
    try {
      return {
        certChainPem: await readFile(join(base, WORKLOAD_FILES.certChain), 'utf8'),
        keyPem: await readFile(join(base, WORKLOAD_FILES.key), 'utf8'),
        rootCertPem: await readFile(join(base, WORKLOAD_FILES.rootCert), 'utf8'),
      };
    } catch (error) {
      // The version was removed under us (two rotations while reading): read the new one.
      if (version === undefined || (error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
    }
  }
}

async function replaceWithLink(path: string, target: string): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await symlink(target, temp);
  await rename(temp, path);
}

async function linkTarget(path: string): Promise<string | undefined> {
  try {
    return (await lstat(path)).isSymbolicLink() ? await readlink(path) : undefined;
  } catch {
    return undefined;
  }
}

async function currentVersion(dir: string): Promise<string | undefined> {
  return linkTarget(join(dir, DATA_LINK));
}

async function removeOldVersions(dir: string, keep: ReadonlySet<string>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name.startsWith('..') && entry.name !== DATA_LINK && !keep.has(entry.name)) {
      await rm(join(dir, entry.name), { recursive: true, force: true });
    }
  }
}
