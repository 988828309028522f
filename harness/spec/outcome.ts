/**
 * The typed outcome of a case. Only `failed` says the mesh broke a promise; `error` says the
 * harness could not find out (Docker down, an image missing), and every skip carries its reason.
 */
import type { Feature } from './features.ts';

export type CaseOutcome =
  | { readonly status: 'passed' }
  | { readonly status: 'failed'; readonly message: string }
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'not-supported'; readonly features: readonly Feature[] }
  | {
      readonly status: 'error';
      readonly message: string;
      readonly code: string;
      /** What to do about it, from the error (`start a Docker engine: …`). */
      readonly hint?: string;
    };

export type OutcomeStatus = CaseOutcome['status'];

export const OUTCOME_STATUSES: readonly OutcomeStatus[] = ['passed', 'failed', 'skipped', 'not-supported', 'error'];

/** One line for people: `failed: GET /pay/1 from plaintext to payment: expected reset, got status 200`. */
export function describeOutcome(outcome: CaseOutcome): string {
  switch (outcome.status) {
    case 'passed':
      return 'passed';
    case 'failed':
      return `failed: ${outcome.message}`;
    case 'skipped':
      return `skipped: ${outcome.reason}`;
    case 'not-supported':
      return `not supported by this data plane: ${outcome.features.join(', ')}`;
    case 'error':
      return `infrastructure error (${outcome.code}): ${outcome.message}`;
  }
}
