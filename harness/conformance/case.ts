/**
 * A conformance case: a typed record plus one small test function (Gateway API's
 * ConformanceTest). Cases are listed in explicit indexes per suite, never registered by import
 * side effects. `Env` is what the suite deploys (pods, clients, PKI, oracle) — see mesh/.
 */
import type { Check } from './checks.ts';
import type { CallEvidence } from '../traffic/evidence.ts';
import type { AttachmentName, ReportAttachments } from '../spec/attachments.ts';
import type { Area, Feature } from '../spec/features.ts';

export interface ConformanceCase<Env> {
  /** Unique, stable, kebab-case: the test's name in every report. */
  readonly shortName: string;
  /** One sentence a security reviewer can check against the policy. */
  readonly description: string;
  readonly area: Area;
  readonly features: readonly Feature[];
  /** Policy files the case applies, relative to its suite folder. */
  readonly manifests: readonly string[];
  test(ctx: CaseContext<Env>): Promise<void>;
}

export interface CaseContext<Env> {
  readonly env: Env;
  /** The run seed; cases derive every random choice from it. */
  readonly seed: number;
  /** Records the evidence and applies the check; a failed check fails the case. */
  expect(evidence: CallEvidence, check: Check): void;
  /**
   * A check on something other than one call (metrics, an ejection timeline, a certificate chain):
   * `error` undefined means it held. Failing ones fail the case with `what` as context.
   */
  verify(what: string, error: Error | undefined): void;
  /** Records evidence for the report without checking it. */
  record(evidence: CallEvidence): void;
  /** Something the reader should know even when the case passes ("this cap can never eject"). */
  finding(text: string): void;
  /** Whether the data plane under test claims `feature` (a case may hold some of its checks to one it does not need for the rest). */
  supports(feature: Feature): boolean;
  /**
   * A check the case would make, left out because the data plane does not claim `feature`: said in
   * the report as a finding (never counted as held, never synthesised).
   */
  notSupported(feature: Feature, what: string): void;
  /** Structured data for the report, of the shape its name says (spec/attachments.ts): tls-check rows, timelines, metric samples. */
  attach<N extends AttachmentName>(name: N, data: ReportAttachments[N]): void;
  /** Ends the case as skipped; the reason appears in every report format. */
  skip(reason: string): never;
}
