/**
 * The compliance report of `meshproof diff`: a ConformanceReport whose `change` section is the
 * review, and whose cases (with `--live`) are the changed probes sent on running pods under each
 * side. Without `--live` no case runs and every promise is "not run", saying why.
 */
import type { ChangeReview } from '../change/change-review.ts';
import type { CaseResult } from '../conformance/case-runner.ts';
import type { Area } from '../spec/features.ts';
import { DEFAULT_TIME_SCALE, type RunOptions } from '../spec/run.ts';
import type { DataPlaneName } from '../spec/data-plane.ts';
import { buildReport } from './build-report.ts';
import type { ConformanceReport } from './schema.ts';
import type { DataPlaneInfo } from '../spec/data-plane.ts';

export interface ChangeRunDescription {
  readonly id: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly toolVersion: string;
  readonly host: { readonly platform: string; readonly node: string };
  /** The command that gives this review again. */
  readonly command: string;
  readonly reportDir: string;
  readonly seed: number;
  readonly timeScale?: number;
  /** With --live: what ran, where. */
  readonly live?: {
    readonly cases: readonly CaseResult[];
    readonly dataPlane: DataPlaneInfo;
    readonly runtime?: { readonly kind: string; readonly engineVersion?: string };
  };
}

export function buildChangeReport(review: ChangeReview, run: ChangeRunDescription): ConformanceReport {
  const areas = [...new Set((run.live?.cases ?? []).map((c) => c.area))] as Area[];
  const options: RunOptions = {
    seed: run.seed,
    timeScale: run.timeScale ?? DEFAULT_TIME_SCALE,
    dataPlane: (run.live?.dataPlane.name ?? 'reference') as DataPlaneName,
    suites: (['mtls', 'authz', 'resilience'] as const).filter((a) => areas.includes(a)),
    reportDir: run.reportDir,
    suitesDir: '',
  };
  const built = buildReport(run.live?.cases ?? [], {
    id: run.id,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    options,
    toolVersion: run.toolVersion,
    host: run.host,
    dataPlane: run.live?.dataPlane ?? { name: 'none (meshproof diff without --live asks the oracle only)', version: '-', claimedFeatures: [], available: true },
    runtime: run.live?.runtime ?? { kind: 'none (no pods started)' },
  });
  const why = run.live === undefined ? 'meshproof diff asks the oracle only; --live sends the changed probes on running pods' : 'no changed probe of this area was sent live';
  return {
    ...built,
    run: { ...built.run, replayCommand: run.command },
    verdicts: built.verdicts.map((v) => (v.result === 'not-run' && v.passed + v.failed + v.skipped + v.notSupported + v.error === 0 ? { ...v, summary: `Not run: ${why}` } : v)),
    change: review,
  };
}
