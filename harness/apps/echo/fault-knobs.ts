/**
 * Per-request fault knobs of the echo app, read from the query string:
 *   ?codes=500:50,200:50   answer 500 half the time and 200 otherwise (seeded, weights need not sum to 100)
 *   ?delay=200ms           wait before answering (Go duration syntax, as Istio writes durations)
 * Latency is made here, in user space: the kernel has no netem.
 */
import { parseDuration as parseGoDuration } from '../../model/duration.ts';
import type { SeededRandom } from '../../util/seeded-random.ts';

export interface CodeWeight {
  readonly status: number;
  readonly weight: number;
}

export function parseCodes(text: string): CodeWeight[] {
  const weights = text.split(',').map((part) => {
    const match = /^\s*(\d{3})(?::(\d+))?\s*$/.exec(part);
    if (match === null) throw new RangeError(`codes: '${part}' is not <status>[:<weight>]`);
    return { status: Number(match[1]), weight: match[2] === undefined ? 1 : Number(match[2]) };
  });
  if (weights.every((w) => w.weight === 0)) throw new RangeError('codes: every weight is 0');
  return weights;
}

export function pickCode(weights: readonly CodeWeight[], random: SeededRandom): number {
  const total = weights.reduce((sum, w) => sum + w.weight, 0);
  let ticket = random.int(1, total);
  for (const w of weights) {
    ticket -= w.weight;
    if (ticket <= 0) return w.status;
  }
  return weights[weights.length - 1]!.status;
}

/** `200ms`, `1.5s` → milliseconds; a negative or malformed delay is refused. */
export function parseDelay(text: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined || ms < 0) throw new RangeError(`delay: '${text}' is not a duration like 200ms or 1s`);
  return ms;
}
