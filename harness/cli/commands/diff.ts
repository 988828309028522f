/**
 * `meshproof diff BASE_DIR HEAD_DIR`: review a policy change before it ships. Both policy sets are
 * loaded and validated, resolved on one topology, and the union of their boundary probes is asked
 * of the oracle under each: every probe whose decision changes, grouped by the rule that decides
 * it on each side (with file:line), the ports whose mTLS mode changes, the resilience settings
 * that change (as consequences), and what widens access first. `--expect` holds the user's
 * intents to both sides; `--live` sends the changed probes on running pods, BASE then HEAD.
 *
 * Exit codes: 0 reviewed (whatever changed); 1 HEAD breaks an intent BASE kept, or a live probe
 * disagrees with the oracle; 2 bad input (a policy of either side, the topology, a flag, the intent
 * file); 3 infrastructure (--live could not start its pods).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { ChangeReview, LiveConfirmation } from '../../change/change-review.ts';
import { formatLive, formatReview, markdownSummary } from '../../change/format-change.ts';
import { LIVE_CHANGE_MODULE, type ConfirmChangeLive, type LiveChangeOutcome } from '../../change/live-change.ts';
import { reviewChange, type ChangeSideInput } from '../../change/review-change.ts';
import { readIntentFile } from '../../conformance/intent-file.ts';
import { randomSeed } from '../../run/run-options.ts';
import type { DataPlaneName } from '../../spec/data-plane.ts';
import { selectDataPlanes } from '../data-plane-selection.ts';
import { ErrorCode, ExitCode, MeshproofError, describeError } from '../../errors.ts';
import { formatIssue, hasErrors, type Issue } from '../../model/issues.ts';
import { defaultTopologyPath, readPolicyInputs } from '../../model/policy-inputs.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { displayPath } from '../../model/yaml-files.ts';
import { projectRoot } from '../../project-root.ts';
import { buildChangeReport } from '../../report/change-report.ts';
import { checkReportDir } from '../../report/report-dir.ts';
import { writeReport } from '../../report/write-report.ts';
import { newRunId } from '../../spec/run.ts';

interface DiffFlags {
  readonly topology?: string;
  readonly expect?: string;
  readonly json?: boolean;
  readonly report?: string;
  readonly live?: boolean;
  readonly dataplane: string;
  readonly seed?: string;
  readonly summary?: string;
  readonly all?: boolean;
}

/**
 * --live runs the policies' durations as written. The changed probes are about mTLS and
 * authorization; a run's 0.02 would make the seed's per-try timeout of 1 s 20 ms, which a loaded
 * machine's calls through two sidecars exceed (504 after the retries).
 */
const LIVE_TIME_SCALE = 1;

/** The topology both sides are resolved on: --topology, else HEAD's topology.yaml, else BASE's. */
export function chooseTopology(baseDir: string, headDir: string, option: string | undefined): { file: string; notes: string[] } {
  if (option !== undefined) return { file: option, notes: [] };
  const head = defaultTopologyPath(headDir, undefined);
  const base = defaultTopologyPath(baseDir, undefined);
  const file = head ?? base;
  if (file === undefined) {
    throw new MeshproofError(ErrorCode.BadArgument, `diff needs a topology: neither ${headDir} nor ${baseDir} holds a topology.yaml`, { hint: 'pass --topology FILE (workloads, services, clients; see fixtures/seed/topology.yaml)' });
  }
  const notes: string[] = [];
  if (head !== undefined && base !== undefined && readFileSync(head, 'utf8') !== readFileSync(base, 'utf8')) {
    notes.push(`topology.yaml differs between BASE and HEAD; both sides are resolved on HEAD's (${displayPath(head)}); pass --topology to choose`);
  }
  return { file, notes };
}

function parseSeed(text: string | undefined): number {
  if (text === undefined) return randomSeed();
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new MeshproofError(ErrorCode.BadArgument, `--seed '${text}' is not an integer from 0 to 4294967295`);
  return n;
}

function loadSide(dir: string, topology: string): { side?: ChangeSideInput; issues: Issue[] } {
  const inputs = readPolicyInputs(dir, topology);
  const issues = [...inputs.issues];
  if (hasErrors(issues) || inputs.topology === undefined) return { issues };
  const mesh = resolveMesh(inputs.policies.set, inputs.topology);
  issues.push(...mesh.notes);
  return { side: { dir, policies: inputs.policies.set, mesh }, issues };
}

