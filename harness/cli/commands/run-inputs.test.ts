/**
 * `meshproof run` refuses bad input before anything starts: exit 2 (3 for the environment), one
 * error line naming the cause, no mocha process (no run header) and no report. Runs on the fixture
 * suites, which start no container either way.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ExitCode } from '../../errors.ts';
import { projectRoot } from '../../project-root.ts';

const SUITES = join(projectRoot, 'harness/report/testdata/suites');
const MESHPROOF = join(projectRoot, 'bin/meshproof');

interface Refused {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly reportDir: string;
}

function run(args: readonly string[], env: NodeJS.ProcessEnv = {}, command: readonly string[] = ['sh', MESHPROOF]): Refused {
  const reportDir = mkdtempSync(join(tmpdir(), 'meshproof-inputs-'));
  const [exe, ...pre] = command;
  const r = spawnSync(exe!, [...pre, 'run', '--suites-dir', SUITES, '--report', reportDir, ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, MESHPROOF_FIXTURE_MODE: 'pass', ...env },
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, reportDir };
}

/** Exit code, the one error line, and the proof that nothing started. */
function expectRefused(r: Refused, exitCode: number, cause: RegExp): void {
  expect(r.status, r.stderr).to.equal(exitCode);
  const errors = r.stderr.split('\n').filter((line) => line.startsWith('error: '));
  expect(errors, r.stderr).to.have.length(1);
  expect(errors[0]).to.match(cause);
  expect(r.stdout, 'the mocha process never started').to.not.match(/meshproof run mp-/);
  expect(readdirSync(r.reportDir), 'no report').to.deep.equal([]);
}

function policyCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshproof-policies-'));
  cpSync(join(projectRoot, 'fixtures/seed'), dir, { recursive: true });
  return dir;
}

describe('meshproof run: inputs checked before anything starts', function () {
  this.timeout(60_000);

  it('--report naming an existing file, a folder in /proc or /sys', function () {
    const file = join(mkdtempSync(join(tmpdir(), 'meshproof-report-file-')), 'report.html');
    writeFileSync(file, 'not a folder');
    expectRefused(run(['--report', file]), ExitCode.BadInput, /^error: --report .*report\.html: is a file, not a folder$/);
    expectRefused(run(['--report', '/proc/x']), ExitCode.BadInput, /^error: --report \/proc\/x: \/proc is on the kernel's proc file system/);
    expectRefused(run(['--report', '/sys/kernel/meshproof']), ExitCode.BadInput, /sysfs file system/);
  });

  it('--report on a read-only file system', function () {
    // A read-only mount of our own, in a mount namespace of our own (needs root).
    if (spawnSync('unshare', ['--mount', 'true']).status !== 0) this.skip();
    const mountPoint = mkdtempSync(join(tmpdir(), 'meshproof-ro-'));
    // `sh -c script $0 $1 …`: $0 is bin/meshproof, $1 the mount point, then the run's arguments.
    const script = `mount -t tmpfs -o ro none "$1" && shift && exec sh "$0" "$@"`;
    const r = run(['--report', join(mountPoint, 'reports')], {}, ['unshare', '--mount', 'sh', '-c', script, MESHPROOF, mountPoint]);
    expectRefused(r, ExitCode.BadInput, /: is on a read-only file system$/);
  });

  it("an empty flag (--suite '', --dataplane '') and an absurd --time-scale", function () {
    expectRefused(run(['--suite', '']), ExitCode.BadInput, /^error: --suite '' is empty$/);
    expectRefused(run(['--dataplane', ' ']), ExitCode.BadInput, /^error: --dataplane ' ' is empty$/);
    expectRefused(run(['--time-scale', '1e-300']), ExitCode.BadInput, /^error: --time-scale '1e-300' is not a number from 0\.001 to 1$/);
  });

  it('a YAML alias bomb: bad input with the file, not an internal error', function () {
    const dir = policyCopy();
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i += 1) levels.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9).fill(`*${'abcdefghij'[i - 1]}`).join(',')}]`);
    writeFileSync(join(dir, 'bomb.yaml'), `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: bomb, namespace: x}\nspec:\n${levels.map((l) => `  ${l}`).join('\n')}\n`);
    expectRefused(run(['--policies', dir]), ExitCode.BadInput, /bomb\.yaml:1: YAML aliases expand past 100 references/);
  });

  it('a symlink loop, an empty folder, a file over the size cap', function () {
    const loop = policyCopy();
    mkdirSync(join(loop, 'sub'));
    symlinkSync(loop, join(loop, 'sub', 'back'));
    expectRefused(run(['--policies', loop]), ExitCode.BadInput, /sub\/back: a symlink loop: it leads back to /);

    const empty = mkdtempSync(join(tmpdir(), 'meshproof-empty-'));
    mkdirSync(join(empty, 'nested'));
    writeFileSync(join(empty, 'nested', 'README.md'), 'no policies here');
    expectRefused(run(['--policies', empty]), ExitCode.BadInput, /: the folder holds no \.yaml or \.yml file$/);

    const big = policyCopy();
    writeFileSync(join(big, 'big.yaml'), `# ${'x'.repeat(3 * 1024 * 1024)}\n`);
    expectRefused(run(['--policies', big]), ExitCode.BadInput, /big\.yaml: policy file is 3\.0 MiB; meshproof reads at most 2 MiB per file$/);
  });

  it('a policy folder holding meshproof render output', function () {
    const dir = policyCopy();
    const out = mkdtempSync(join(tmpdir(), 'meshproof-render-'));
    const rendered = spawnSync('sh', [MESHPROOF, 'render', '--dataplane', 'envoy', dir, '--out', out], { encoding: 'utf8' });
    expect(rendered.status, rendered.stderr).to.equal(0);
    cpSync(out, join(dir, 'envoy'), { recursive: true });
    expectRefused(run(['--policies', dir]), ExitCode.BadInput, /are Envoy configuration written by 'meshproof render', not Istio policies$/);
    const inside = spawnSync('sh', [MESHPROOF, 'render', '--dataplane', 'envoy', dir, '--out', join(dir, 'again')], { encoding: 'utf8' });
    expect(inside.status).to.equal(ExitCode.BadInput);
    expect(inside.stderr).to.contain('is inside the policy folder');
  });

  it('a runs folder too long for Unix socket paths: an infrastructure error (exit 3) that says how to fix it', function () {
    const r = run([], { MESHPROOF_RUNS_DIR: join(tmpdir(), 'r'.repeat(90)) });
    expectRefused(r, ExitCode.Infrastructure, /would pass Linux's 107-byte limit for Unix socket paths/);
    expect(r.stderr).to.contain('hint: set MESHPROOF_RUNS_DIR to a shorter folder');
    expect(r.stderr).to.contain('code: MESHPROOF_ERR_SOCKET_PATH');
  });
});
