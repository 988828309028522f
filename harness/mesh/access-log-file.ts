/**
 * A proxy's JSON-lines access log, read from the host: its size now (a mark), and the entries
 * written after a mark. Lines that do not parse (a proxy's other output) are skipped.
 */
import { open, stat } from 'node:fs/promises';
import type { AccessLogEntry } from '../traffic/types.ts';

export async function logSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Complete lines written from byte `from` on. */
export async function entriesSince(path: string, from = 0): Promise<AccessLogEntry[]> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = (await handle.stat()).size;
    if (size <= from) return [];
    const buffer = Buffer.alloc(size - from);
    await handle.read(buffer, 0, buffer.length, from);
    const text = buffer.toString('utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    const entries: AccessLogEntry[] = [];
    for (const line of complete.split('\n')) {
      if (line.trim() === '') continue;
      try {
        entries.push(JSON.parse(line) as AccessLogEntry);
      } catch {
        // not an access-log line
      }
    }
    return entries;
  } finally {
    await handle.close();
  }
}
