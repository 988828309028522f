/**
 * `meshproof run`: the main job. Checks the flags, the policies (--policies) and the user's
 * intent (--expect) before anything starts, then runs the suite files in a mocha process
 * (harness/run/run-suites.ts) that writes the report, and exits with its code:
 *   0 no promise broken, 1 a promise broken (or the policies contradict --expect),
 *   2 bad input (flags, policy or intent file), 3 infrastructure (a case ended in error, a suite
 *   file missing, or the run could not start).
 * Options travel to the mocha process as MESHPROOF_* environment variables (run-options.ts).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkIntents, readIntentFile, type IntentCheck } from '../../conformance/intent-file.ts';
import { chooseTimeScale, givenTimeScale } from '../../conformance/auto-time-scale.ts';
import { measureSchedulingJitter } from '../../util/scheduling-jitter.ts';
import { FLAG_NAMES, RUN_ID_ENV, resolveRunOptions, runOptionsToEnv } from '../../run/run-options.ts';
import { newRunId } from '../../spec/run.ts';
import type { RunOptions } from '../../spec/run.ts';
import { ErrorCode, ExitCode, MeshproofError, formatLocation } from '../../errors.ts';
import { throwIfErrors } from '../../model/issues.ts';
import { readPolicyInputs } from '../../model/policy-inputs.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { projectRoot } from '../../project-root.ts';
import { resolveTimeouts } from '../../config/timeouts.ts';
import { INTERRUPT_CLEANUP_MS, SIGNAL_NUMBERS } from '../../runtime/cleanup-on-signal.ts';
import { runSupervisedChild } from '../supervised-child.ts';
import { checkReportDir } from '../../report/report-dir.ts';
import { writeDifferentialReport } from '../../report/write-report.ts';
import type { DataPlaneName } from '../../spec/data-plane.ts';
import { selectDataPlanes } from '../data-plane-selection.ts';
import { checkSocketRoom, runsRoot } from '../../runtime/docker/runs-root.ts';

interface RunFlags {
  readonly policies?: string;
  readonly suite?: string;
  readonly dataplane?: string;
  readonly seed?: string;
  readonly timeScale?: string;
  readonly report?: string;
  readonly grep?: string;
  readonly expect?: string;
  readonly suitesDir?: string;
}

const abs = (path: string | undefined): string | undefined => (path === undefined ? undefined : resolve(path));

/** The run's options from the flags; paths made absolute (the mocha process may run elsewhere). */
export function optionsFromFlags(flags: RunFlags, newSeed?: () => number, dataPlane?: string): RunOptions {
  // A flag given as '' is a mistake (`--suite "$SUITES"` with SUITES unset), never "the default".
  const flagOf: Record<keyof RunFlags, string> = { policies: '--policies', suite: '--suite', dataplane: '--dataplane', seed: '--seed', timeScale: '--time-scale', report: '--report', grep: '--grep', expect: '--expect', suitesDir: '--suites-dir' };
  for (const [key, value] of Object.entries(flags) as [keyof RunFlags, unknown][]) {
    if (typeof value === 'string' && value.trim() === '' && key in flagOf) {
      throw new MeshproofError(ErrorCode.BadArgument, `${flagOf[key]} '${value}' is empty`, { hint: `give ${flagOf[key]} a value, or leave it out for the default` });
    }
  }
  return resolveRunOptions(
    {
      seed: flags.seed,
      timeScale: flags.timeScale,
      // The flag may name several (a differential run) or `auto`: each run is told its one data plane.
      dataPlane: dataPlane ?? (flags.dataplane?.includes(',') === true || flags.dataplane === 'auto' || flags.dataplane === 'all' ? undefined : flags.dataplane),
      suites: flags.suite,
      reportDir: abs(flags.report),
      suitesDir: abs(flags.suitesDir),
      grep: flags.grep,
      policiesDir: abs(flags.policies),
      expectFile: abs(flags.expect),
    },
    newSeed,
    FLAG_NAMES,
  );
}

/** Loads the policies (exit 2 on any error) and, with --expect, checks the intent against them. */
export function checkInputsStatically(options: RunOptions): IntentCheck[] {
  if (options.policiesDir === undefined) {
    if (options.expectFile !== undefined) throw new MeshproofError(ErrorCode.BadArgument, '--expect needs --policies: the intent is checked against your policies', { hint: 'e.g. --policies fixtures/seed --expect intent.yaml' });
    return [];
  }
  const inputs = readPolicyInputs(options.policiesDir, undefined);
  throwIfErrors(inputs.issues);
  if (options.expectFile === undefined) return [];
  if (inputs.topology === undefined) throw new MeshproofError(ErrorCode.BadArgument, `--expect needs a topology: ${options.policiesDir} has no topology.yaml`, { hint: 'add topology.yaml (workloads, services, clients) to the policy directory; see fixtures/seed/topology.yaml' });
  const intents = readIntentFile(options.expectFile);
  return checkIntents(resolveMesh(inputs.policies.set, inputs.topology), intents);
}

