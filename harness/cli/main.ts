/**
 * meshproof command line. Each command lives in commands/<name>.ts and exports register(program).
 *
 * Exit codes: 0 all promises hold / command succeeded, 1 conformance failures, 2 bad input
 * (policy, flags, files), 3 infrastructure error (no Docker engine, image build failed, …).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, describeError, exitCodeFor } from '../errors.ts';
import { projectRoot } from '../project-root.ts';
import { register as registerDoctor } from './commands/doctor.ts';
import { register as registerCheckPolicies } from './commands/check-policies.ts';
import { register as registerClean } from './commands/clean.ts';
import { register as registerDiff } from './commands/diff.ts';
import { register as registerExplain } from './commands/explain.ts';
import { register as registerPki } from './commands/pki.ts';
import { register as registerRender } from './commands/render.ts';
import { register as registerSmoke } from './commands/smoke.ts';
import { register as registerRun } from './commands/run.ts';

const version = (JSON.parse(readFileSync(`${projectRoot}/package.json`, 'utf8')) as { version: string }).version;

export function buildProgram(): Command {
  const program = new Command('meshproof')
    .description('Chaos and conformance harness for Istio-style service meshes')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDoctor(program);
  registerExplain(program);
  registerCheckPolicies(program);
  registerDiff(program);
  registerPki(program);
  registerRender(program);
  registerSmoke(program);
  registerRun(program);
  registerClean(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every usage error is bad input.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput;
    }
    process.stderr.write(`${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}

/**
 * `meshproof ... | head` closes the pipe early; that is the reader's choice, not an error. The
 * command goes on without that stream, so that it still removes what it started (exiting on the
 * spot left a smoke run's containers behind).
 */
export function tolerateClosedPipes(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
      throw error;
    });
  }
}

if (import.meta.main) {
  tolerateClosedPipes();
  process.exitCode = await main(process.argv.slice(2));
}
