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

const SAY: Readonly<Record<IntentVerdict, string>> = {
  regressed: 'BASE kept it; HEAD breaks it',
  fixed: 'BASE broke it; HEAD keeps it',
  'still-contradicted': 'both sides break it (older than this change)',
  kept: 'both sides keep it',
  unknown: 'cannot be decided statically',
};

export function intentChanges(base: ResolvedMesh, head: ResolvedMesh, intents: readonly Intent[]): IntentChange[] {
  const before = checkIntents(base, intents);
  const after = checkIntents(head, intents);
  return intents.map((intent, i) => {
    const b = before[i] as IntentCheck;
    const h = after[i] as IntentCheck;
    const verdict = verdictOf(b, h);
    const request = `${intent.method} ${intent.path} from ${intent.from} to ${intent.to}${intent.port === undefined ? '' : `:${intent.port}`}`;
    const why = verdict === 'regressed' || verdict === 'still-contradicted' ? `: ${h.text}` : verdict === 'fixed' ? `: ${b.text}` : '';
    return {
      at: `${intent.location.file}${intent.location.line === undefined ? '' : `:${intent.location.line}`}`,
      request,
      expect: intent.expect,
      base: b.actual,
      head: h.actual,
      verdict,
      text: `${request} must be ${intent.expect === 'allow' ? 'allowed' : intent.expect === 'deny' ? 'denied' : 'rejected'}: ${SAY[verdict]}${why}`,
    };
  });
}
