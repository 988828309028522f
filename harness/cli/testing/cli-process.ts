/**
 * Test helpers for docker tests that run bin/meshproof as a user would and check, with the docker
 * CLI (independently of meshproof's own code), what a run left on the engine.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../project-root.ts';

export const MESHPROOF = join(projectRoot, 'bin/meshproof');

/** Containers and networks whose run label is `runId` or `runId-…` (the user-policy run of the same run). */
export function leftovers(runId: string): { containers: string[]; networks: string[] } {
  const list = (args: string[]): string[] =>
    execFileSync('docker', args, { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '')
      .filter((line) => {
        const [, label] = line.split(' ');
        return label === runId || label?.startsWith(`${runId}-`) === true;
      })
      .map((line) => line.split(' ')[0]!);
  return {
    containers: list(['ps', '-a', '--filter', 'label=org.meshproof.run', '--format', '{{.Names}} {{.Label "org.meshproof.run"}}']),
    networks: list(['network', 'ls', '--filter', 'label=org.meshproof.run', '--format', '{{.Name}} {{.Label "org.meshproof.run"}}']),
  };
}

/** Processes (of this PID namespace) whose environment names the run: a mocha process left running, say. */
export function processesOfRun(runId: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join('/proc', entry, 'environ'), 'latin1').split('\0').includes(`MESHPROOF_RUN_ID=${runId}`)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

export interface Watched {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns a command with its output collected. */
export function watch(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Watched {
  const child = spawn(command, [...args], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `condition` every `intervalMs` until it returns a value, or throws after `timeoutMs`. */
export async function until<T>(what: string, condition: () => T | undefined, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
