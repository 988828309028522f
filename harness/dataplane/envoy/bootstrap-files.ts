/**
 * A rendered Envoy configuration as files in a sidecar's config folder: the bootstrap (with a
 * header comment saying what it is) and the files it watches. Each file is replaced atomically
 * (written beside it, then renamed), clusters before listeners, so Envoy's file watch never reads
 * half a file and a new listener never names a cluster Envoy does not have yet. What is checked
 * is the text read back from the written files, so a serialization slip cannot pass unseen.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { writeAtomically } from '../../util/write-atomically.ts';
import type { EnvoyConfig } from './envoy-config.ts';
import type { JsonObject } from './json.ts';
import { ENVOY_BOOTSTRAP_FILE } from './render-options.ts';
import { checkEnvoyConfig, formatFileProblem, type FileProblem } from './static-check.ts';

function header(c: EnvoyConfig): string {
  const n = c.proxy.node;
  const lines = [
    `Envoy v3 bootstrap for the sidecar of ${n.workload === undefined ? 'client' : 'workload'} ${n.namespace}/${n.workload ?? n.pod} (pod ${n.pod}), written by meshproof`,
    `from its istiod translation (harness/dataplane/istiod) as istiod would configure that sidecar.`,
    `Time scale: ${c.proxy.outbound?.timeScale ?? 1}: every duration a policy writes, and Envoy's outlier defaults, are multiplied by it.`,
    c.options.adminSocket === null ? 'Admin: 127.0.0.1:15000.' : `Admin: unix:${c.options.adminSocket} (only the harness reaches it).`,
    ...c.proxy.inbound.ports.map((p) => `Inbound: 0.0.0.0:${p.port} -> app 127.0.0.1:${c.options.appPort} (${p.protocol}, ${p.mtlsMode}).`),
    ...(c.proxy.outbound?.listeners ?? []).map((l) => `Outbound: ${c.proxy.outbound?.bindAddress ?? '127.0.0.1'}:${l.port} -> port ${l.servicePort} (${l.protocol}).`),
    ...c.proxy.notes.map((note) => `Note: ${note}`),
  ];
  return lines.map((l) => `# ${l}`).join('\n');
}

const yaml = (document: JsonObject): string => stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });

/** The bootstrap file's text. */
export function bootstrapYaml(c: EnvoyConfig): string {
  return `${header(c)}\n${yaml(c.bootstrap)}`;
}

export interface WrittenConfig {
  /** Absolute paths: the bootstrap first, then the files it watches. */
  readonly files: readonly string[];
  readonly problems: readonly FileProblem[];
}

/** Writes the configuration into `dir` (the bootstrap, then clusters, listeners, secrets) and checks it as read back. */
export async function writeEnvoyConfig(dir: string, config: EnvoyConfig): Promise<WrittenConfig> {
  mkdirSync(dir, { recursive: true });
  const bootstrapPath = join(dir, ENVOY_BOOTSTRAP_FILE);
  await writeAtomically(bootstrapPath, bootstrapYaml(config));
  const files = [bootstrapPath];
  for (const f of config.files) {
    const path = join(dir, f.name);
    await writeAtomically(path, yaml(f.document));
    files.push(path);
  }
  const readBack: EnvoyConfig = {
    ...config,
    bootstrap: parse(readFileSync(bootstrapPath, 'utf8')) as JsonObject,
    files: config.files.map((f) => ({ name: f.name, document: parse(readFileSync(join(dir, f.name), 'utf8')) as JsonObject })),
  };
  const problems = checkEnvoyConfig(readBack).map((p) => ({ ...p, file: join(dir, p.file) }));
  return { files, problems };
}

/** A rendered config that Envoy's API refuses is a meshproof bug: exit 3, naming file and field. */
export function throwIfConfigInvalid(problems: readonly FileProblem[]): void {
  const first = problems[0];
  if (first === undefined) return;
  throw new MeshproofError(ErrorCode.ConfigInvalid, `rendered Envoy config fails the static check: ${formatFileProblem(first)}${problems.length > 1 ? ` (and ${problems.length - 1} more:\n  ${problems.slice(1).map(formatFileProblem).join('\n  ')})` : ''}`, {
    location: { file: first.file, field: first.path },
    hint: 'this is a bug in the Envoy data plane (harness/dataplane/envoy or istiod); please report it with the policy files',
  });
}
