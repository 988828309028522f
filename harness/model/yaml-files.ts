/**
 * Reads YAML files (one file, many, or every .yaml/.yml below a directory), each possibly with
 * several `---`-separated documents, keeping a DocumentSource per document for locations.
 */
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { ErrorCode, MeshproofError } from '../errors.ts';
import type { Issue } from './issues.ts';
import { DocumentSource } from './source-map.ts';

export interface YamlDocument {
  /** The document as plain JSON data (null for an empty document). */
  readonly data: unknown;
  readonly source: DocumentSource;
  /** Position in the whole load: file order, then document order (breaks DestinationRule and VirtualService creation-time ties). */
  readonly order: number;
}

export interface YamlReadResult {
  readonly documents: YamlDocument[];
  readonly issues: Issue[];
  /** The files read, in the order read. */
  readonly files: string[];
}

const YAML_FILE = /\.ya?ml$/i;

/**
 * Largest YAML file read. Kubernetes stores one object in at most 1.5 MiB (etcd's request limit);
 * a policy file is a few of them. Past this a file is refused before it is read, rather than
 * parsed for minutes with gigabytes of memory.
 */
export const MAX_YAML_FILE_BYTES = 2 * 1024 * 1024;

/**
 * Most alias references a document may resolve. A policy needs few or none; a 'billion laughs'
 * document nests aliases of aliases to expand a small file into gigabytes.
 */
export const MAX_YAML_ALIASES = 100;

function loopError(path: string, target: string): MeshproofError {
  return new MeshproofError(ErrorCode.FileNotFound, `a symlink loop: it leads back to ${target}`, {
    location: { file: path },
    hint: 'remove the link, or pass the folder it should point to',
  });
}

/**
 * Every .yaml/.yml file below `dir`, sorted. Symlinks are followed, but a link that leads back to a
 * folder being walked is an error (not 40 levels of the same files), and a file reached twice is read once.
 */
function walk(dir: string, ancestors: Set<string>, seen: Set<string>, out: string[]): void {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ELOOP') throw loopError(dir, dir);
    throw cause;
  }
  if (ancestors.has(real)) throw loopError(dir, real);
  ancestors.add(real);
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const target = statSync(path);
        isDir = target.isDirectory();
        isFile = target.isFile();
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ELOOP') throw loopError(path, path);
        if (!YAML_FILE.test(entry.name)) continue;
        throw new MeshproofError(ErrorCode.FileNotFound, `cannot read '${path}': the symlink points nowhere`, { cause, location: { file: path } });
      }
    }
    if (isDir) walk(path, ancestors, seen, out);
    else if (isFile && YAML_FILE.test(entry.name)) {
      const key = realpathSync(path);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(path);
    }
  }
  ancestors.delete(real);
}

/** Expands files and directories into a sorted list of YAML files (directories recursively). */
export function listYamlFiles(paths: readonly string[], options: { exclude?: (file: string) => boolean } = {}): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let stats;
    try {
      stats = statSync(path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ELOOP') throw loopError(path, path);
      throw new MeshproofError(ErrorCode.FileNotFound, `cannot read '${path}': no such file or directory`, {
        cause,
        location: { file: path },
        hint: 'pass a YAML file or a directory of YAML files',
      });
    }
    if (stats.isDirectory()) {
      const found: string[] = [];
      walk(path, new Set(), new Set(), found);
      const kept = found.sort().filter((file) => !(options.exclude?.(file) ?? false));
      if (kept.length === 0) {
        throw new MeshproofError(ErrorCode.FileNotFound, 'the folder holds no .yaml or .yml file', {
          location: { file: path },
          hint: 'pass the folder that holds your PeerAuthentication, AuthorizationPolicy, DestinationRule or VirtualService YAML',
        });
      }
      out.push(...kept);
    } else {
      out.push(path);
    }
  }
  return out;
}

/** Reads a user's YAML file, refusing one past MAX_YAML_FILE_BYTES before reading it. */
export function readYamlFileText(file: string, what = 'policy file'): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (cause) {
    throw new MeshproofError(ErrorCode.FileNotFound, `cannot read '${file}'`, { cause, location: { file } });
  }
  if (size > MAX_YAML_FILE_BYTES) {
    throw new MeshproofError(ErrorCode.PolicyInvalid, `${what} is ${(size / 1024 / 1024).toFixed(1)} MiB; meshproof reads at most ${MAX_YAML_FILE_BYTES / 1024 / 1024} MiB per file`, {
      location: { file },
      hint: 'Kubernetes stores an object in at most 1.5 MiB: split the file, or remove what is not Istio policy',
    });
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new MeshproofError(ErrorCode.FileNotFound, `cannot read '${file}'`, { cause, location: { file } });
  }
}

