/**
 * The mocha reporter of a conformance run. It builds the report from the cases' `case:end`
 * events (the truth about each case, skip reasons included) and mocha's runner events (which
 * test is running, hooks that failed, tests outside any case), prints one line per case while it
 * runs and the counts and verdicts at the end, and writes report.json, junit.xml and index.html
 * into `<reportDir>/<run id>/`, refreshing `<reportDir>/latest/`.
 *
 * Run options come from the environment (see run-options.ts); reporter options (mocha's
 * `reporterOption`) may add `missingSuites`, `runId`, `stream` and `onReport`.
 *
 * Mocha cannot tell a case apart from any other test, so the reporter reads the CaseMeta that
 * conformanceSuite() puts on each case's test:
 *   - a case test that ends without a `case:end` (its helper crashed, a beforeEach hook failed)
 *     is reported as `error`;
 *   - a failing hook marks the cases it kept from running as `error` with the hook's message,
 *     and a failing `after` hook makes the run incomplete (exit 3);
 *   - a test that is not a case is left out of the report; if it fails, the run is incomplete.
 */
import { readFileSync } from 'node:fs';
import Mocha from 'mocha';
import { subscribe } from '../events.ts';
import type { CaseResult } from '../conformance/case-runner.ts';
import { caseMetaOf, type CaseMeta, type SuiteRuntimeInfo } from './mocha-cases.ts';
import { describeOutcome } from '../spec/outcome.ts';
import { currentRun } from './current-run.ts';
import type { RunOptions } from '../spec/run.ts';
import { ErrorCode } from '../errors.ts';
import { projectRoot } from '../project-root.ts';
import { buildReport, type MissingSuite } from '../report/build-report.ts';
import type { ConformanceReport } from '../report/schema.ts';
import type { DataPlaneInfo } from '../spec/data-plane.ts';
import { exitCodeForReport } from '../report/verdict.ts';
import { writeReport, type WrittenReport } from '../report/write-report.ts';

const { EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_TEST_BEGIN, EVENT_TEST_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

export interface ReporterOutcome {
  readonly report: ConformanceReport;
  readonly written: WrittenReport;
  readonly exitCode: number;
}

export interface MeshproofReporterOptions {
  /** Suite files the run was asked for that do not exist (the report says so; exit code 3). */
  readonly missingSuites?: readonly MissingSuite[];
  /** Default: MESHPROOF_RUN_ID, else a fresh `mp-<date>-<time>-<hex>`. */
  readonly runId?: string;
  /** Where progress goes (default stdout). */
  readonly stream?: NodeJS.WritableStream;
  /** Called once the files are written. */
  readonly onReport?: (outcome: ReporterOutcome) => void;
}

const toolVersion = (JSON.parse(readFileSync(`${projectRoot}/package.json`, 'utf8')) as { version: string }).version;

const STATUS_WORD: Readonly<Record<CaseResult['outcome']['status'], string>> = {
  passed: 'passed',
  failed: 'FAILED',
  skipped: 'skipped',
  'not-supported': 'not supported',
  error: 'ERROR',
};

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function syntheticError(meta: CaseMeta, message: string, startedAt: number): CaseResult {
  return { ...meta, outcome: { status: 'error', message, code: ErrorCode.Internal }, startedAt: new Date(startedAt).toISOString(), durationMs: Date.now() - startedAt, checks: 0, evidence: [], findings: [], attachments: {} };
}

/** Every test under a suite, depth first. */
function testsUnder(suite: Mocha.Suite): Mocha.Test[] {
  return [...suite.tests, ...suite.suites.flatMap(testsUnder)];
}

export class MeshproofReporter {
  readonly options: RunOptions;
  readonly runId: string;
  readonly #stream: NodeJS.WritableStream;
  readonly #extra: MeshproofReporterOptions;
  readonly #results: CaseResult[] = [];
  readonly #ended = new WeakSet<Mocha.Test>();
  readonly #incomplete: string[] = [];
  readonly #unsubscribe: (() => void)[] = [];
  #current: { test: Mocha.Test; result?: CaseResult; startedAt: number } | undefined;
  #dataPlane: DataPlaneInfo | undefined;
  #runtime: SuiteRuntimeInfo | undefined;
  #strayPassed = 0;
  #interrupted = false;
  #startedAt = new Date();
  outcome: ReporterOutcome | undefined;

  constructor(runner: Mocha.Runner, mochaOptions: { reporterOption?: MeshproofReporterOptions; reporterOptions?: MeshproofReporterOptions } = {}) {
    this.#extra = mochaOptions.reporterOption ?? mochaOptions.reporterOptions ?? {};
    this.#stream = this.#extra.stream ?? process.stdout;
    const { runId, ...options } = currentRun();
    this.options = options;
    this.runId = this.#extra.runId ?? runId;

    this.#unsubscribe.push(
      subscribe('case:end', ({ result }) => this.#onCaseEnd(result)),
      subscribe('run:interrupted', () => {
        this.#interrupted = true;
      }),
      subscribe('run:dataplane', ({ dataPlane, runtime }) => {
        this.#dataPlane ??= dataPlane;
        if (runtime !== undefined) this.#runtime ??= runtime;
      }),
    );

    runner.once(EVENT_RUN_BEGIN, () => {
      this.#startedAt = new Date();
      this.#header();
    });
    runner.on(EVENT_TEST_BEGIN, (test: Mocha.Test) => {
      this.#current = { test, startedAt: Date.now() };
    });
    runner.on(EVENT_TEST_FAIL, (runnable: Mocha.Runnable, error: unknown) => {
      if (runnable instanceof Mocha.Hook) this.#onHookFailed(runnable, error, runner);
      else if (caseMetaOf(runnable) === undefined) this.#incomplete.push(`test '${runnable.fullTitle()}'${runnable.file === undefined ? '' : ` in ${runnable.file}`} failed outside any case: ${errorMessage(error)}`);
    });
    runner.on(EVENT_TEST_END, (test: Mocha.Test) => this.#onTestEnd(test));
    runner.once(EVENT_RUN_END, () => this.#finish());
  }

  #write(line: string): void {
    // Once interrupted, cases still running fail as their pods are removed: noise, not results.
    if (this.#interrupted) return;
    this.#stream.write(`${line}\n`);
  }

  #header(): void {
    const o = this.options;
    this.#write(`meshproof run ${this.runId}: data plane ${o.dataPlane}, seed ${o.seed}, time scale ${o.timeScale}, suites ${o.suites.join(',')}${o.grep === undefined ? '' : `, grep ${o.grep}`}`);
    for (const m of this.#extra.missingSuites ?? []) this.#write(`missing suite file: ${m.file} (the ${m.area} promise will not be tested)`);
  }

  #onCaseEnd(result: CaseResult): void {
    if (this.#current !== undefined && this.#current.result === undefined) this.#current.result = result;
    else this.#record(result); // a case run outside a test (e.g. in a hook): still evidence
  }

  #record(result: CaseResult): void {
    this.#results.push(result);
    const reason = result.outcome.status === 'passed' ? '' : ` — ${describeOutcome(result.outcome).replace(/^[^:]*: /, '').split('\n', 1)[0]}`;
    this.#write(`  ${STATUS_WORD[result.outcome.status].padEnd(13)} ${result.area.padEnd(10)} ${result.shortName} (${result.durationMs} ms)${reason}`);
  }

  #onTestEnd(test: Mocha.Test): void {
    const current = this.#current?.test === test ? this.#current : undefined;
    this.#current = undefined;
    this.#ended.add(test);
    const meta = caseMetaOf(test);
    if (meta === undefined) {
      if (test.state === 'passed') this.#strayPassed += 1;
      return;
    }
    if (current?.result !== undefined) {
      this.#record(current.result);
      return;
    }
    const startedAt = current?.startedAt ?? Date.now();
    const why = test.state === 'failed' ? `the case's test failed before the case ran: ${errorMessage(test.err)}` : test.state === 'pending' ? 'the case was skipped in its suite file (it.skip or this.skip() outside runCase), with no reason given' : 'the case test ended without running the case (no case:end)';
    this.#record(syntheticError(meta, why, startedAt));
  }

  #onHookFailed(hook: Mocha.Hook, error: unknown, runner: Mocha.Runner): void {
    const title = hook.title.replace(/^"(.*)" hook.*$/, '$1');
    const where = hook.parent?.fullTitle() || '(root)';
    const message = `the '${title}' hook of '${where}' failed: ${errorMessage(error)}`;
    const grep = (runner as unknown as { _grep?: RegExp; _invert?: boolean })._grep;
    const invert = (runner as unknown as { _invert?: boolean })._invert === true;
    const kept = hook.parent === undefined ? [] : testsUnder(hook.parent).filter((t) => !this.#ended.has(t) && caseMetaOf(t) !== undefined && (grep === undefined || grep.test(t.fullTitle()) !== invert));
    if (/after (all|each)/.test(hook.title) || kept.length === 0) {
      this.#incomplete.push(message);
      return;
    }
    for (const test of kept) {
      this.#ended.add(test);
      const meta = caseMetaOf(test);
      if (meta !== undefined) this.#record(syntheticError(meta, `not run: ${message}`, Date.now()));
    }
  }

  #finish(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    const report = buildReport(this.#results, {
      id: this.runId,
      startedAt: this.#startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      options: this.options,
      toolVersion,
      host: { platform: `${process.platform} ${process.arch}`, node: process.version },
      ...(this.#dataPlane === undefined ? {} : { dataPlane: this.#dataPlane }),
      ...(this.#runtime === undefined ? {} : { runtime: this.#runtime }),
      missingSuites: this.#extra.missingSuites ?? [],
      incomplete: this.#incomplete,
    });
    const written = writeReport(report, this.options.reportDir);
    const exitCode = exitCodeForReport(report);
    this.#summary(report, written, exitCode);
    this.outcome = { report, written, exitCode };
    this.#extra.onReport?.(this.outcome);
  }

  #summary(report: ConformanceReport, written: WrittenReport, exitCode: number): void {
    const c = report.cases;
    const n = (status: string): number => c.filter((x) => x.outcome.status === status).length;
    this.#write('');
    this.#write(`${c.length} cases: ${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped, ${n('not-supported')} not supported, ${n('error')} error`);
    if (this.#strayPassed > 0) this.#write(`(${this.#strayPassed} passing mocha tests outside any case are not in the report)`);
    for (const v of report.verdicts) this.#write(`${v.result.padEnd(8)} ${v.promise}: ${v.summary}`);
    for (const reason of report.run.incomplete) this.#write(`incomplete: ${reason}`);
    // What to do about the infrastructure errors, once each (every case of a suite shares its setup's).
    for (const hint of new Set(c.flatMap((x) => (x.outcome.status === 'error' && x.outcome.hint !== undefined ? [x.outcome.hint] : [])))) this.#write(`hint: ${hint}`);
    this.#write(`report: ${written.files.html} (and report.json, junit.xml); copied to ${written.latest}`);
    this.#write(`replay: ${report.run.replayCommand}`);
    const meaning = exitCode === 0 ? 'no promise broken' : exitCode === 1 ? 'a promise is broken' : 'the run could not find out everything (infrastructure)';
    this.#write(`exit code ${exitCode}: ${meaning}`);
  }
}

export default MeshproofReporter;
