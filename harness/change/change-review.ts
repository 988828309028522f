/**
 * What a policy change does to traffic (`meshproof diff BASE HEAD`): the probes whose decision
 * changes, grouped by what decided them on each side, the ports whose mTLS mode changes, the
 * resilience settings that change, in plain sentences, and the user's intents the change breaks.
 * The report's "change" view and `meshproof diff --json` are this value; report.schema.json
 * (`$defs/changeReview`) describes it, and harness/report/schema.ts carries it as `change`.
 */
import type { DecisionOutcome } from '../oracle/decision.ts';

/** How a decision reads in a review: the app got it, authorization refused it, the connection was refused before HTTP, the sidecar answered 400, or the oracle cannot tell. */
export type ChangeDecision = 'allow' | 'deny' | 'unauthenticated' | 'reject' | 'bad-request' | 'unknown';

/** Which way a change moves access: `widens` = something refused is now let through. */
export type ChangeDirection = 'widens' | 'narrows' | 'changes';

/** What the change did to a resource or rule. */
export type EditKind = 'added' | 'removed' | 'changed' | 'unchanged';

export interface ChangeSide {
  /** The policy folder as given. */
  readonly dir: string;
  readonly files: number;
  /** Resources by kind (`AuthorizationPolicy: 3`). */
  readonly resources: Readonly<Record<string, number>>;
  /** Authorization rules on the topology's workloads. */
  readonly rules: number;
  /** Boundary probes generated from this side's policies. */
  readonly probes: number;
}

/** What decided a probe on one side. */
export interface ChangeCause {
  /**
   * `rule`: an ALLOW, DENY or CUSTOM rule; `no-allow-policy`: no ALLOW policy selects the workload
   * (allowed); `no-allow-match`: ALLOW policies select it and none matches (denied); `mtls`: the
   * port's PeerAuthentication refused the connection; `request-check`: the sidecar's HTTP checks (400).
   */
  readonly kind: 'rule' | 'no-allow-policy' | 'no-allow-match' | 'mtls' | 'request-check';
  /** One phrase: "ALLOW rule prod/restrict-payment-access/rules[0]". */
  readonly text: string;
  readonly rule?: string;
  /** `file:line` of the rule's policy (or of the PeerAuthentication). */
  readonly at?: string;
  /** What this change did to that rule or policy. */
  readonly edit?: EditKind;
  /** The port's mTLS mode on this side, when it differs between the sides. */
  readonly mtls?: string;
}

export interface ChangedProbe {
  /** The generator's ids for this request (from either side), or `intent <file:line>`. */
  readonly ids: readonly string[];
  /** Row: `prod-namespace/order-service-sa`, `plaintext`. */
  readonly source: string;
  /** Column: `POST /pay/1`. */
  readonly request: string;
  /** `prod-namespace/payment-service:8080` (workload and container port). */
  readonly destination: string;
  readonly base: ChangeDecision;
  readonly head: ChangeDecision;
  readonly baseOutcome: DecisionOutcome;
  readonly headOutcome: DecisionOutcome;
  readonly baseStatus?: number;
  readonly headStatus?: number;
  readonly direction: ChangeDirection;
  /** The oracle's sentence on each side. */
  readonly baseReason: string;
  readonly headReason: string;
}

/** Changed probes with the same cause on each side. */
export interface ChangeGroup {
  readonly base: ChangeCause;
  readonly head: ChangeCause;
  readonly direction: ChangeDirection | 'mixed';
  readonly probes: readonly ChangedProbe[];
}

export interface PortModeChange {
  /** `prod-namespace/payment-service`. */
  readonly workload: string;
  readonly port: number;
  readonly base: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  readonly head: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  /** The PeerAuthentication that set the mode, or Istio's default. */
  readonly baseVia: string;
  readonly headVia: string;
  readonly baseAt?: string;
  readonly headAt?: string;
  /** What callers see now, in a sentence. */
  readonly effect: string;
  /** Plaintext (or callers without a mesh identity) now get through where they did not. */
  readonly widens: boolean;
}

export interface ResourceChange {
  readonly kind: string;
  /** `namespace/name`. */
  readonly name: string;
  readonly edit: Exclude<EditKind, 'unchanged'>;
  readonly baseAt?: string;
  readonly headAt?: string;
  /** Which parts changed (`spec.rules[1]`, `spec.mtls.mode`), for `changed`. */
  readonly parts?: readonly string[];
}

export type ResilienceAspect = 'outlier' | 'pool' | 'retries' | 'timeout' | 'fault';