/**
 * A parsed document as plain data, or the issue that says why not: an alias expansion past
 * MAX_YAML_ALIASES is bad input at the document's line, not a crash.
 */
export function documentData(doc: Document, file: string, line: number): { data: unknown } | { issue: Issue } {
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown };
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      return {
        issue: {
          severity: 'error',
          message: `YAML aliases expand past ${MAX_YAML_ALIASES} references (a 'billion laughs' document); refused`,
          location: { file, line },
          hint: 'write the values out instead of nesting anchors and aliases',
        },
      };
    }
    throw error;
  }
}

/** A short name for messages: relative to the working directory when that is shorter. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}

/**
 * A file's text cut at its `---` document markers, each piece with the line it starts on (0-based),
 * so that each document is parsed on its own. YAML 1.2 ends a document at a `---` that starts a
 * line, inside any scalar, so the pieces parse as the whole does. Text with directives (`%`) or
 * document-end markers (`...`) is kept whole.
 */
export function splitDocuments(text: string): { readonly text: string; readonly line: number }[] {
  if (/^(%|\.\.\.(?=[ \t\r]|$))/m.test(text)) return [{ text, line: 0 }];
  const pieces: { text: string; line: number }[] = [];
  const marker = /^---(?=[ \t\r]|$)/gm;
  let start = 0;
  let line = 0;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    if (m.index === 0) continue;
    const piece = text.slice(start, m.index);
    pieces.push({ text: piece, line });
    line += countLines(piece);
    start = m.index;
  }
  pieces.push({ text: text.slice(start), line });
  return pieces;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

interface ParsedPiece {
  readonly docs: readonly Document[];
  readonly lines: LineCounter;
}

/**
 * Parses of document pieces, by their text. A parse is a pure function of the text and nothing
 * here changes a parsed Document, so one parse serves every file holding the same document:
 * `meshproof diff` reads two policy trees that mostly hold the same documents. Bounded by size.
 */
const parses = new Map<string, ParsedPiece>();
let parsedChars = 0;
const MAX_PARSED_CHARS = 32 * 1024 * 1024;

function parsePiece(text: string): ParsedPiece {
  const hit = parses.get(text);
  if (hit !== undefined) return hit;
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const piece = { docs: Array.isArray(docs) ? docs : [], lines };
  if (text.length <= MAX_PARSED_CHARS) {
    while (parsedChars + text.length > MAX_PARSED_CHARS) {
      const oldest = parses.keys().next().value as string;
      parses.delete(oldest);
      parsedChars -= oldest.length;
    }
    parses.set(text, piece);
    parsedChars += text.length;
  }
  return piece;
}

export function readYamlText(file: string, text: string, firstOrder = 0, lineOffset = 0): YamlReadResult {
  const documents: YamlDocument[] = [];
  const issues: Issue[] = [];
  let order = firstOrder;
  for (const piece of splitDocuments(text)) {
    const { docs, lines } = parsePiece(piece.text);
    const offset = lineOffset + piece.line;
    for (const doc of docs) {
      const source = new DocumentSource(file, doc, lines, offset);
      if (doc.errors.length > 0) {
        for (const error of doc.errors) {
          const pos = lines.linePos(error.pos[0]);
          issues.push({
            severity: 'error',
            message: `not valid YAML: ${error.message.split('\n')[0] ?? error.message}`,
            location: { file, line: pos.line + offset, column: pos.col },
          });
        }
        continue;
      }
      const read = documentData(doc, file, source.startLine);
      if ('issue' in read) {
        issues.push(read.issue);
        continue;
      }
      const data = read.data;
      if (data === null || data === undefined) continue;
      documents.push({ data, source, order: order++ });
    }
  }
  return { documents, issues, files: [file] };
}

/** Reads every document of every file; unreadable files throw, bad YAML becomes issues. */
export function readYamlFiles(paths: readonly string[], options: { exclude?: (file: string) => boolean } = {}): YamlReadResult {
  const files = listYamlFiles(paths, options);
  const documents: YamlDocument[] = [];
  const issues: Issue[] = [];
  for (const file of files) {
    const text = readYamlFileText(file);
    const result = readYamlText(displayPath(file), text, documents.length);
    documents.push(...result.documents);
    issues.push(...result.issues);
  }
  return { documents, issues, files };
}
