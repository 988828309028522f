/**
 * The resilience suite on a busy machine (issue 17): `meshproof run --suite resilience` N times
 * (default 3) on each data plane (default reference and envoy) while the cores are loaded, each
 * run a fresh CLI process as a user or a nightly job runs it. The load is `stress-ng --cpu <k>`
 * when installed (k = the number of cores), else a Node busy loop per core of its own. Per run it
 * prints the time scale and how it was chosen, each case's outcome (passed, failed,
 * infrastructure error with its code) and how long the run took; at the end a tally per data
 * plane and case. Figures are printed, never asserted.
 *
 * Run: npm run bench:busy [-- --runs 2 --planes reference,envoy --time-scale 0.02 --no-load]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../harness/project-root.ts';
import type { ConformanceReport } from '../harness/report/schema.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    planes: { type: 'string', default: 'reference,envoy' },
    'time-scale': { type: 'string' },
    grep: { type: 'string' },
    'no-load': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const planes = values.planes!.split(',');
const cores = cpus().length;

/** Starts the load; returns how to stop it (by the pid this bench started). */
function startLoad(): { readonly what: string; stop(): void } {
  if (values['no-load']) return { what: 'no load', stop: () => undefined };
  if (spawnSync('stress-ng', ['--version']).status === 0) {
    const child = spawn('stress-ng', ['--cpu', String(cores), '--timeout', '0'], { stdio: 'ignore' });
    return { what: `stress-ng --cpu ${cores} (pid ${child.pid})`, stop: () => void child.kill('SIGTERM') };
  }
  const loops: ChildProcess[] = Array.from({ length: cores }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return { what: `${cores} Node busy loops (pids ${loops.map((c) => c.pid).join(', ')})`, stop: () => loops.forEach((c) => c.kill('SIGTERM')) };
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

interface RunResult {
  readonly plane: string;
  readonly exit: number | null;
  readonly seconds: number;
  readonly timing: string;
  readonly cases: readonly { readonly name: string; readonly status: string; readonly detail: string }[];
}

function runOnce(plane: string, reportDir: string): RunResult {
  const args = ['run', '--suite', 'resilience', '--dataplane', plane, '--report', reportDir, ...(values['time-scale'] === undefined ? [] : ['--time-scale', values['time-scale']]), ...(values.grep === undefined ? [] : ['--grep', values.grep])];
  const began = Date.now();
  const r = spawnSync(join(projectRoot, 'bin/meshproof'), args, { cwd: projectRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (Date.now() - began) / 1000;
  let report: ConformanceReport | undefined;
  try {
    report = JSON.parse(readFileSync(join(reportDir, 'latest', 'report.json'), 'utf8')) as ConformanceReport;
  } catch {
    process.stdout.write(`  no report: exit ${r.status}; stderr: ${r.stderr.slice(-800)}\n`);
  }
  const t = report?.run.timing;
  const timing = report === undefined ? '?' : `time scale ${report.run.timeScale}${t === undefined ? '' : ` (${t.timeScaleFrom}; start p99 ${t.startJitter.p99Ms} ms, max ${t.startJitter.maxMs} ms)`}`;
  const cases = (report?.cases ?? []).map((c) => {
    const o = c.outcome;
    const detail = o.status === 'failed' ? o.message : o.status === 'error' ? `${o.code}: ${o.message}` : o.status === 'skipped' ? o.reason : '';
    return { name: c.shortName, status: o.status === 'error' ? `error ${o.code.replace('MESHPROOF_ERR_', '')}` : o.status, detail };
  });
  return { plane, exit: r.status, seconds, timing, cases };
}

const load = startLoad();
const results: RunResult[] = [];
process.stdout.write(`busy-machine bench: ${runs} run(s) × ${planes.join(', ')}, ${cores} cores, load: ${load.what}\n`);
try {
  for (let i = 1; i <= runs; i++) {
    for (const plane of planes) {
      const reportDir = mkdtempSync(join(tmpdir(), `meshproof-busy-${plane}-`));
      process.stdout.write(`\nrun ${i} on ${plane} (load average ${loadAverage()})\n`);
      const r = runOnce(plane, reportDir);
      results.push(r);
      process.stdout.write(`  exit ${r.exit}, ${r.seconds.toFixed(0)} s, ${r.timing}; report in ${reportDir}/latest\n`);
      for (const c of r.cases) process.stdout.write(`  ${c.status.padEnd(22)} ${c.name}${c.detail === '' ? '' : `: ${c.detail.slice(0, 400)}`}\n`);
    }
  }
} finally {
  load.stop();
}

process.stdout.write('\ntally (passed / failed / infrastructure error / other, per case and data plane)\n');
for (const plane of planes) {
  const mine = results.filter((r) => r.plane === plane);
  const names = [...new Set(mine.flatMap((r) => r.cases.map((c) => c.name)))];
  const count = (name: string | undefined, p: (s: string) => boolean): number => mine.flatMap((r) => r.cases).filter((c) => (name === undefined || c.name === name) && p(c.status)).length;
  const line = (name?: string): string => `${count(name, (s) => s === 'passed')} / ${count(name, (s) => s === 'failed')} / ${count(name, (s) => s.startsWith('error'))} / ${count(name, (s) => s !== 'passed' && s !== 'failed' && !s.startsWith('error'))}`;
  process.stdout.write(`${plane}: ${mine.length} runs, ${mine.filter((r) => r.exit === 0).length} exited 0; all cases ${line()}\n`);
  for (const name of names) process.stdout.write(`  ${line(name).padEnd(16)} ${name}\n`);
}