export interface ResilienceChange {
  /** `prod-namespace/payment-service`. */
  readonly service: string;
  /** Service ports that see this change (several when they see the same). */
  readonly ports: readonly number[];
  readonly aspect: ResilienceAspect;
  /** The VirtualService route, for retries, timeouts and faults: `route "pay"`, `http[0]`, `default route`. */
  readonly route?: string;
  /** Caller namespaces that see this (absent: every caller). A DestinationRule is looked up from the caller's namespace first. */
  readonly callers?: readonly string[];
  /** One plain sentence. */
  readonly text: string;
  /** Its parts, one setting each. */
  readonly clauses: readonly string[];
  /** `looser`: fewer or shorter ejections, higher limits, fewer retries, longer timeouts; `stricter`: the other way; `mixed`: both; `other`: neither (a fault injected, a sweep interval). */
  readonly direction: 'looser' | 'stricter' | 'mixed' | 'other';
  /** The DestinationRule or VirtualService behind it on each side. */
  readonly baseAt?: string;
  readonly headAt?: string;
}

export type IntentVerdict = 'regressed' | 'fixed' | 'still-contradicted' | 'kept' | 'unknown';

export interface IntentChange {
  /** `intent.yaml:3:3`. */
  readonly at: string;
  /** `POST /pay/1 from prod-namespace/order-service-sa to prod-namespace/payment-service`. */
  readonly request: string;
  readonly expect: 'allow' | 'deny' | 'reject';
  readonly base: 'allow' | 'deny' | 'reject' | 'not-supported';
  readonly head: 'allow' | 'deny' | 'reject' | 'not-supported';
  /** `regressed`: BASE kept the intent and HEAD contradicts it (the diff exits 1). */
  readonly verdict: IntentVerdict;
  readonly text: string;
}

export interface ChangeMatrixCell {
  /** `prod-namespace/payment-service:8080`. */
  readonly destination: string;
  readonly source: string;
  readonly request: string;
  readonly base: ChangeDecision;
  readonly head: ChangeDecision;
  readonly changed: boolean;
}

/** What one probe did on running pods, on each side. */
export interface LiveChangeProbe {
  readonly destination: string;
  readonly source: string;
  readonly request: string;
  /** The decision the review predicts, and what the pods did. */
  readonly base: LiveSideResult;
  readonly head: LiveSideResult;
  /** Both sides observed as predicted: the change is shown by traffic, not only by the oracle. */
  readonly confirmed: boolean;
}

export interface LiveSideResult {
  readonly expected: ChangeDecision;
  readonly observed: string;
  readonly agrees: boolean;
  /** The live call's label in the evidence (`prober: plaintext GET /pay/1 → …`). */
  readonly evidence?: string;
  /** Why the expectation moved once re-decided for what was really sent (the caller pod's address), when it did. */
  readonly note?: string;
}

export interface LiveConfirmation {
  /** `reference`, `envoy`. */
  readonly dataPlane: string;
  readonly version: string;
  /** Present when nothing was sent (the data plane cannot run here, say). */
  readonly skipped?: string;
  readonly probes: readonly LiveChangeProbe[];
  /** Changed probes that cannot be sent live, with why. */
  readonly notSent: readonly { readonly probe: string; readonly reason: string }[];
  readonly confirmed: number;
  readonly disagreed: number;
  readonly durationMs: number;
}

export interface ChangeSummary {
  /** Distinct requests asked of both sides. */
  readonly probesCompared: number;
  readonly probesChanged: number;
  readonly widens: number;
  readonly narrows: number;
  readonly otherChanges: number;
  readonly portsChanged: number;
  readonly resourcesChanged: number;
  readonly resilienceChanged: number;
  readonly intentsRegressed: number;
  /** Nothing a caller would notice changes. */
  readonly noChange: boolean;
  /** One line. */
  readonly text: string;
}

export interface ChangeReview {
  readonly base: ChangeSide;
  readonly head: ChangeSide;
  /** The topology both sides were resolved on. */
  readonly topology: string;
  readonly summary: ChangeSummary;
  /** Every change that lets through what was refused, one sentence each: the top of any view. */
  readonly widenings: readonly string[];
  readonly resources: readonly ResourceChange[];
  readonly groups: readonly ChangeGroup[];
  readonly ports: readonly PortModeChange[];
  readonly resilience: readonly ResilienceChange[];
  readonly intents: readonly IntentChange[];
  /** The decision matrix of the destinations where something changed (changed cells always kept). */
  readonly matrix: { readonly cells: readonly ChangeMatrixCell[]; readonly omitted: number; readonly unchangedDestinations: number };
  /** Readings worth knowing (a topology that differs between the sides, …). */
  readonly notes: readonly string[];
  /** `--live`: the changed probes on running pods, per data plane. */
  readonly live?: readonly LiveConfirmation[];
}

/** How an oracle outcome reads in a review. */
export function changeDecisionOf(outcome: DecisionOutcome): ChangeDecision {
  switch (outcome) {
    case 'allowed':
      return 'allow';
    case 'denied':
      return 'deny';
    case 'unauthenticated':
      return 'unauthenticated';
    case 'connection-reset':
    case 'handshake-failed':
      return 'reject';
    case 'bad-request':
      return 'bad-request';
    case 'not-supported':
      return 'unknown';
  }
}
