/**
 * The layering of harness/ (DESIGN.md, "Where things live") as data, and the check that the
 * imports keep to it: no module imports one on a higher layer, no two folders import each other,
 * the pairs kept apart on purpose (the oracle and the data plane, the two data planes) never
 * import each other at all, and the one istiod translation never imports the proxies that consume it. `npm test` runs it
 * (scripts/check-layers.ts); tests, their fixtures (testdata/, testing/) and generated files are
 * not rooms of the house and are not checked.
 *
 * Imports are read with es-module-lexer (static imports, re-exports and import() calls, never
 * one in a comment or a string), not with a regular expression. It lexes JavaScript, in which
 * TypeScript's `export type { … } from` is the one import-shaped form it does not know: that is
 * read as `export { … } from` (type-only imports are dependencies of the design all the same).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { init, parse } from 'es-module-lexer';

/** Each layer may import its own and those below it (index 0 is the ground). */
export const LAYERS: readonly (readonly string[])[] = [
  ['project-root.ts', 'errors.ts', 'events.ts', 'config'],
  ['spec'],
  ['util'],
  ['model', 'traffic'],
  ['oracle', 'runtime'],
  ['pki', 'apps'],
  ['wire', 'dataplane'],
  ['chaos', 'conformance'],
  ['mesh', 'change'],
  ['report'],
  ['run'],
  ['cli'],
  ['index.ts'],
];

/** Places that never import each other, either way, whatever their layers. */
export const APART: readonly (readonly [string, string, string])[] = [
  ['oracle', 'dataplane', 'the oracle and the data plane are two independent readings of Istio'],
  ['dataplane/envoy', 'dataplane/reference', 'the two data planes share only the istiod translation'],
];

/** Places that one other place may import but that never import it back. */
export const ONE_WAY: readonly (readonly [string, string, string])[] = [
  ['dataplane/istiod', 'dataplane/envoy', 'one istiod translation: the bootstrap writer consumes it'],
  ['dataplane/istiod', 'dataplane/reference', 'one istiod translation: the reference sidecar consumes it'],
];

export interface Import {
  /** Importing file, relative to harness/. */
  readonly from: string;
  /** Imported file, relative to harness/. */
  readonly to: string;
  readonly line: number;
}

/** The room a file of harness/ stands in: its top folder (or its name, at the top), and under dataplane/ the adapter folder too. */
export function placeOf(file: string): { readonly folder: string; readonly sub: string } {
  const parts = file.split('/');
  const folder = parts[0]!;
  const sub = folder === 'dataplane' && parts.length > 2 ? `dataplane/${parts[1]}` : folder;
  return { folder, sub };
}

const layerOf = (folder: string): number => LAYERS.findIndex((layer) => layer.includes(folder));

/** Every broken rule, one line each, `file:line: why`; empty when the imports keep to the layering. */
export function layeringProblems(imports: readonly Import[]): string[] {
  const problems: string[] = [];
  const between = new Map<string, Import>();
  for (const i of imports) {
    const a = placeOf(i.from);
    const b = placeOf(i.to);
    const hits = (p: { folder: string; sub: string }, name: string): boolean => p.folder === name || p.sub === name;
    for (const [x, y, why] of APART) {
      if ((hits(a, x) && hits(b, y)) || (hits(a, y) && hits(b, x))) problems.push(`harness/${i.from}:${i.line}: imports harness/${i.to}, but ${a.sub} and ${b.sub} are kept apart: ${why}`);
    }
    for (const [lower, user, why] of ONE_WAY) {
      if (hits(a, lower) && hits(b, user)) problems.push(`harness/${i.from}:${i.line}: imports harness/${i.to}, but ${lower} never imports ${user}: ${why}`);
    }
    if (a.folder === b.folder) continue;
    const la = layerOf(a.folder);
    const lb = layerOf(b.folder);
    if (la < 0) problems.push(`harness/${i.from}:${i.line}: ${a.folder} is on no layer of scripts/layers.ts (add it where DESIGN.md puts it)`);
    else if (lb < 0) problems.push(`harness/${i.from}:${i.line}: imports harness/${i.to}, and ${b.folder} is on no layer of scripts/layers.ts`);
    else if (lb > la) problems.push(`harness/${i.from}:${i.line}: imports harness/${i.to}, a layer above it (${a.folder} is on layer ${la}, ${b.folder} on ${lb})`);
    if (!between.has(`${a.folder}>${b.folder}`)) between.set(`${a.folder}>${b.folder}`, i);
  }
  for (const [key, i] of between) {
    const [x, y] = key.split('>') as [string, string];
    const back = between.get(`${y}>${x}`);
    if (back !== undefined && x < y) problems.push(`harness/${i.from}:${i.line} and harness/${back.from}:${back.line}: ${x} and ${y} import each other`);
  }
  return problems;
}

const NOT_ROOMS = /(^|\/)(testdata|testing)\/|\.test\.ts$|\.d\.ts$/;

/** The relative imports of every source file under `harnessDir` that lead to another file under it. */
export async function readImports(harnessDir: string): Promise<Import[]> {
  await init;
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) files.push(path);
    }
  };
  walk(harnessDir);
  const out: Import[] = [];
  for (const file of files) {
    const from = relative(harnessDir, file).split(sep).join('/');
    if (NOT_ROOMS.test(from)) continue;
    const text = readFileSync(file, 'utf8');
    // Same length, so positions stay those of the file.
    const js = text.replace(/\bexport(\s+)type(\s*)\{/g, (_m, a: string, b: string) => `export${a}${' '.repeat(4)}${b}{`);
    let found: ReturnType<typeof parse>[0];
    try {
      [found] = parse(js, file);
    } catch (error) {
      throw new Error(`${relative(process.cwd(), file)}: es-module-lexer could not read its imports: ${(error as Error).message}`);
    }
    for (const ref of found) {
      if (ref.n === undefined || !ref.n.startsWith('.')) continue;
      const target = normalize(join(dirname(file), ref.n));
      const to = relative(harnessDir, target).split(sep).join('/');
      if (to.startsWith('..')) continue;
      out.push({ from, to, line: text.slice(0, ref.s).split('\n').length });
    }
  }
  return out;
}
