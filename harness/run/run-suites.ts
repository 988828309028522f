/**
 * The mocha process of `meshproof run`: reads the run options from the environment (set by the
 * CLI, see run-options.ts), runs the requested suite files with mocha and the meshproof
 * reporter, and exits with the report's exit code (0 nothing broken, 1 a promise broken,
 * 3 infrastructure or an incomplete run). Suite files that are missing, or that fail to load,
 * are named in the report and on the console; the run never passes without them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import Mocha from 'mocha';
import { currentRun } from './current-run.ts';
import { suiteFile } from './run-options.ts';
import type { RunOptions } from '../spec/run.ts';
import { ExitCode, describeError, exitCodeFor } from '../errors.ts';
import { projectRoot } from '../project-root.ts';
import { interruptWhenParentLeaves } from '../runtime/cleanup-on-signal.ts';
import type { MissingSuite } from '../report/build-report.ts';
import { MeshproofReporter, type ReporterOutcome } from './mocha-reporter.ts';

interface MochaConfig {
  readonly timeout?: number;
  readonly slow?: number;
}

const config = JSON.parse(readFileSync(`${projectRoot}/.mocharc.conformance.json`, 'utf8')) as MochaConfig;

const display = (file: string): string => {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
};

function newMocha(options: RunOptions, missingSuites: readonly MissingSuite[], onReport: (o: ReporterOutcome) => void): Mocha {
  return new Mocha({
    timeout: config.timeout ?? 180_000,
    slow: config.slow ?? 10_000,
    ...(options.grep === undefined ? {} : { grep: options.grep }),
    reporter: MeshproofReporter as unknown as string,
    reporterOptions: { missingSuites, onReport },
  });
}

function run(mocha: Mocha): Promise<void> {
  return new Promise((resolve) => mocha.run(() => resolve()));
}

async function main(): Promise<number> {
  const options = currentRun();
  const wanted = options.suites.map((area) => ({ area, file: suiteFile(options, area) }));
  const missing: MissingSuite[] = wanted.filter((s) => !existsSync(s.file)).map((s) => ({ area: s.area, file: display(s.file) }));
  const present = wanted.filter((s) => existsSync(s.file));
  let outcome: ReporterOutcome | undefined;
  const onReport = (o: ReporterOutcome): void => {
    outcome = o;
  };

  let mocha = newMocha(options, missing, onReport);
  for (const s of present) mocha.addFile(s.file);
  try {
    await mocha.loadFilesAsync();
  } catch (error) {
    // A suite file that does not load (syntax error, bad import) is an infrastructure problem:
    // report it instead of running half a run that looks complete.
    const reason = `could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`${describeError(error)}\n`);
    mocha = newMocha(options, [...missing, ...present.map((s) => ({ area: s.area, file: display(s.file), reason }))], onReport);
  }
  await run(mocha);
  return outcome?.exitCode ?? ExitCode.Infrastructure;
}

// Started by `meshproof run` over IPC: if that process is killed outright, clean up and end too.
interruptWhenParentLeaves();
try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`${describeError(error)}\n`);
  process.exitCode = exitCodeFor(error);
}
