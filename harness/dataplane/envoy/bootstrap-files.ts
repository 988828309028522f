/**
 * Rendered sidecars as files: `<id>.envoy.yaml` (a header comment stating what it is, the time
 * scale and the port layout, then the bootstrap) and the SDS files it points at. What is checked
 * is the text read back from the written file, so a serialization slip cannot pass unseen.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ErrorCode, MeshproofError } from '../../errors.ts';
import type { RenderedSidecar } from './bootstrap.ts';
import { ENVOY_BOOTSTRAP_FILE } from './render-options.ts';
import { checkRenderedSidecar, formatFileProblem, type FileProblem } from './static-check.ts';

export function bootstrapFileName(sidecar: RenderedSidecar): string {
  return `${sidecar.id}.${ENVOY_BOOTSTRAP_FILE}`;
}

function header(s: RenderedSidecar): string {
  const lines = [
    `Envoy v3 static bootstrap for the sidecar of ${s.kind} ${s.key}, rendered by meshproof from the`,
    'resolved policies as istiod would configure that sidecar (see envoy-mapping.md).',
    `Time scale: ${s.timeScale}. Every duration a policy writes, and Envoy's outlier defaults, are multiplied`,
    'by it (node.metadata.meshproof.time_scale says the same).',
    `Admin: 127.0.0.1:${s.ports.admin}${s.ports.statsSocket === null ? '' : `; GET /stats/prometheus on unix:${s.ports.statsSocket}`}.`,
    ...s.ports.inbound.map((p) => `Inbound: 0.0.0.0:${p.listenPort} -> app 127.0.0.1:${p.workloadPort} (${p.protocol}, ${p.mtlsMode}).`),
    ...s.ports.outbound.map((p) => `Outbound: 127.0.0.1:${p.listenPort} -> port ${p.servicePort} (${p.protocol}) of ${p.services.join(', ')}.`),
    ...s.notes.map((n) => `Not rendered: ${n}`),
  ];
  return lines.map((l) => `# ${l}`).join('\n');
}

/** The bootstrap file's text. */
export function bootstrapYaml(s: RenderedSidecar): string {
  return `${header(s)}\n${stringify(s.bootstrap, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

export interface WrittenSidecar {
  readonly sidecar: RenderedSidecar;
  /** Absolute paths: the bootstrap first, then the SDS files. */
  readonly files: readonly string[];
  readonly problems: readonly FileProblem[];
}

/**
 * Writes one sidecar's files into `dir` and checks them as read back. With `plainNames`, the
 * files are `envoy.yaml`, `sds-*.yaml` (a sidecar's own folder); otherwise prefixed with its id.
 */
export function writeSidecarFiles(dir: string, sidecar: RenderedSidecar, options: { plainNames?: boolean } = {}): WrittenSidecar {
  mkdirSync(dir, { recursive: true });
  const name = (base: string): string => (options.plainNames === true ? base : `${sidecar.id}.${base}`);
  const bootstrapPath = join(dir, name(ENVOY_BOOTSTRAP_FILE));
  writeFileSync(bootstrapPath, bootstrapYaml(sidecar));
  const files = [bootstrapPath];
  // The static check names files `<id>.<base>`; problems are reported against the written paths.
  const written = new Map([[`${sidecar.id}.${ENVOY_BOOTSTRAP_FILE}`, bootstrapPath]]);
  for (const sds of sidecar.sds) {
    const path = join(dir, name(sds.name));
    writeFileSync(path, stringify(sds.document, { lineWidth: 0, aliasDuplicateObjects: false }));
    files.push(path);
    written.set(`${sidecar.id}.${sds.name}`, path);
  }
  const readBack: RenderedSidecar = {
    ...sidecar,
    bootstrap: parse(readFileSync(bootstrapPath, 'utf8')) as RenderedSidecar['bootstrap'],
    sds: sidecar.sds.map((s) => ({ name: s.name, document: parse(readFileSync(join(dir, name(s.name)), 'utf8')) as RenderedSidecar['bootstrap'] })),
  };
  const problems = checkRenderedSidecar(readBack).map((p) => ({ ...p, file: written.get(p.file) ?? p.file }));
  return { sidecar, files, problems };
}

/** A rendered config that Envoy's API refuses is a meshproof bug: exit 3, naming file and field. */
export function throwIfConfigInvalid(written: readonly WrittenSidecar[]): void {
  const problems = written.flatMap((w) => w.problems);
  const first = problems[0];
  if (first === undefined) return;
  throw new MeshproofError(ErrorCode.ConfigInvalid, `rendered Envoy config fails the static check: ${formatFileProblem(first)}${problems.length > 1 ? ` (and ${problems.length - 1} more:\n  ${problems.slice(1).map(formatFileProblem).join('\n  ')})` : ''}`, {
    location: { file: first.file, field: first.path },
    hint: 'this is a bug in the Envoy adapter (harness/dataplane/envoy); please report it with the policy files',
  });
}
