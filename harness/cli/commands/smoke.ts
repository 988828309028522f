/**
 * `meshproof smoke`: builds the images (or finds them cached), starts one pod and one client,
 * shows the app answers through its sidecar and not directly, and removes everything.
 */
import type { Command } from 'commander';
import { resolveTimeouts } from '../../config/timeouts.ts';
import { ExitCode } from '../../errors.ts';
import { DockerRuntime } from '../../runtime/docker/docker-runtime.ts';
import { runSmokeCheck } from '../../runtime/smoke-check.ts';
import { showProgress } from '../progress.ts';

export function register(program: Command): void {
  program
    .command('smoke')
    .description('start one pod (app + pass-through sidecar) and one client, check the pod shape, and clean up')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const stopProgress = showProgress();
      const timeouts = resolveTimeouts();
      const started = Date.now();
      const runtime = await DockerRuntime.start({ timeouts });
      try {
        const result = await runSmokeCheck(runtime, timeouts.control);
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        } else {
          process.stdout.write(
            [
              `run ${result.runId}`,
              `through the sidecar: ${result.throughSidecar.outcome} ${result.throughSidecar.status ?? ''} from ${result.throughSidecar.echo?.pod ?? '-'}`,
              `direct to the app:   ${result.direct.outcome} (${result.direct.error?.code ?? '-'})`,
              `app received:        ${result.appReceived.join(', ') || '(nothing)'}`,
              result.passed ? 'smoke: passed' : `smoke: FAILED\n  ${result.problems.join('\n  ')}`,
            ].join('\n') + '\n',
          );
        }
        if (!result.passed) process.exitCode = ExitCode.ConformanceFailure;
      } finally {
        await runtime.close();
        stopProgress();
        process.stderr.write(`removed run ${runtime.runId} (${((Date.now() - started) / 1000).toFixed(1)} s in all)\n`);
      }
    });
}
