/**
 * The compliance report: typed and versioned (in the spirit of Gateway API's ConformanceReport).
 * report.json is this value; junit.xml and index.html are views of it. Nothing in it is secret:
 * certificates appear by SHA-256 fingerprint and URI SAN, never with keys.
 *
 * Bump REPORT_API_VERSION on any change a reader would notice, and keep report.schema.json in step.
 */
import type { Area, Feature } from '../spec/features.ts';
import type { CaseOutcome } from '../spec/outcome.ts';
import type { AccessLogEntry, CallProtocol, Outcome } from '../traffic/types.ts';
import type { DataPlaneInfo } from '../spec/data-plane.ts';
import type { ChangeReview } from '../change/change-review.ts';
import type { RunTiming } from '../spec/run.ts';
import type { AuthzMatrixCell, EjectionTimeline, ExperimentJournal, MetricSample, RuleCoverage, TlsCheckRow, WireRow } from '../spec/attachments.ts';

/** What cases attach, and each attachment's shape (one source, with the case API that takes them). */
export type { AttachmentName, AuthzMatrixCell, EjectionTimeline, ExperimentJournal, MetricSample, ReportAttachments, RuleCoverage, TlsCheckRow, WireRow } from '../spec/attachments.ts';

export const REPORT_API_VERSION = 'meshproof.dev/v1alpha1';

export interface ConformanceReport {
  readonly apiVersion: typeof REPORT_API_VERSION;
  readonly kind: 'ConformanceReport';
  readonly tool: { readonly name: 'meshproof'; readonly version: string };
  readonly run: RunInfo;
  readonly dataPlane: DataPlaneInfo;
  readonly runtime: { readonly kind: string; readonly engineVersion?: string };
  /** One per promise, in the order STRICT mTLS, authorization, circuit breaking. */
  readonly verdicts: readonly PromiseVerdict[];
  readonly areas: readonly AreaSummary[];
  readonly cases: readonly CaseReport[];
  /** Things a reader should know beyond pass/fail ("this DestinationRule can never eject"). */
  readonly findings: readonly Finding[];
  /** `istioctl authn tls-check`, from real traffic: one row per client × service. */
  readonly tlsCheck: readonly TlsCheckRow[];
  /** What an eavesdropper on the pod network saw of each wire probe: one row per client × service port. */
  readonly wire: readonly WireRow[];
  /** Authorization probes: source × request, expected vs observed. */
  readonly authzMatrix: readonly AuthzMatrixCell[];
  /** Which authorization rules live traffic exercised. */
  readonly ruleCoverage: readonly RuleCoverage[];
  /** Per circuit-breaking experiment: which replica served each request, and ejection windows. */
  readonly ejectionTimelines: readonly EjectionTimeline[];
  /** Chaos experiments: hypothesis before/during/after, what was injected when. */
  readonly experiments: readonly ExperimentJournal[];
  /** `meshproof diff`: what a policy change does to traffic (the report's "change" view). Absent in a run's report. */
  readonly change?: ChangeReview;
}

export interface RunInfo {
  readonly id: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Drives fault schedules, response-code mixes and probe order; `--seed` replays it. */
  readonly seed: number;
  /** Policy durations were multiplied by this (e.g. 0.02: a 30 s ejection lasted 0.6 s). */
  readonly timeScale: number;
  /** How the time scale was set (the user's, or chosen from the machine's measured scheduling jitter) and the jitter when the run started. */
  readonly timing?: RunTiming;
  readonly suites: readonly string[];
  readonly grep?: string;
  /** The exact command that replays this run. */
  readonly replayCommand: string;
  readonly host: { readonly platform: string; readonly node: string };
  /**
   * Why the run covered less than it was asked to: a suite file that does not exist, a suite
   * whose setup failed outside any case, a test outside any case that failed. Empty for a
   * complete run; any entry makes the run's exit code 3 unless a promise is broken (1).
   */
  readonly incomplete: readonly string[];
}

/** A policy change's review (defined with the diff that computes it). */
export type { ChangeReview, ChangeCause, ChangeDecision, ChangeMatrixCell, LiveConfirmation } from '../change/change-review.ts';

/** Name, version, claimed features and availability of the data plane under test (defined with the adapter interface). */
export type { DataPlaneInfo } from '../spec/data-plane.ts';

/** success: every case passed; partial: none failed but some were skipped or not supported; failure: a case failed; error: none failed but the harness could not finish some; not-run: nothing ran. */
export type VerdictResult = 'success' | 'partial' | 'failure' | 'error' | 'not-run';

export interface OutcomeCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly notSupported: number;
  readonly error: number;
}

export interface PromiseVerdict extends OutcomeCounts {
  readonly area: Area;
  readonly promise: string;
  readonly result: VerdictResult;
  /** One sentence: "Holds: 24 of 24 cases passed", "Broken: strict-rejects-plaintext failed". */
  readonly summary: string;
}

export interface AreaSummary extends OutcomeCounts {
  readonly area: Area;
  readonly failedCases: readonly string[];
}

export interface CaseReport {
  readonly shortName: string;
  readonly description: string;
  readonly area: Area;
  readonly features: readonly Feature[];
  readonly manifests: readonly string[];
  readonly outcome: CaseOutcome;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly checks: number;
  readonly evidence: readonly EvidenceReport[];
  /** Metric values the case read (sidecar /stats/prometheus), with what was expected where it checked them. */
  readonly metrics: readonly MetricSample[];
  readonly findings: readonly string[];
}

/** One call as the report shows it: both ends, with no secrets. */
export interface EvidenceReport {
  readonly label: string;
  readonly from: string;
  readonly to: string;
  readonly request: {
    readonly protocol: CallProtocol;
    readonly host: string;
    readonly port: number;
    readonly method?: string;
    readonly path?: string;
    readonly headers?: Readonly<Record<string, string>>;
    /** The client certificate presented, by fingerprint and identity; never the key. */
    readonly clientCertificate?: CertificateRef;
    readonly tlsVersions?: string;
  };
  readonly client: {
    readonly outcome: Outcome;
    readonly status?: number;
    readonly headers?: Readonly<Record<string, string>>;
    /** First 2 KiB. */
    readonly body?: string;
    readonly error?: { readonly code: string; readonly message: string };
    readonly tls?: {
      readonly protocol?: string;
      readonly cipher?: string;
      readonly alert?: string;
      readonly serverChain: readonly CertificateRef[];
    };
    readonly durationMs: number;
  };
  /** What the app behind the sidecar received; `observed: false` when that end was not looked at. */
  readonly server: { readonly observed: boolean; readonly received: readonly { readonly pod: string; readonly method: string; readonly path: string; readonly peerIdentity?: string }[] };
  readonly accessLog: readonly AccessLogEntry[];
}

export interface CertificateRef {
  readonly fingerprint256: string;
  readonly subject: string;
  readonly uriSans: readonly string[];
  readonly validTo?: string;
}

export interface Finding {
  readonly case?: string;
  readonly area?: Area;
  readonly text: string;
}
