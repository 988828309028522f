/**
 * The one place where a failed check becomes a test failure, with the call's context:
 * `GET /pay/1 from plaintext-client to payment-service:8080: expected reset, got status 200`.
 */
import type { Check } from './checks.ts';
import type { CallEvidence } from '../traffic/evidence.ts';

export class CheckFailure extends Error {
  readonly evidence: CallEvidence;

  constructor(evidence: CallEvidence, reason: Error) {
    super(`${evidence.label}: ${reason.message}`);
    this.name = 'CheckFailure';
    this.evidence = evidence;
  }
}

export function checkCall(evidence: CallEvidence, check: Check): CheckFailure | undefined {
  const reason = check(evidence);
  return reason === undefined ? undefined : new CheckFailure(evidence, reason);
}

export function expectCall(evidence: CallEvidence, check: Check): void {
  const failure = checkCall(evidence, check);
  if (failure !== undefined) throw failure;
}
