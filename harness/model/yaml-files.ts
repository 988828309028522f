/**
 * Reads YAML files (one file, many, or every .yaml/.yml below a directory), each possibly with
 * several `---`-separated documents, keeping a DocumentSource per document for locations.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
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

/** Expands files and directories into a sorted list of YAML files (directories recursively). */
export function listYamlFiles(paths: readonly string[], options: { exclude?: (file: string) => boolean } = {}): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let stats;
    try {
      stats = statSync(path);
    } catch (cause) {
      throw new MeshproofError(ErrorCode.FileNotFound, `cannot read '${path}': no such file or directory`, {
        cause,
        location: { file: path },
        hint: 'pass a YAML file or a directory of YAML files',
      });
    }
    if (stats.isDirectory()) {
      const entries = readdirSync(path, { recursive: true, encoding: 'utf8' })
        .filter((name) => YAML_FILE.test(name))
        .map((name) => join(path, name))
        .filter((file) => statSync(file).isFile())
        .sort();
      out.push(...entries.filter((file) => !(options.exclude?.(file) ?? false)));
    } else {
      out.push(path);
    }
  }
  return out;
}

/** A short name for messages: relative to the working directory when that is shorter. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}

export function readYamlText(file: string, text: string, firstOrder = 0, lineOffset = 0): YamlReadResult {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const documents: YamlDocument[] = [];
  const issues: Issue[] = [];
  const list = Array.isArray(docs) ? docs : [];
  let order = firstOrder;
  for (const doc of list) {
    const source = new DocumentSource(file, doc, lines, lineOffset);
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const pos = lines.linePos(error.pos[0]);
        issues.push({
          severity: 'error',
          message: `not valid YAML: ${error.message.split('\n')[0] ?? error.message}`,
          location: { file, line: pos.line + lineOffset, column: pos.col },
        });
      }
      continue;
    }
    const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (data === null || data === undefined) continue;
    documents.push({ data, source, order: order++ });
  }
  return { documents, issues, files: [file] };
}

/** Reads every document of every file; unreadable files throw, bad YAML becomes issues. */
export function readYamlFiles(paths: readonly string[], options: { exclude?: (file: string) => boolean } = {}): YamlReadResult {
  const files = listYamlFiles(paths, options);
  const documents: YamlDocument[] = [];
  const issues: Issue[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new MeshproofError(ErrorCode.FileNotFound, `cannot read '${file}'`, { cause, location: { file } });
    }
    const result = readYamlText(displayPath(file), text, documents.length);
    documents.push(...result.documents);
    issues.push(...result.issues);
  }
  return { documents, issues, files };
}
