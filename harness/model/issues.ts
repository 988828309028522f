/**
 * Problems found while loading policy or topology files, each with where it is.
 *
 * Loading collects every problem instead of stopping at the first, so a user sees all of them
 * at once. `errors` make the input unusable (exit code 2); `warnings` are valid Istio that
 * meshproof or Istio itself ignores, and are worth knowing about.
 */
import { ErrorCode, MeshproofError, formatLocation, type SourceLocation } from '../errors.ts';

export type IssueSeverity = 'error' | 'warning';

export interface Issue {
  readonly severity: IssueSeverity;
  readonly message: string;
  readonly location: SourceLocation;
  /** What to do about it. */
  readonly hint?: string;
}

/** `file:line:column: field: message` (the same shape as MeshproofError.toString). */
export function formatIssue(issue: Issue): string {
  const hint = issue.hint === undefined ? '' : ` (${issue.hint})`;
  return `${issue.severity}: ${formatLocation(issue.location)}${issue.message}${hint}`;
}

export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

/**
 * Throws one MeshproofError (code PolicyInvalid, exit code 2) when `issues` has errors. Its
 * location is the first error's; its message lists every error, one per line.
 */
export function throwIfErrors(issues: readonly Issue[], what = 'policy files'): void {
  const errors = issues.filter((i) => i.severity === 'error');
  const first = errors[0];
  if (first === undefined) return;
  const rest = errors.slice(1).map((e) => `\n  ${formatIssue(e)}`).join('');
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''}:${rest})` : '';
  throw new MeshproofError(ErrorCode.PolicyInvalid, `${first.message}${more}`, {
    location: first.location,
    hint: first.hint ?? `fix the ${what} and run again; 'meshproof check-policies <dir>' lists every problem`,
  });
}