/** Runs the live confirmation for each data plane; a plane that cannot start its pods is an infrastructure error. */
async function confirmLive(probes: Parameters<ConfirmChangeLive>[0]['probes'], args: { baseDir: string; headDir: string; topology: string; trustDomain: string; planes: readonly DataPlaneName[]; seed: number; runId: string }): Promise<LiveChangeOutcome[]> {
  const file = join(projectRoot, LIVE_CHANGE_MODULE);
  if (!existsSync(file)) throw new MeshproofError(ErrorCode.NotSupported, `--live needs ${LIVE_CHANGE_MODULE}, which this installation lacks`, { hint: 'run meshproof from its checkout' });
  const { confirmChangeLive } = (await import(pathToFileURL(file).href)) as { confirmChangeLive: ConfirmChangeLive };
  const outcomes: LiveChangeOutcome[] = [];
  for (const plane of args.planes) {
    process.stderr.write(`live: ${probes.length} changed probe(s) on ${plane}: starting the topology's pods with BASE's policies…\n`);
    outcomes.push(
      await confirmChangeLive({
        baseDir: args.baseDir,
        headDir: args.headDir,
        topologyFile: args.topology,
        trustDomain: args.trustDomain,
        probes,
        dataPlane: plane,
        seed: args.seed,
        timeScale: LIVE_TIME_SCALE,
        runId: args.planes.length === 1 ? args.runId : `${args.runId}-${plane}`,
        log: (line) => process.stderr.write(`live: ${line}\n`),
      }),
    );
  }
  return outcomes;
}

