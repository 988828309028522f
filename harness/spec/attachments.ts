/**
 * What a case may attach (ctx.attach(name, value)) for the report's cross-case views, and the
 * shape of each: the rows of the TLS-check table and the wire table, the authorization grid, rule
 * coverage, an ejection timeline, an experiment's journal, and the metric samples shown with a
 * case's evidence. The case API, the suites that produce them and the report that gathers them
 * all read these types; report/schema.ts hands them on as part of the report.
 */

export interface MetricSample {
  /** Prometheus name, e.g. `envoy_cluster_outlier_detection_ejections_enforced_total`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Whose metrics endpoint it came from (a pod's sidecar). */
  readonly source: string;
  /** The value the case expected, when it compared one, and whether the two agree. */
  readonly expected?: number;
  readonly agrees?: boolean;
}

export interface TlsCheckRow {
  readonly client: string;
  /** `ns/sa` of an in-mesh client, `plaintext` or an attacker-kit kind. */
  readonly clientKind: string;
  /** Service and port, `payment-service.prod-namespace:8080`. */
  readonly service: string;
  /** Effective PeerAuthentication mode on that port. */
  readonly serverMode: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  /** What the client spoke: `MTLS`, `TLS (no client cert)`, `PLAINTEXT`, `MTLS (rogue CA)`, … */
  readonly clientMode: string;
  /** What happened: `OK`, `reset`, `handshake rejected: <alert>`, `403`, … */
  readonly observed: string;
  /** What Istio says must happen, and whether the two agree. */
  readonly expected: string;
  readonly agrees: boolean;
}

/**
 * One request as a passive eavesdropper on the pod network saw it (a capture of the run's
 * bridge): encrypted, with what the TLS handshake shows in the clear, or readable, with the line
 * the request's canary stood in, redacted. Never a key, a certificate or a credential.
 */
export interface WireRow {
  readonly client: string;
  /** `ns/sa` of an in-mesh client, or `plaintext`. */
  readonly clientKind: string;
  /** Service and port, `payment-service.prod-namespace:80`. */
  readonly service: string;
  readonly serverMode: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  /** What the eavesdropper saw. */
  readonly seen: 'encrypted' | 'cleartext' | 'cleartext request, no reply' | 'nothing' | 'not observed';
  /** The connection that carried it, `10.1.0.5:41234 → 10.1.0.7:8080`, by pod name where known. */
  readonly connection?: string;
  /** What the TLS handshake shows in the clear. */
  readonly tls?: {
    readonly version: string;
    readonly cipherSuite: string;
    readonly alpnOffered: readonly string[];
    /** Shown by the handshake up to TLS 1.2 only. */
    readonly alpnChosen?: string;
    readonly sni?: string;
  };
  /** Cleartext only: the line the canary stood in, the canary named, secrets removed. */
  readonly excerpt?: string;
  /** What Istio says an eavesdropper sees. */
  readonly expected: string;
  readonly agrees: boolean;
  /** What is wrong, when it does not agree; why, when not observed. */
  readonly note?: string;
}

export interface AuthzMatrixCell {
  /** Row: the caller (`prod-namespace/order-service-sa`, `plaintext`). */
  readonly source: string;
  /** Column: `POST /pay/1` (method and raw path). */
  readonly request: string;
  readonly destination: string;
  readonly expected: 'allow' | 'deny' | 'reject' | 'unauthenticated' | 'bad-request';
  readonly observed: 'allow' | 'deny' | 'reject' | 'unauthenticated' | 'bad-request' | 'other';
  /** The rule the oracle said decides it, e.g. `prod-namespace/restrict-payment-access/rules[0]`. */
  readonly rule?: string;
  readonly agrees: boolean;
}

export interface RuleCoverage {
  readonly rule: string;
  readonly policy: string;
  /** Probes that matched this rule (expected by the oracle) and that the live result agreed with. */
  readonly probesMatching: number;
  readonly probesJustMissing: number;
  readonly exercised: boolean;
}

export interface EjectionTimeline {
  readonly case: string;
  /** Milliseconds since the experiment started; all times below are on this axis. */
  readonly requests: readonly { readonly atMs: number; readonly servedBy: string | null; readonly status: number; readonly flags?: string }[];
  readonly ejections: readonly { readonly endpoint: string; readonly fromMs: number; readonly toMs: number | null; readonly source: 'observed' | 'expected' }[];
  readonly endpoints: readonly string[];
  readonly timeScale: number;
}

export interface ExperimentJournal {
  readonly case: string;
  readonly hypothesis: string;
  readonly entries: readonly { readonly atMs: number; readonly phase: 'before' | 'inject' | 'during' | 'rollback' | 'after'; readonly text: string }[];
  readonly steadyState: { readonly before: boolean; readonly during: boolean; readonly after: boolean };
}

/**
 * Structured data cases attach (ctx.attach(name, value)) for the report's cross-case views. The
 * report builder gathers attachments with these names into the report's top-level arrays.
 */
export interface ReportAttachments {
  readonly tlsCheck: readonly TlsCheckRow[];
  readonly wire: readonly WireRow[];
  readonly authzMatrix: readonly AuthzMatrixCell[];
  readonly ruleCoverage: readonly RuleCoverage[];
  /** Without its case: the report adds the name of the case that attached it. */
  readonly ejectionTimeline: Omit<EjectionTimeline, 'case'>;
  /** Without its case, as the timeline. */
  readonly experiment: Omit<ExperimentJournal, 'case'>;
  /** Shown with the case's evidence (not a top-level view). */
  readonly metrics: readonly MetricSample[];
}

export type AttachmentName = keyof ReportAttachments;
