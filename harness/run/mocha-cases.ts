/**
 * Mocha glue for conformance suites, so a suite file stays a few lines:
 *
 *   import { conformanceSuite } from '../index.ts';
 *   import { cases } from '../conformance/cases/index.ts';
 *   conformanceSuite({ area: 'mtls', cases, setup: deployMtlsMesh });
 *
 * Each case becomes one `it(shortName)` that calls runCase and reflects the outcome to mocha:
 * passed returns; skipped and not-supported call this.skip(); failed throws a
 * ConformanceFailure; error throws an InfrastructureError. The report is built from the
 * `case:end` events (with each skip's reason), not from what mocha shows.
 *
 * The suite's setup runs once, in a `before` hook. When it throws, every case of the suite
 * ends as `error` (an infrastructure problem, never a conformance failure) with the setup's
 * message, instead of mocha silently not running them.
 */
import { ErrorCode, hintOf, isMeshproofError } from '../errors.ts';
import { publish } from '../events.ts';
import type { DataPlaneInfo } from '../spec/data-plane.ts';
import type { ConformanceCase } from '../conformance/case.ts';
import { runCase, type CaseResult } from '../conformance/case-runner.ts';
import { AREA_PROMISE, type Area } from '../spec/features.ts';
import { currentRun, type RunContext } from './current-run.ts';

export interface SuiteRuntimeInfo {
  readonly kind: string;
  readonly engineVersion?: string;
}

declare module '../events.ts' {
  interface EventMap {
    /** A suite deployed its mesh: which data plane (and its claimed features) and runtime run the cases. */
    'run:dataplane': { readonly area: Area; readonly dataPlane: DataPlaneInfo; readonly runtime?: SuiteRuntimeInfo };
  }
}

/** What a suite's setup returns: the environment its cases use and what runs them. */
export interface SuiteSetup<Env> {
  readonly env: Env;
  /** The data plane under test, with the features it claims (cases needing others are not-supported). */
  readonly dataPlane: DataPlaneInfo;
  readonly runtime?: SuiteRuntimeInfo;
  /** When set, every case is reported skipped with this reason (default: dataPlane.unavailableReason when unavailable). */
  readonly skipReason?: string;
  /** Removes what setup started; runs in an `after` hook. */
  teardown?(): Promise<void>;
}

export interface CaseSuite<Env> {
  readonly area: Area;
  /** The describe() title; default: the area's promise. */
  readonly title?: string;
  readonly cases: readonly ConformanceCase<Env>[];
  /** Deploys what the cases need. Receives the run (seed, time scale, data plane, policies, run id). */
  setup(run: RunContext): Promise<SuiteSetup<Env>>;
  /** Per-case mocha timeout in ms (default: the mocha config's). */
  readonly caseTimeoutMs?: number;
  /** Setup's mocha timeout in ms (default 300 000: images may have to be built). */
  readonly setupTimeoutMs?: number;
}

/** What the reporter knows about a mocha test that is a conformance case, before it runs. */
export type CaseMeta = Pick<ConformanceCase<unknown>, 'shortName' | 'description' | 'area' | 'features' | 'manifests'>;

/** Key under which a mocha Test carries its CaseMeta. */
export const CASE_META: unique symbol = Symbol.for('meshproof.case-meta') as never;

export function caseMetaOf(test: object): CaseMeta | undefined {
  return (test as { [CASE_META]?: CaseMeta })[CASE_META];
}

/** A case ended `failed`: the mesh broke a promise. */
export class ConformanceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceFailure';
  }
}

/** A case ended `error`: the harness could not find out. */
export class InfrastructureError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(`${message} (${code})`);
    this.name = 'InfrastructureError';
    this.code = code;
  }
}

/** Reflects a case's outcome to mocha: returns, skips, or throws. */
export function reflectOutcome(test: { skip(): never }, result: CaseResult): void {
  const { outcome } = result;
  switch (outcome.status) {
    case 'passed':
      return;
    case 'skipped':
    case 'not-supported':
      test.skip();
      return;
    case 'failed':
      throw new ConformanceFailure(outcome.message);
    case 'error':
      throw new InfrastructureError(outcome.message, outcome.code);
  }
}

/** The result of a case whose suite could not be set up: it never ran. */
export function setupFailedResult<Env>(testCase: ConformanceCase<Env>, error: unknown): CaseResult {
  const message = error instanceof Error ? error.message : String(error);
  const code = isMeshproofError(error) ? error.code : ErrorCode.Internal;
  return {
    shortName: testCase.shortName,
    description: testCase.description,
    area: testCase.area,
    features: testCase.features,
    manifests: testCase.manifests,
    outcome: { status: 'error', message: `not run: the suite's setup failed: ${message}`, code, ...hintOf(error) },
    startedAt: new Date().toISOString(),
    durationMs: 0,
    checks: 0,
    evidence: [],
    findings: [],
    attachments: {},
  };
}

/**
 * Declares one mocha describe() for the suite, with one it() per case. A suite whose cases or
 * timeouts depend on the run (--policies, --time-scale) is given as a function of it, called with
 * the run's one frozen value (currentRun), never by reading the environment itself.
 */
export function conformanceSuite<Env>(definition: CaseSuite<Env> | ((run: RunContext) => CaseSuite<Env>)): void {
  const suite = typeof definition === 'function' ? definition(currentRun()) : definition;
  describe(suite.title ?? AREA_PROMISE[suite.area], function () {
    let setup: SuiteSetup<Env> | undefined;
    let setupError: unknown;
    let options: RunContext | undefined;

    before(async function () {
      this.timeout(suite.setupTimeoutMs ?? 300_000);
      try {
        options = currentRun();
        setup = await suite.setup(options);
        publish('run:dataplane', { area: suite.area, dataPlane: setup.dataPlane, ...(setup.runtime === undefined ? {} : { runtime: setup.runtime }) });
      } catch (error) {
        setupError = error;
      }
    });

    after(async function () {
      this.timeout(suite.setupTimeoutMs ?? 300_000);
      await setup?.teardown?.();
    });

    for (const testCase of suite.cases) {
      const test = it(testCase.shortName, async function () {
        if (suite.caseTimeoutMs !== undefined) this.timeout(suite.caseTimeoutMs);
        let result: CaseResult;
        if (setup === undefined || options === undefined) {
          result = setupFailedResult(testCase, setupError ?? new Error('setup did not run'));
          publish('case:end', { result });
        } else {
          const unavailable = setup.dataPlane.available ? undefined : (setup.dataPlane.unavailableReason ?? `the ${setup.dataPlane.name} data plane cannot run here`);
          result = await runCase(testCase, {
            env: setup.env,
            seed: options.seed,
            supportedFeatures: new Set(setup.dataPlane.claimedFeatures),
            skipReason: setup.skipReason ?? unavailable,
          });
        }
        reflectOutcome(this, result);
      });
      const meta: CaseMeta = { shortName: testCase.shortName, description: testCase.description, area: testCase.area, features: testCase.features, manifests: testCase.manifests };
      Object.defineProperty(test, CASE_META, { value: meta, enumerable: false });
    }
  });
}