function commandLine(baseDir: string, headDir: string, flags: DiffFlags, seed: number): string {
  const parts = ['meshproof', 'diff', baseDir, headDir];
  if (flags.topology !== undefined) parts.push('--topology', flags.topology);
  if (flags.expect !== undefined) parts.push('--expect', flags.expect);
  if (flags.live === true) parts.push('--live', '--dataplane', flags.dataplane, '--seed', String(seed));
  return parts.map((p) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function register(program: Command): void {
  program
    .command('diff')
    .description('review a policy change: which requests change decision (and which widen access), which ports change mTLS mode, which resilience settings change, between BASE_DIR and HEAD_DIR')
    .argument('<base-dir>', 'the policies before the change (a YAML file or a folder)')
    .argument('<head-dir>', 'the policies after the change')
    .option('--topology <file>', 'topology YAML both sides are resolved on (default: HEAD_DIR/topology.yaml, else BASE_DIR/topology.yaml)')
    .option('--expect <file>', 'your intent: YAML list of {from, to, method, path, expect: allow|deny|reject}; exit 1 when HEAD breaks one BASE kept')
    .option('--json', 'print the review as JSON')
    .option('--report <dir>', 'also write the compliance report with its "change" view to <dir>/<id>/ (and <dir>/latest/)')
    .option('--live', 'confirm the changed probes on running pods: BASE in force, then HEAD applied to the same pods')
    .option('--dataplane <names>', 'with --live: the data plane(s), as for run: envoy, reference, a comma-separated list or all (each in turn), or auto (default: envoy where it can be had, else reference)', 'auto')
    .option('--seed <n>', 'with --live: the run seed (default random)')
    .option('--summary <file>', 'append a Markdown summary to this file (e.g. "$GITHUB_STEP_SUMMARY")')
    .option('--all', 'list every changed probe (default: 10 per group)')
    .addHelpText(
      'after',
      [
        '',
        'Exit codes: 0 reviewed (whatever changed); 1 HEAD breaks an intent of --expect that BASE kept, or a --live probe disagrees with the oracle;',
        '            2 bad input (a policy of either side, printed as file:line: field; the topology; a flag; the intent file); 3 infrastructure (--live could not run).',
        'Examples:',
        '  meshproof diff fixtures/seed /tmp/seed-changed',
        '  meshproof diff base/policies head/policies --expect intent.yaml --report reports --summary "$GITHUB_STEP_SUMMARY"',
        '  meshproof diff base/policies head/policies --live --dataplane envoy',
      ].join('\n'),
    )
    .action(async (baseDir: string, headDir: string, flags: DiffFlags) => {
      const started = new Date();
      const t0 = performance.now();
      for (const [flag, value] of [['--topology', flags.topology], ['--expect', flags.expect], ['--report', flags.report], ['--summary', flags.summary], ['--seed', flags.seed]] as const) {
        if (value !== undefined && value.trim() === '') throw new MeshproofError(ErrorCode.BadArgument, `${flag} '${value}' is empty`, { hint: `give ${flag} a value, or leave it out` });
      }
      const seed = parseSeed(flags.seed);
      // Checked before anything is read: a bad name is bad input whatever the policies say.
      const selection = flags.live === true ? await selectDataPlanes(flags.dataplane) : undefined;
      const planes: readonly DataPlaneName[] = selection?.planes ?? [];
      if (selection !== undefined) process.stderr.write(`live: data plane ${selection.reason}\n`);
      if (flags.report !== undefined) checkReportDir(flags.report);
      const topology = chooseTopology(baseDir, headDir, flags.topology);
      const intents = flags.expect === undefined ? [] : readIntentFile(flags.expect);

      const base = loadSide(baseDir, topology.file);
      const head = loadSide(headDir, topology.file);
      for (const [label, side] of [['base', base], ['head', head]] as const) for (const issue of side.issues) process.stderr.write(`${label} ${formatIssue(issue)}\n`);
      const errors = (issues: readonly Issue[]): number => issues.filter((i) => i.severity === 'error').length;
      if (base.side === undefined || head.side === undefined) {
        const which = [errors(base.issues) > 0 ? `${errors(base.issues)} in BASE ${baseDir}` : '', errors(head.issues) > 0 ? `${errors(head.issues)} in HEAD ${headDir}` : ''].filter((x) => x !== '').join(', ');
        process.stderr.write(`diff: ${errors(base.issues) + errors(head.issues)} error(s) (${which}); nothing was compared\n`);
        process.exitCode = ExitCode.BadInput;
        return;
      }

      const { review: staticReview, probes } = reviewChange({ base: base.side, head: head.side, topology: displayPath(topology.file), intents, notes: topology.notes });
      let review: ChangeReview = staticReview;
      const reviewMs = performance.now() - t0;
      const runId = newRunId(started);
      let live: LiveChangeOutcome[] | undefined;
      let liveFailure: unknown;
      if (flags.live === true) {
        const changed = probes.filter((p) => p.base.outcome !== p.head.outcome);
        if (changed.length === 0) {
          process.stderr.write('live: no probe changes decision; nothing to send\n');
          live = [];
        } else {
          try {
            live = await confirmLive(changed, { baseDir, headDir, topology: topology.file, trustDomain: head.side.mesh.mesh.trustDomain, planes, seed, runId });
          } catch (error) {
            // The review stands without live evidence: print it, say why there is none, exit 3.
            liveFailure = error;
            live = [];
          }
        }
        const confirmations: LiveConfirmation[] = liveFailure === undefined ? live.map((l) => l.confirmation) : [{ dataPlane: planes.join(','), version: '-', skipped: `could not run: ${liveFailure instanceof Error ? liveFailure.message : String(liveFailure)}`, probes: [], notSent: [], confirmed: 0, disagreed: 0, durationMs: 0 }];
        review = { ...review, live: confirmations };
      }

      if (flags.json === true) process.stdout.write(`${JSON.stringify(review, null, 2)}\n`);
      else process.stdout.write(`${formatReview(review, flags.all === true ? { limit: Number.POSITIVE_INFINITY } : {})}\n`);
      process.stderr.write(`diff: ${review.summary.probesCompared} probes compared in ${(reviewMs / 1000).toFixed(2)} s (BASE ${review.base.probes}, HEAD ${review.head.probes} generated)${live === undefined || live.length === 0 ? '' : `; live ${(live.reduce((n, l) => n + l.confirmation.durationMs, 0) / 1000).toFixed(1)} s`}\n`);

      let reportAt: string | undefined;
      if (flags.report !== undefined) {
        const first = live?.[0];
        const report = buildChangeReport(review, {
          id: runId,
          startedAt: started.toISOString(),
          finishedAt: new Date().toISOString(),
          toolVersion: program.version() ?? 'unknown',
          host: { platform: `${process.platform} ${process.arch} (${hostname()})`, node: process.version },
          command: commandLine(baseDir, headDir, flags, seed),
          reportDir: resolve(flags.report),
          seed,
          timeScale: LIVE_TIME_SCALE,
          ...(first === undefined ? {} : { live: { cases: live?.flatMap((l) => l.cases) ?? [], dataPlane: first.dataPlane, ...(first.runtime === undefined ? {} : { runtime: first.runtime }) } }),
        });
        const written = writeReport(report, flags.report);
        reportAt = written.files.html;
        process.stderr.write(`report: ${displayPath(written.files.html)} (and report.json, junit.xml); copied to ${displayPath(written.latest)}\n`);
      }
      if (flags.summary !== undefined) appendFileSync(flags.summary, `${markdownSummary(review, reportAt === undefined ? {} : { report: displayPath(reportAt) })}\n`);

      const regressed = review.intents.filter((i) => i.verdict === 'regressed').length;
      const disagreed = (review.live ?? []).reduce((n, l) => n + l.disagreed, 0);
      const liveError = liveFailure !== undefined || (live ?? []).flatMap((l) => l.cases).some((c) => c.outcome.status === 'error');
      if (liveFailure !== undefined) process.stderr.write(`diff: --live could not run (exit 3):\n${describeError(liveFailure)}\n`);
      if (regressed > 0) process.stderr.write(`diff: HEAD breaks ${regressed} intent(s) that BASE kept (exit 1)\n`);
      if (disagreed > 0) process.stderr.write(`diff: ${disagreed} live probe(s) disagree with the oracle (exit 1)\n${formatLive(review.live ?? []).filter((l) => l.includes('DISAGREES')).join('\n')}\n`);
      process.exitCode = regressed > 0 || disagreed > 0 ? ExitCode.ConformanceFailure : liveError ? ExitCode.Infrastructure : ExitCode.Ok;
    });
}
