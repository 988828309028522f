/**
 * Unknown-field detection for Istio resources, derived from the CRD schemas.
 *
 * @kubernetes-models/istio validates types, enums, required fields and bounds, but not unknown
 * fields: Kubernetes CRDs prune them instead of rejecting them, so its schemas carry no
 * `additionalProperties: false`. A typo such as `method:` for `methods:` would then silently widen
 * a rule. `kubectl apply` (strict field validation) rejects such a field, and so do we.
 *
 * The field tree is not hand-written: `generateKnownFields()` reads the package's own type
 * declarations (generated from Istio's CRDs) and keeps every property name by path. Its output is
 * committed as known-fields.gen.json; known-fields.test.ts fails when it drifts from the
 * installed package. Regenerate with:
 *   sh scripts/node.sh harness/model/schema/known-fields.ts --write
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A node of the field tree: property name → child; `*` stands for any key of a map. `1` is a leaf. */
export type FieldTree = { readonly [key: string]: FieldTree | 1 };

/** apiVersion/kind → the package file whose declarations describe it. */
export const DECLARATION_FILES: Readonly<Record<string, string>> = {
  'security.istio.io/v1/AuthorizationPolicy': '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy.d.ts',
  'security.istio.io/v1beta1/AuthorizationPolicy': '@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy.d.ts',
  'security.istio.io/v1/PeerAuthentication': '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication.d.ts',
  'security.istio.io/v1beta1/PeerAuthentication': '@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication.d.ts',
  'security.istio.io/v1/RequestAuthentication': '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication.d.ts',
  'security.istio.io/v1beta1/RequestAuthentication': '@kubernetes-models/istio/security.istio.io/v1beta1/RequestAuthentication.d.ts',
  'networking.istio.io/v1/DestinationRule': '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule.d.ts',
  'networking.istio.io/v1beta1/DestinationRule': '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule.d.ts',
  'networking.istio.io/v1alpha3/DestinationRule': '@kubernetes-models/istio/networking.istio.io/v1alpha3/DestinationRule.d.ts',
  'networking.istio.io/v1/VirtualService': '@kubernetes-models/istio/networking.istio.io/v1/VirtualService.d.ts',
  'networking.istio.io/v1beta1/VirtualService': '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService.d.ts',
  'networking.istio.io/v1alpha3/VirtualService': '@kubernetes-models/istio/networking.istio.io/v1alpha3/VirtualService.d.ts',
  'meta/v1/ObjectMeta': '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta.d.ts',
};

interface MutableTree {
  [key: string]: MutableTree;
}

/**
 * Extracts the property tree of the first interface in a declaration file. Object literals that
 * belong to the same property (oneOf variants, Exclude<…> helpers) merge into one node.
 */
export function extractFieldTree(source: string): FieldTree {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const start = text.indexOf('{', text.search(/export interface \w+/));
  const root: MutableTree = {};
  // Each frame: the node its object literal fills, and the property whose value is being read.
  const stack: { node: MutableTree; pending: string | undefined }[] = [{ node: root, pending: undefined }];
  const token = /"([^"]+)"\??\s*:|\[key: string\]\s*:|[{};]/g;
  token.lastIndex = start + 1;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    const frame = stack[stack.length - 1];
    if (frame === undefined) break;
    const t = m[0];
    if (m[1] !== undefined || t.startsWith('[key')) {
      const key = m[1] ?? '*';
      frame.node[key] ??= {};
      frame.pending = key;
    } else if (t === '{') {
      const child = frame.pending === undefined ? frame.node : (frame.node[frame.pending] ?? {});
      stack.push({ node: child, pending: undefined });
    } else if (t === '}') {
      stack.pop();
      if (stack.length === 0) break;
    } else if (t === ';') {
      frame.pending = undefined;
    }
  }
  return freeze(root);
}

function freeze(tree: MutableTree): FieldTree {
  const out: Record<string, FieldTree | 1> = {};
  for (const [key, child] of Object.entries(tree).sort(([a], [b]) => a.localeCompare(b))) {
    out[key] = Object.keys(child).length === 0 ? 1 : freeze(child);
  }
  return out;
}

/** Builds the committed JSON from the installed packages. */
export function generateKnownFields(): Record<string, FieldTree> {
  const require = createRequire(import.meta.url);
  const out: Record<string, FieldTree> = {};
  for (const [kind, file] of Object.entries(DECLARATION_FILES)) {
    const pkg = file.split('/').slice(0, 2).join('/');
    const pkgDir = dirname(require.resolve(`${pkg}/package.json`));
    const path = join(pkgDir, file.split('/').slice(2).join('/'));
    out[kind] = extractFieldTree(readFileSync(path, 'utf8'));
  }
  return out;
}

export const KNOWN_FIELDS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'known-fields.gen.json');

let cached: Record<string, FieldTree> | undefined;

export function knownFields(): Record<string, FieldTree> {
  cached ??= JSON.parse(readFileSync(KNOWN_FIELDS_FILE, 'utf8')) as Record<string, FieldTree>;
  return cached;
}

export interface UnknownField {
  readonly path: (string | number)[];
  readonly name: string;
  /** Known names at that place, for "did you mean". */
  readonly known: string[];
}

/** Every field of `data` that `tree` does not know, with its path. Arrays are walked item by item. */
export function findUnknownFields(data: unknown, tree: FieldTree, path: (string | number)[] = []): UnknownField[] {
  const out: UnknownField[] = [];
  if (Array.isArray(data)) {
    data.forEach((item, i) => out.push(...findUnknownFields(item, tree, [...path, i])));
    return out;
  }
  if (data === null || typeof data !== 'object') return out;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const child = tree[key] ?? tree['*'];
    if (child === undefined) {
      out.push({ path: [...path, key], name: key, known: Object.keys(tree).filter((k) => k !== '*') });
    } else if (child !== 1) {
      out.push(...findUnknownFields(value, child, [...path, key]));
    }
  }
  return out;
}

/** The known name closest to `name` (edit distance ≤ 3), if any. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

if (import.meta.main && process.argv.includes('--write')) {
  writeFileSync(KNOWN_FIELDS_FILE, `${JSON.stringify(generateKnownFields())}\n`);
  process.stdout.write(`wrote ${KNOWN_FIELDS_FILE}\n`);
}
