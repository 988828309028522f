/**
 * Runs one case and classifies how it ended:
 *   not-supported  the data plane does not claim a feature the case needs (the case is not run)
 *   skipped        the environment cannot run it (reason given), or the case skipped itself
 *   failed         a check failed, or a condition never converged: the mesh broke a promise
 *   error          the harness could not find out (engine gone, image missing, a harness bug)
 *   passed         every check held, and at least one check was made
 * A case that makes no check at all fails: a test that asserts nothing is a defect.
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import { publish } from '../events.ts';
import type { CaseContext, ConformanceCase } from './case.ts';
import type { CallEvidence } from '../traffic/evidence.ts';
import { CheckFailure, checkCall } from './expect-call.ts';
import { missingFeatures, type Area, type Feature } from '../spec/features.ts';
import type { CaseOutcome } from '../spec/outcome.ts';
import { hintOf } from '../errors.ts';

export interface CaseResult {
  readonly shortName: string;
  readonly description: string;
  readonly area: Area;
  readonly features: readonly Feature[];
  readonly manifests: readonly string[];
  readonly outcome: CaseOutcome;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Checks made (calls checked plus verify() calls). */
  readonly checks: number;
  readonly evidence: readonly CallEvidence[];
  readonly findings: readonly string[];
  readonly attachments: Readonly<Record<string, unknown>>;
}

declare module '../events.ts' {
  interface EventMap {
    'case:start': { readonly shortName: string; readonly area: Area };
    'case:end': { readonly result: CaseResult };
  }
}

export interface RunCaseOptions<Env> {
  readonly env: Env;
  readonly seed: number;
  readonly supportedFeatures: ReadonlySet<Feature>;
  /** When set, the case is not run and is reported skipped with this reason. */
  readonly skipReason?: string | undefined;
}

class SkipSignal extends Error {}

class VerifyFailure extends Error {}

export async function runCase<Env>(testCase: ConformanceCase<Env>, options: RunCaseOptions<Env>): Promise<CaseResult> {
  const started = Date.now();
  const evidence: CallEvidence[] = [];
  const findings: string[] = [];
  const attachments: Record<string, unknown> = {};
  let checks = 0;
  const finish = (outcome: CaseOutcome): CaseResult => {
    const result: CaseResult = {
      shortName: testCase.shortName,
      description: testCase.description,
      area: testCase.area,
      features: testCase.features,
      manifests: testCase.manifests,
      outcome,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      checks,
      evidence,
      findings,
      attachments,
    };
    publish('case:end', { result });
    return result;
  };

  publish('case:start', { shortName: testCase.shortName, area: testCase.area });
  const missing = missingFeatures(testCase.features, options.supportedFeatures);
  if (missing.length > 0) return finish({ status: 'not-supported', features: missing });
  if (options.skipReason !== undefined) return finish({ status: 'skipped', reason: options.skipReason });

  const ctx: CaseContext<Env> = {
    env: options.env,
    seed: options.seed,
    expect: (call, check) => {
      evidence.push(call);
      checks += 1;
      const failure = checkCall(call, check);
      if (failure !== undefined) throw failure;
    },
    verify: (what, error) => {
      checks += 1;
      if (error !== undefined) throw new VerifyFailure(`${what}: ${error.message}`);
    },
    record: (call) => {
      evidence.push(call);
    },
    finding: (text) => {
      findings.push(text);
    },
    attach: (name, data) => {
      attachments[name] = data;
    },
    supports: (feature) => options.supportedFeatures.has(feature),
    notSupported: (feature, what) => {
      findings.push(`not checked on this data plane (it does not claim ${feature}): ${what}`);
    },
    skip: (reason) => {
      throw new SkipSignal(reason);
    },
  };

  try {
    await testCase.test(ctx);
  } catch (error) {
    return finish(classifyFailure(error));
  }
  if (checks === 0) return finish({ status: 'failed', message: 'the case made no check at all, so it proves nothing' });
  return finish({ status: 'passed' });
}

export function classifyFailure(error: unknown): CaseOutcome {
  if (error instanceof SkipSignal) return { status: 'skipped', reason: error.message };
  if (error instanceof CheckFailure || error instanceof VerifyFailure) return { status: 'failed', message: error.message };
  if (error instanceof MeshproofError) {
    // A policy or certificate change that never takes effect is the data plane's failure.
    if (error.code === ErrorCode.ConvergenceTimeout) return { status: 'failed', message: error.message };
    return { status: 'error', message: error.message, code: error.code, ...hintOf(error) };
  }
  return { status: 'error', message: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error), code: ErrorCode.Internal };
}