/** How long the mocha process may take to remove its containers after a forwarded signal. */
const CHILD_CLEANUP_MS = INTERRUPT_CLEANUP_MS + 15_000;

async function runSuites(options: RunOptions, runId: string): Promise<number> {
  const entry = `${projectRoot}/harness/run/run-suites.ts`;
  const end = await runSupervisedChild(process.execPath, ['--disable-warning=ExperimentalWarning', entry], {
    env: { ...process.env, ...runOptionsToEnv(options), [RUN_ID_ENV]: runId },
    cleanupMs: CHILD_CLEANUP_MS,
    onSignal: (signal) => process.stderr.write(`\nrun: ${signal} received; passing it to the mocha process and waiting for its clean-up (at most ${CHILD_CLEANUP_MS / 1000} s)\n`),
  });
  if (end.error !== undefined) {
    process.stderr.write(`run: could not start the mocha process: ${end.error.message}\n`);
    return ExitCode.Infrastructure;
  }
  if (end.interrupted !== undefined) {
    if (end.killed) process.stderr.write(`run: the mocha process did not finish its clean-up within ${CHILD_CLEANUP_MS / 1000} s and was killed\n`);
    process.stderr.write(`run: ${await leftoversAfterInterrupt(runId)}\n`);
    return 128 + SIGNAL_NUMBERS[end.interrupted];
  }
  const code = end.code;
  if (code === ExitCode.Ok || code === ExitCode.ConformanceFailure || code === ExitCode.BadInput || code === ExitCode.Infrastructure) return code;
  process.stderr.write(`run: the mocha process ended ${end.signal === null ? `with code ${code}` : `by signal ${end.signal}`} before finishing its report\n`);
  return ExitCode.Infrastructure;
}

/**
 * A differential run: the suites on each data plane in turn (same seed, time scale and suites),
 * each as its own run `<run id>-<plane>`, then one report side by side with the disagreements.
 * The exit code is the worst of the runs (a broken promise on any data plane is one); an
 * interrupt stops at once.
 */
async function runDifferential(options: RunOptions, runId: string, planes: readonly DataPlaneName[]): Promise<number> {
  const codes: number[] = [];
  for (const plane of planes) {
    process.stdout.write(`\n== ${plane} ==\n`);
    const code = await runSuites({ ...options, dataPlane: plane }, `${runId}-${plane}`);
    if (code > ExitCode.Infrastructure) return code;
    codes.push(code);
  }
  const written = writeDifferentialReport(options.reportDir, runId, planes.map((plane) => ({ plane, runDir: join(options.reportDir, `${runId}-${plane}`) })));
  const d = written.report;
  process.stdout.write(`\ndifferential: ${d.dataPlanes.map((p) => `${p.info.name} ${p.info.version}`).join(' vs ')}; ${d.disagreements.length} of ${d.probesCompared} probes observed differently, ${d.detailDifferences.length} more differ in details only\n`);
  for (const c of d.cases.filter((x) => new Set(Object.values(x.outcomes)).size > 1)) process.stdout.write(`  ${c.shortName}: ${Object.entries(c.outcomes).map(([p, o]) => `${p} ${o}`).join(', ')}\n`);
  process.stdout.write(`report: ${join(written.dir, 'index.html')} (and differential.json, junit.xml; each data plane's report in ${written.dir}/<plane>/); copied to ${written.latest}\n`);
  const worst = codes.includes(ExitCode.ConformanceFailure) ? ExitCode.ConformanceFailure : codes.includes(ExitCode.Infrastructure) ? ExitCode.Infrastructure : codes.includes(ExitCode.BadInput) ? ExitCode.BadInput : ExitCode.Ok;
  return worst;
}

/**
 * After an interrupt: waits (bounded) until nothing of the run is left on the engine or in the runs
 * folder (a reaper may still be removing what a start in flight created), and says so.
 */
async function leftoversAfterInterrupt(runId: string): Promise<string> {
  try {
    const { connectDocker } = await import('../../runtime/docker/docker-connection.ts');
    const { runsRoot } = await import('../../runtime/docker/runs-root.ts');
    const { inventory } = await import('../../runtime/docker/sweeper.ts');
    const timeouts = resolveTimeouts();
    const docker = (await connectDocker(timeouts.runtimeConnect)).container.dockerode;
    const ofRun = async () => (await inventory(docker, runsRoot())).filter((r) => r.runId === runId || r.runId.startsWith(`${runId}-`)).flatMap((r) => r.objects);
    const deadline = Date.now() + timeouts.runCleanup;
    let left = await ofRun();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = await ofRun();
    }
    return left.length === 0
      ? `nothing of run ${runId} is left on the engine or in ${runsRoot()}`
      : `${left.length} object(s) of run ${runId} are still there (${left.map((o) => o.name).join(', ')}); \`meshproof clean\` lists them`;
  } catch (error) {
    return `could not check what run ${runId} left: ${(error as Error).message}`;
  }
}

