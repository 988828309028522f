/**
 * Verdict rules: how the outcomes of an area's cases become the verdict on its promise, and how
 * a report becomes the process exit code. Pure functions, table-tested in verdict.test.ts.
 *
 * Per promise (area), first rule that applies:
 *   1. failure   some case failed: the mesh broke the promise.
 *   2. error     no case failed, but the harness could not finish some case (infrastructure):
 *                whether the promise holds is unknown.
 *   3. not-run   no case passed: there were no cases (or the suite file is missing), or every
 *                case was skipped or not supported. Nothing was proven either way.
 *   4. partial   some cases passed, the rest were skipped or not supported (each with its reason).
 *   5. success   every case passed.
 *
 * Exit code of a run, first rule that applies:
 *   1  a promise is broken (some verdict is `failure`) — even if other cases ended in error,
 *      because a broken promise is known for certain and is what the reader must act on;
 *   3  some verdict is `error`, or the run is incomplete (a suite file missing, a suite's setup
 *      failing outside any case): the run could not find out everything it was asked;
 *   0  otherwise: nothing broken, every case passed or was skipped with a reason.
 * (Exit code 2, bad input, is decided before a run starts and never comes from a report.)
 */
import { ExitCode } from '../errors.ts';
import { AREA_PROMISE, type Area } from '../spec/features.ts';
import type { CaseOutcome } from '../spec/outcome.ts';
import type { ConformanceReport, OutcomeCounts, PromiseVerdict, VerdictResult } from './schema.ts';

export const AREAS: readonly Area[] = ['mtls', 'authz', 'resilience'];

interface CountedCase {
  readonly shortName: string;
  readonly outcome: CaseOutcome;
}

export function countOutcomes(cases: readonly { readonly outcome: CaseOutcome }[]): OutcomeCounts {
  const counts = { passed: 0, failed: 0, skipped: 0, notSupported: 0, error: 0 };
  for (const { outcome } of cases) {
    if (outcome.status === 'not-supported') counts.notSupported += 1;
    else counts[outcome.status] += 1;
  }
  return counts;
}

export function verdictResult(counts: OutcomeCounts): VerdictResult {
  if (counts.failed > 0) return 'failure';
  if (counts.error > 0) return 'error';
  if (counts.passed === 0) return 'not-run';
  if (counts.skipped + counts.notSupported > 0) return 'partial';
  return 'success';
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function names(cases: readonly CountedCase[], status: CaseOutcome['status']): string {
  const matching = cases.filter((c) => c.outcome.status === status).map((c) => c.shortName);
  const shown = matching.slice(0, 3).join(', ');
  return matching.length > 3 ? `${shown} and ${matching.length - 3} more` : shown;
}

/**
 * The verdict on one area's promise. `notRunReason` explains an area with no cases (e.g. its
 * suite file is missing); it is used only when the area has no case at all.
 */
export function verdictFor(area: Area, cases: readonly CountedCase[], notRunReason?: string): PromiseVerdict {
  const counts = countOutcomes(cases);
  const result = verdictResult(counts);
  const total = cases.length;
  const unrun = counts.skipped + counts.notSupported;
  let summary: string;
  switch (result) {
    case 'failure':
      summary = `Broken: ${names(cases, 'failed')} failed (${counts.failed} of ${plural(total, 'case')})`;
      break;
    case 'error':
      summary = `Unknown: the harness could not finish ${names(cases, 'error')} (${counts.error} of ${plural(total, 'case')}); no case failed`;
      break;
    case 'not-run':
      summary = total === 0 ? `Not run: ${notRunReason ?? 'no case of this area ran'}` : `Not run: all ${plural(total, 'case')} skipped or not supported`;
      break;
    case 'partial':
      summary = `Holds for what ran: ${counts.passed} of ${plural(total, 'case')} passed; ${unrun} skipped or not supported`;
      break;
    case 'success':
      summary = `Holds: ${counts.passed} of ${plural(total, 'case')} passed`;
      break;
  }
  return { area, promise: AREA_PROMISE[area], result, summary, ...counts };
}

/** The process exit code for a finished run (see the rules at the top of this file). */
export function exitCodeForReport(report: Pick<ConformanceReport, 'verdicts'> & { readonly run: { readonly incomplete: readonly string[] } }): number {
  if (report.verdicts.some((v) => v.result === 'failure')) return ExitCode.ConformanceFailure;
  if (report.verdicts.some((v) => v.result === 'error') || report.run.incomplete.length > 0) return ExitCode.Infrastructure;
  return ExitCode.Ok;
}
