/**
 * The contract of `meshproof diff --live`: the changed probes sent on running pods, BASE's policies
 * in force and then HEAD's applied to the same pods, on a data plane `run` can test.
 *
 * It is implemented beside the suites (LIVE_CHANGE_MODULE), whose live prober and security
 * environment it runs on; the CLI loads it by path only when --live is given, as `run` loads suite
 * files, so the harness never imports the suites.
 */
import type { CaseResult } from '../conformance/case-runner.ts';
import type { DataPlaneName } from '../spec/data-plane.ts';
import type { DataPlaneAdapter } from '../dataplane/types.ts';
import type { DataPlaneInfo } from '../spec/data-plane.ts';
import type { LiveConfirmation } from './change-review.ts';
import type { SidedProbe } from './probe-union.ts';

/** Relative to the project root. */
export const LIVE_CHANGE_MODULE = 'suites/change/change-live.ts';

export interface LiveChangeRequest {
  readonly baseDir: string;
  readonly headDir: string;
  readonly topologyFile: string;
  /** The mesh trust domain: callers in it are named `namespace/serviceaccount`, as in the review. */
  readonly trustDomain: string;
  /** The probes whose decision changes, with both decisions. */
  readonly probes: readonly SidedProbe[];
  readonly dataPlane: DataPlaneName;
  readonly seed: number;
  readonly timeScale: number;
  readonly runId: string;
  /** Progress lines for the console. */
  readonly log?: (line: string) => void;
  /** Wraps the data plane (tests of meshproof itself: a data plane broken on purpose). */
  readonly wrap?: (adapter: DataPlaneAdapter) => DataPlaneAdapter;
}

export interface LiveChangeOutcome {
  readonly confirmation: LiveConfirmation;
  /** One case per side and area (BASE mTLS, HEAD authorization, …), with their evidence, for the report. */
  readonly cases: readonly CaseResult[];
  readonly dataPlane: DataPlaneInfo;
  readonly runtime?: { readonly kind: string; readonly engineVersion?: string };
}

export type ConfirmChangeLive = (request: LiveChangeRequest) => Promise<LiveChangeOutcome>;
