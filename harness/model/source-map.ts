/**
 * Maps a field path inside one YAML document back to its file, line and column.
 *
 * The `yaml` package keeps a range for every node; a LineCounter turns offsets into lines. When
 * a path does not exist in the document (a missing required field, say) the location falls back
 * to the nearest node that does exist, so the user still gets a line to look at.
 */
import { LineCounter, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { SourceLocation } from '../errors.ts';

export type FieldPath = readonly (string | number)[];

/** `spec.rules[0].to[1].operation.methods` for `['spec','rules',0,'to',1,'operation','methods']`. */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** Turns a JSON pointer (`/spec/rules/0`) into a path; numeric segments become numbers. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export class DocumentSource {
  readonly file: string;
  /** 1-based line offset added to every line: for YAML embedded in another file's string. */
  private readonly lineOffset: number;
  private readonly doc: Document;
  private readonly lines: LineCounter;

  constructor(file: string, doc: Document, lines: LineCounter, lineOffset = 0) {
    this.file = file;
    this.doc = doc;
    this.lines = lines;
    this.lineOffset = lineOffset;
  }

  /** Where `path` is; with `key: true`, where its key is (for "unknown field" problems). */
  locate(path: FieldPath, options: { key?: boolean } = {}): SourceLocation {
    let node: Node | null | undefined = this.doc.contents as Node | null;
    let keyNode: Node | undefined;
    let found = node ?? undefined;
    for (const part of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(part));
        if (pair === undefined) break;
        keyNode = pair.key as Node;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof part === 'number') {
        node = node.items[part] as Node | null;
      } else {
        break;
      }
      if (node === null || node === undefined) {
        found = keyNode ?? found;
        break;
      }
      found = node;
    }
    const target = options.key === true && keyNode !== undefined ? keyNode : found;
    const offset = target?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    const location: SourceLocation = { file: this.file, line: pos.line + this.lineOffset, column: pos.col };
    return path.length === 0 ? location : { ...location, field: formatFieldPath(path) };
  }

  /** The 1-based line of the start of this document. */
  get startLine(): number {
    const offset = this.doc.range?.[0] ?? 0;
    return this.lines.linePos(offset).line + this.lineOffset;
  }
}
