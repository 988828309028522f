/**
 * Durations as Istio and Go write them (`24h`, `90s`, `1h30m`, `500ms`), plus `d` for days.
 */
import { ErrorCode, MeshproofError } from '../errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in `text`; throws MESHPROOF_ERR_BAD_ARGUMENT naming `where` when it is not a positive duration. */
export function parseDuration(text: string, where: string): number {
  const trimmed = text.trim();
  const parts = /^((\d+(\.\d+)?)(ms|s|m|h|d))+$/.test(trimmed) ? [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)] : [];
  const total = parts.reduce((sum, part) => sum + Number(part[1]) * UNIT_MS[part[2]!]!, 0);
  if (parts.length === 0 || !(total > 0)) {
    throw new MeshproofError(ErrorCode.BadArgument, `${where}: '${text}' is not a duration`, {
      hint: 'write a positive number with a unit: ms, s, m, h or d (e.g. 90s, 1h, 1h30m, 24h)',
    });
  }
  return Math.round(total);
}

/** `1h30m`, `45s`, `250ms`: the shortest exact form, for messages and events. */
export function formatDuration(ms: number): string {
  if (ms < 1_000 || ms % 1_000 !== 0) return `${ms}ms`;
  let rest = ms / 1_000;
  let text = '';
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}
