/**
 * The user's intents (`--expect FILE`) held to both sides of a change. An intent BASE kept and HEAD
 * contradicts is a regression: the change breaks what the team meant (the diff exits 1). One both
 * sides contradict is older than the change and is reported, not held against it.
 */
import { checkIntents, type Intent, type IntentCheck } from '../conformance/intent-file.ts';
import type { ResolvedMesh } from '../model/resolve.ts';
import type { IntentChange, IntentVerdict } from './change-review.ts';

function verdictOf(base: IntentCheck, head: IntentCheck): IntentVerdict {
  if (base.verdict === 'unknown' || head.verdict === 'unknown') return 'unknown';
  if (base.verdict === 'agrees') return head.verdict === 'agrees' ? 'kept' : 'regressed';
  return head.verdict === 'agrees' ? 'fixed' : 'still-contradicted';
}

const VERB: Readonly<Record<string, string>> = { allow: 'allows', deny: 'denies', reject: 'rejects', 'not-supported': 'cannot decide' };
const MUST: Readonly<Record<string, string>> = { allow: 'allowed', deny: 'denied', reject: 'rejected' };

function say(verdict: IntentVerdict, b: IntentCheck, h: IntentCheck): string {
  switch (verdict) {
    case 'regressed':
      return `BASE kept it; HEAD ${VERB[h.actual]} it: ${h.decision.reason}`;
    case 'fixed':
      return `BASE ${VERB[b.actual]} it; HEAD keeps it`;
    case 'still-contradicted':
      return `both sides break it (older than this change): ${h.decision.reason}`;
    case 'kept':
      return 'both sides keep it';
    case 'unknown':
      return `cannot be decided statically: ${(b.verdict === 'unknown' ? b : h).decision.reason}`;
  }
}

export function intentChanges(base: ResolvedMesh, head: ResolvedMesh, intents: readonly Intent[]): IntentChange[] {
  const before = checkIntents(base, intents);
  const after = checkIntents(head, intents);
  return intents.map((intent, i) => {
    const b = before[i] as IntentCheck;
    const h = after[i] as IntentCheck;
    const verdict = verdictOf(b, h);
    const request = `${intent.method} ${intent.path} from ${intent.from} to ${intent.to}${intent.port === undefined ? '' : `:${intent.port}`}`;
    return {
      at: `${intent.location.file}${intent.location.line === undefined ? '' : `:${intent.location.line}`}`,
      request,
      expect: intent.expect,
      base: b.actual,
      head: h.actual,
      verdict,
      text: `${request} must be ${MUST[intent.expect]}: ${say(verdict, b, h)}`,
    };
  });
}
