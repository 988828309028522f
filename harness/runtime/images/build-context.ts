/**
 * Build contexts for image recipes, and the content hash that names each image.
 *
 * A context is planned first (a list of files with their sources), hashed from that plan, and
 * written to disk only when no image with that hash exists. So a second run costs one hash of
 * the inputs, not a rebuild. The hash covers every byte that goes into the image: the Dockerfile,
 * each file's content and mode, and the base image's tag (itself a hash) as build argument.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { readSharedLibraries } from '../../util/ldd.ts';
import type { ImageRecipe } from './recipes.ts';

export type ContextFile =
  | { readonly path: string; readonly mode: number; readonly source: string }
  | { readonly path: string; readonly mode: number; readonly content: Uint8Array };

export interface ContextPlan {
  readonly recipe: ImageRecipe;
  readonly files: readonly ContextFile[];
  readonly buildArgs: Readonly<Record<string, string>>;
  /** sha256 of everything above, hex. */
  readonly hash: string;
}

/** Where a static tini may be found: Debian's tini-static, or the docker-init shipped with docker.io. */
const TINI_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/libexec/docker/docker-init', '/usr/local/bin/docker-init', '/usr/sbin/docker-init'];
const CA_CANDIDATES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

export interface PlanOptions {
  readonly projectRoot: string;
  /** Tag of the recipe's `from` image; required when recipe.from is set. */
  readonly baseTag?: string;
  /** The Node binary to put in the base image (default: the one running now). */
  readonly nodeBinary?: string;
  /** The host binary of a `hostBinary` recipe. */
  readonly hostBinary?: string;
}

export async function planContext(recipe: ImageRecipe, options: PlanOptions): Promise<ContextPlan> {
  const files: ContextFile[] = [{ path: 'Dockerfile', mode: 0o644, source: join(recipe.dir, 'Dockerfile') }];
  const buildArgs: Record<string, string> = {};
  if (recipe.from !== null) {
    if (options.baseTag === undefined) throw internal(`recipe ${recipe.name} needs the tag of '${recipe.from}'`);
    buildArgs['BASE_IMAGE'] = options.baseTag;
  }
  if (recipe.hostRootfs) files.push(...hostRootfs(options.nodeBinary ?? process.execPath));
  if (recipe.hostBinary !== undefined) {
    if (options.hostBinary === undefined) throw internal(`recipe ${recipe.name} packs a host binary, and none was named`);
    files.push(...binaryRootfs(options.hostBinary, recipe.hostBinary));
  }
  for (const bundle of recipe.bundles) {
    files.push({ path: `bundle/${bundle.out}`, mode: 0o644, content: await bundleEntry(join(options.projectRoot, bundle.entry)) });
  }
  return { recipe, files, buildArgs, hash: hashPlan(files, buildArgs) };
}

export function writeContext(plan: ContextPlan, dir: string): void {
  for (const file of plan.files) {
    const target = join(dir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    if ('source' in file) copyFileSync(file.source, target);
    else writeFileSync(target, file.content);
    chmodSync(target, file.mode);
  }
  if (plan.recipe.hostRootfs || plan.recipe.hostBinary !== undefined) {
    mkdirSync(join(dir, 'rootfs', 'tmp'), { recursive: true });
    chmodSync(join(dir, 'rootfs', 'tmp'), 0o1777);
  }
}

function hashPlan(files: readonly ContextFile[], buildArgs: Readonly<Record<string, string>>): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    hash.update(`${file.path}\0${file.mode.toString(8)}\0`);
    if ('source' in file) hashFileInto(hash, file.source);
    else hash.update(file.content);
    hash.update('\0');
  }
  for (const key of Object.keys(buildArgs).sort()) hash.update(`arg:${key}=${buildArgs[key]}\0`);
  return hash.digest('hex');
}

const fileHashCache = new Map<string, { size: number; mtimeMs: number; digest: string }>();

/** Hashes a file's content; large files (the Node binary) are hashed once per process. */
function hashFileInto(hash: ReturnType<typeof createHash>, path: string): void {
  const stat = statSync(path);
  const cached = fileHashCache.get(path);
  if (cached !== undefined && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) {
    hash.update(cached.digest);
    return;
  }
  const inner = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      inner.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const digest = inner.digest('hex');
  fileHashCache.set(path, { size: stat.size, mtimeMs: stat.mtimeMs, digest });
  hash.update(digest);
}

/**
 * A host binary at `target` in the image, with every shared library it links (per ldd) at its
 * host path, the dynamic loader, a static tini as PID 1 and a minimal /etc: enough to run it on
 * `scratch`, with no registry.
 */
export function binaryRootfs(binary: string, target: string): ContextFile[] {
  if (process.platform !== 'linux') {
    throw new MeshproofError(ErrorCode.ImageBuild, `images are made from host binaries only on Linux (this is ${process.platform})`, {
      hint: 'set MESHPROOF_BASE_IMAGE to an image that has /usr/local/bin/node (for example node:24-slim) where a registry is reachable',
    });
  }
  const real = realpathSync(binary);
  const files: ContextFile[] = [{ path: `rootfs${target}`, mode: 0o755, source: real }];
  const { libraries, loader } = readSharedLibraries(real);
  for (const library of loader === undefined ? libraries : [...libraries, loader]) {
    files.push({ path: `rootfs${library}`, mode: 0o755, source: realpathSync(library) });
  }
  const tini = TINI_CANDIDATES.find((candidate) => existsSync(candidate));
  if (tini === undefined) {
    throw new MeshproofError(ErrorCode.ImageBuild, `no static tini found (looked for ${TINI_CANDIDATES.join(', ')})`, {
      hint: 'install Debian\'s tini package (apt-get install tini) or docker.io, which ships docker-init',
    });
  }
  files.push({ path: 'rootfs/sbin/tini', mode: 0o755, source: tini });
  files.push({ path: 'rootfs/etc/passwd', mode: 0o644, content: Buffer.from('root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n') });
  files.push({ path: 'rootfs/etc/group', mode: 0o644, content: Buffer.from('root:x:0:\nnogroup:x:65534:\n') });
  return files;
}

/** The host's Node binary with every shared library it links (per ldd), tini, CA bundle, passwd. */
export function hostRootfs(nodeBinary: string): ContextFile[] {
  const files = binaryRootfs(nodeBinary, '/usr/local/bin/node');
  const ca = CA_CANDIDATES.find((candidate) => existsSync(candidate));
  if (ca !== undefined) files.push({ path: 'rootfs/etc/ssl/certs/ca-certificates.crt', mode: 0o644, source: ca });
  return files;
}

/**
 * Bundles one entry point and everything it imports into a single ESM file for Node.
 * CommonJS dependencies get a real `require` through createRequire.
 */
export async function bundleEntry(entry: string): Promise<Uint8Array> {
  if (!existsSync(entry)) throw internal(`bundle entry ${entry} does not exist`);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    write: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    banner: { js: "import { createRequire as __meshproofCreateRequire } from 'node:module'; const require = __meshproofCreateRequire(import.meta.url);" },
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw internal(`esbuild produced nothing for ${entry}`);
  return output.contents;
}

function internal(message: string): MeshproofError {
  return new MeshproofError(ErrorCode.ImageBuild, message);
}

/** Reads a small text file from the plan (for tests and diagnostics). */
export function readPlanFile(plan: ContextPlan, path: string): string | undefined {
  const file = plan.files.find((f) => f.path === path);
  if (file === undefined) return undefined;
  return 'source' in file ? readFileSync(file.source, 'utf8') : Buffer.from(file.content).toString('utf8');
}
