/**
 * Image recipes: docker/<name>/Dockerfile plus docker/<name>/image.json, read and checked here.
 *
 * image.json:
 *   from        another recipe this one builds on (passed as build arg BASE_IMAGE), or null
 *   hostRootfs  true for the base image: its context is the host's Node.js and libraries
 *   bundles     TypeScript entry points bundled (esbuild) into bundle/<out> of the context
 *   command     the program to run; ContainerSpec.args are appended
 *   published   a published image the Dockerfile builds FROM (e.g. envoyproxy/envoy:v1.40.0): such a
 *               recipe can be built only where that image is present or can be pulled
 *   hostBinary  where a host binary goes in the image (e.g. /usr/local/bin/envoy): the caller names the
 *               binary (ContainerSpec.hostBinary); it is packed with every library ldd lists, the loader,
 *               a static tini and a minimal /etc, under rootfs/ of the context
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, MeshproofError } from '../../errors.ts';

export interface BundleSpec {
  /** Entry point, relative to the project root. */
  readonly entry: string;
  /** File name inside bundle/ of the build context. */
  readonly out: string;
}

export interface ImageRecipe {
  readonly name: string;
  readonly dir: string;
  readonly description: string;
  readonly from: string | null;
  readonly hostRootfs: boolean;
  readonly bundles: readonly BundleSpec[];
  readonly command: readonly string[];
  readonly published: string | undefined;
  readonly hostBinary: string | undefined;
}

export function recipesDir(projectRoot: string): string {
  return join(projectRoot, 'docker');
}

export function loadRecipes(projectRoot: string): ReadonlyMap<string, ImageRecipe> {
  const root = recipesDir(projectRoot);
  const recipes = new Map<string, ImageRecipe>();
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = join(root, entry.name, 'image.json');
    if (!existsSync(file)) continue;
    recipes.set(entry.name, parseRecipe(entry.name, join(root, entry.name), readFileSync(file, 'utf8'), file));
  }
  for (const recipe of recipes.values()) {
    if (recipe.from !== null && !recipes.has(recipe.from)) {
      throw invalid(join(recipe.dir, 'image.json'), 'from', `names recipe '${recipe.from}', which does not exist in docker/`);
    }
  }
  return recipes;
}

export function parseRecipe(name: string, dir: string, text: string, file: string): ImageRecipe {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(file, undefined, `is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null) throw invalid(file, undefined, 'must hold a JSON object');
  const r = raw as Record<string, unknown>;
  const from = r['from'] ?? null;
  if (from !== null && typeof from !== 'string') throw invalid(file, 'from', 'must be a recipe name or null');
  const bundles = r['bundles'] ?? [];
  if (!Array.isArray(bundles)) throw invalid(file, 'bundles', 'must be a list');
  const parsedBundles = bundles.map((b: unknown, i: number): BundleSpec => {
    const bundle = b as Record<string, unknown> | null;
    if (typeof bundle?.['entry'] !== 'string' || typeof bundle['out'] !== 'string') {
      throw invalid(file, `bundles[${i}]`, 'needs string fields entry and out');
    }
    if (!/^[\w.-]+$/.test(bundle['out'])) throw invalid(file, `bundles[${i}].out`, 'must be a plain file name');
    return { entry: bundle['entry'], out: bundle['out'] };
  });
  const command = r['command'] ?? [];
  if (!Array.isArray(command) || !command.every((c) => typeof c === 'string')) {
    throw invalid(file, 'command', 'must be a list of strings');
  }
  if (!existsSync(join(dir, 'Dockerfile'))) throw invalid(join(dir, 'Dockerfile'), undefined, 'is missing');
  return {
    name,
    dir,
    description: typeof r['description'] === 'string' ? r['description'] : '',
    from,
    hostRootfs: r['hostRootfs'] === true,
    bundles: parsedBundles,
    command,
    published: typeof r['published'] === 'string' ? r['published'] : undefined,
    hostBinary: hostBinaryTarget(r['hostBinary'], file),
  };
}

function hostBinaryTarget(value: unknown, file: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\/[\w./-]+$/.test(value) || value.includes('..')) throw invalid(file, 'hostBinary', 'must be an absolute path inside the image');
  return value;
}

function invalid(file: string, field: string | undefined, problem: string): MeshproofError {
  return new MeshproofError(ErrorCode.ImageBuild, `image recipe ${problem}`, {
    location: field === undefined ? { file } : { file, field },
  });
}