/**
 * Measures the machine's scheduling jitter for a second before anything starts and, when the user
 * gave no time scale, chooses one from it (auto-time-scale.ts); says which on the console. The
 * report records both (run.timing).
 */
async function withTiming(options: RunOptions, scaleGiven: boolean): Promise<RunOptions> {
  const jitter = await measureSchedulingJitter(1_000);
  const timing = scaleGiven ? givenTimeScale(options.timeScale, jitter) : chooseTimeScale(jitter);
  process.stdout.write(`time scale ${timing.timeScale} (${timing.reason})\n`);
  return Object.freeze({ ...options, timeScale: timing.timeScale, timing });
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the conformance suites against a data plane and write the compliance report (HTML, JSON, JUnit)')
    .option('--policies <dir>', 'your Istio policy YAML (a file or directory, with topology.yaml for --expect); checked before anything starts and handed to the suites')
    .option('--suite <list>', 'comma-separated suites to run: mtls, authz, resilience (default: all three)')
    .option('--dataplane <name>', "data plane under test: envoy (upstream Envoy, from sh scripts/setup.sh or MESHPROOF_ENVOY_BINARY), reference (meshproof's own sidecar, runs everywhere), a comma-separated list or all (a differential run: each in turn, one report side by side), or auto (default: envoy where it can be had, else reference)", 'auto')
    .option('--seed <n>', 'seed for fault schedules, response-code mixes and probe order, 0..4294967295 (default: random, printed and recorded; the same seed replays a run)')
    .option('--time-scale <f>', 'multiply every policy duration by this factor, 0 < f <= 1 (default: chosen from the scheduling jitter measured for 1 s at the start, the smallest of 0.02, 0.05, 0.1 that leaves timing checks their margins; 0.02: a 30 s ejection lasts 0.6 s); 1 = real time')
    .option('--report <dir>', 'write the report to <dir>/<run id>/ and refresh <dir>/latest/ (default: reports/ in the project)')
    .option('--grep <pattern>', "run only cases whose title contains this text (or matches /regex/), as mocha's --grep")
    .option('--expect <file>', 'your intent: YAML list of {from, to, method, path, expect: allow|deny|reject}; checked against --policies before any container starts (a contradiction exits 1), then probed by the suites')
    .option('--suites-dir <dir>', 'where <area>/<area>.suite.ts live (default: suites/ in the project); for testing meshproof itself')
    .addHelpText(
      'after',
      [
        '',
        'Exit codes: 0 no promise broken (every case passed, or was skipped with a reason);',
        '            1 a promise is broken (a case failed, or your policies contradict --expect);',
        '            2 bad input (a flag, a policy or the --expect file; printed as file:line: field);',
        '            3 infrastructure (a case ended in error, a suite file is missing, or the run could not start).',
        'Examples:',
        '  meshproof run',
        '  meshproof run --suite mtls,authz --seed 42',
        '  meshproof run --dataplane reference,envoy      # differential: disagreements listed in the report',
        '  meshproof run --policies fixtures/seed --expect intent.yaml --report /tmp/reports',
      ].join('\n'),
    )
    .action(async (flags: RunFlags) => {
      const seedGiven = flags.seed !== undefined;
      const options = await withTiming(optionsFromFlags(flags), flags.timeScale !== undefined);
      const selection = await selectDataPlanes(flags.dataplane);
      const runId = newRunId();
      checkReportDir(options.reportDir);
      // The longest run folder of this run (its user-policy run's) must leave room for socket paths.
      checkSocketRoom(join(runsRoot(), `${runId}-user`));
      const checks = checkInputsStatically(options);
      const contradictions = checks.filter((c) => c.verdict === 'contradicts');
      for (const c of checks.filter((x) => x.verdict === 'unknown')) process.stderr.write(`expect: ${formatLocation(c.intent.location)}${c.text}\n`);
      if (contradictions.length > 0) {
        for (const c of contradictions) process.stderr.write(`expect: ${formatLocation(c.intent.location)}${c.text}\n`);
        process.stderr.write(`run: ${contradictions.length} of ${checks.length} expectations in ${flags.expect ?? ''} contradict the policies; nothing was started (fix the policy or the intent file)\n`);
        process.exitCode = ExitCode.ConformanceFailure;
        return;
      }
      if (checks.length > 0) process.stdout.write(`expect: all ${checks.filter((c) => c.verdict === 'agrees').length} checkable expectations agree with the policies\n`);
      if (!seedGiven) process.stdout.write(`seed ${options.seed} (random; --seed ${options.seed} replays this run)\n`);
      process.stdout.write(`data plane: ${selection.reason}\n`);
      if (selection.planes.length === 1) {
        process.exitCode = await runSuites({ ...options, dataPlane: selection.planes[0]! }, runId);
        return;
      }
      process.exitCode = await runDifferential(options, runId, selection.planes);
    });
}
