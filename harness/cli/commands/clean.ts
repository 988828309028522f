/**
 * `meshproof clean [--all] [--dry-run] [--json]`: lists and removes what meshproof runs left on the
 * engine (containers, networks) and in the runs folder (config, certificates, keys).
 *
 * Without --all it removes only runs whose owner process is proved gone (runtime/owner.ts), the
 * rule every run's start-up sweep follows; runs that may be alive (in another PID namespace, on
 * another machine, or made by an older meshproof) are listed as kept, with the reason. --all
 * removes every run, live ones included. --dry-run removes nothing.
 */
import type { Command } from 'commander';
import { resolveTimeouts } from '../../config/timeouts.ts';
import { ErrorCode, ExitCode, MeshproofError } from '../../errors.ts';

interface CleanFlags {
  readonly all?: boolean;
  readonly run?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

function counts(objects: readonly { kind: string }[]): string {
  const n = (kind: string): number => objects.filter((o) => o.kind === kind).length;
  const parts = [`${n('container')} container(s)`, `${n('network')} network(s)`];
  if (n('folder') > 0) parts.push('its folder');
  return parts.join(', ');
}

export function register(program: Command): void {
  program
    .command('clean')
    .description('list and remove what meshproof runs left: containers, networks and run folders of runs whose process is gone (--all: of every run)')
    .option('--all', 'remove every run, including runs that may still be going (another terminal, another CI job on this engine)')
    .option('--run <ids>', 'only these runs (comma-separated run ids, as listed)')
    .option('--dry-run', 'say what would be removed, and remove nothing')
    .option('--json', 'print the runs found and what was (or would be) removed as JSON')
    .addHelpText(
      'after',
      [
        '',
        'A run is removed without --all only when its owner process is proved gone: checked in its own',
        'PID namespace of the same boot. Each run also has a reaper that removes it when its process ends.',
        'Lines: "remove <run>: …" (or "would remove" with --dry-run), "keep <run>: … (reason)".',
        'Exit codes: 0 done; 3 no Docker engine answers, or something could not be removed.',
      ].join('\n'),
    )
    .action(async (flags: CleanFlags) => {
      // Loaded here: the Docker client costs most of a second, which other commands need not pay.
      const { connectDocker } = await import('../../runtime/docker/docker-connection.ts');
      const { runsRoot } = await import('../../runtime/docker/runs-root.ts');
      const { sweep } = await import('../../runtime/docker/sweeper.ts');
      const onlyRunIds = flags.run === undefined ? undefined : flags.run.split(',').map((id) => id.trim()).filter((id) => id !== '');
      if (onlyRunIds !== undefined && onlyRunIds.length === 0) throw new MeshproofError(ErrorCode.BadArgument, `--run '${flags.run ?? ''}' names no run`, { hint: 'e.g. --run mp-20261123-093449-fcf0 (meshproof clean --dry-run lists them)' });
      const client = await connectDocker(resolveTimeouts().runtimeConnect);
      const root = runsRoot();
      const result = await sweep(client.container.dockerode, root, { scope: flags.all === true ? 'all' : 'gone', dryRun: flags.dryRun === true, ...(onlyRunIds === undefined ? {} : { onlyRunIds }) });
      const doomed = new Set(result.removed.map((o) => o.id));
      const verb = flags.dryRun === true ? 'would remove' : 'remove';
      if (flags.json === true) {
        process.stdout.write(
          `${JSON.stringify(
            {
              runsRoot: root,
              dryRun: flags.dryRun === true,
              all: flags.all === true,
              runs: result.runs.map((r) => ({ runId: r.runId, gone: r.gone, reason: r.reason, objects: r.objects.map((o) => ({ kind: o.kind, name: o.name, owner: o.owner.state, removed: doomed.has(o.id) })) })),
              failed: result.failed.map((f) => ({ kind: f.object.kind, name: f.object.name, error: f.error })),
            },
            null,
            2,
          )}\n`,
        );
      } else {
        for (const run of result.runs) {
          const going = run.objects.filter((o) => doomed.has(o.id));
          if (going.length > 0) process.stdout.write(`${verb} ${run.runId}: ${counts(going)} (${run.gone ? run.reason : `--all; ${run.reason}`})\n`);
          else process.stdout.write(`keep ${run.runId}: ${counts(run.objects)} (${run.reason})\n`);
        }
        for (const f of result.failed) process.stderr.write(`clean: could not remove ${f.object.kind} ${f.object.name}: ${f.error}\n`);
        const kept = result.runs.filter((r) => !r.objects.some((o) => doomed.has(o.id))).length;
        const touched = result.runs.length - kept;
        process.stderr.write(
          result.runs.length === 0
            ? `clean: nothing of meshproof on the engine or in ${root}\n`
            : `clean: ${touched} run(s) ${flags.dryRun === true ? 'would be removed' : 'removed'}, ${kept} kept${kept > 0 && flags.all !== true ? ' (--all removes them too)' : ''}\n`,
        );
      }
      process.exitCode = result.failed.length > 0 ? ExitCode.Infrastructure : ExitCode.Ok;
    });
}
