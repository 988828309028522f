/**
 * `meshproof render --dataplane envoy <policy dir> --out DIR`: one Envoy configuration per
 * sidecar from the istiod translation `run` uses, each checked against Envoy's API before the
 * command succeeds. By default one self-contained bootstrap per sidecar (listeners and clusters
 * inline); `--xds files` writes them as the files a running sidecar watches.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { throwIfConfigInvalid, writeEnvoyConfig } from '../../dataplane/envoy/bootstrap-files.ts';
import { envoyApi } from '../../dataplane/envoy/envoy-api.ts';
import { renderMeshEnvoyConfigs } from '../../dataplane/envoy/envoy-config.ts';
import type { CertificateSource } from '../../dataplane/envoy/tls.ts';
import { ErrorCode, ExitCode, MeshproofError } from '../../errors.ts';
import { formatIssue, throwIfErrors } from '../../model/issues.ts';
import { TOPOLOGY_HELP, readPolicyInputs } from '../../model/policy-inputs.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { parseTimeScale } from '../../run/run-options.ts';

interface RenderOptions {
  readonly dataplane: string;
  readonly out: string;
  readonly topology?: string;
  readonly timeScale: string;
  readonly certificates: string;
  readonly xds: string;
  readonly json?: boolean;
}

export function register(program: Command): void {
  program
    .command('render')
    .description("write the data plane's config for every sidecar (Envoy: one v3 bootstrap each, as istiod would) and check it against the data plane's API")
    .argument('<policy-dir>', 'a policy YAML file or a directory of them (searched recursively)')
    .requiredOption('--dataplane <name>', "the data plane to render for; only 'envoy' has a config to render")
    .requiredOption('--out <dir>', 'folder to write into: <namespace>.<name>/envoy.yaml per sidecar, with the files it points at (a sidecar reads that folder as /run/meshproof/envoy)')
    .option('--topology <file>', TOPOLOGY_HELP)
    .option('--time-scale <factor>', 'multiply every policy duration (and the Envoy defaults the suites rely on) by this factor, e.g. 0.02', '1')
    .option('--certificates <source>', "'sds': file-based SDS that follows certificate rotation (default); 'files': certificate files inline, as the mapping's reference configs", 'sds')
    .option('--xds <mode>', "'static': listeners and clusters inline in each bootstrap (default); 'files': lds.yaml and cds.yaml beside it, as running sidecars watch them", 'static')
    .option('--json', 'print what was written, the port layout and the check result as JSON')
    .addHelpText(
      'after',
      '\nEvery file is read back and checked against Envoy\'s v3 API (unknown fields, enum values, @type URLs, PGV rules, cluster references).\nExit codes: 0 written and checked; 2 bad policy, topology or flag (file:line: field); 3 a rendered file fails the check (a meshproof bug; file: field path).\nExample:\n  meshproof render --dataplane envoy fixtures/seed --out /tmp/envoy --time-scale 0.02',
    )
    .action(async (policyDir: string, options: RenderOptions) => {
      if (options.dataplane !== 'envoy') {
        throw new MeshproofError(ErrorCode.BadArgument, `--dataplane '${options.dataplane}' has no config to render`, { hint: "use --dataplane envoy (the reference sidecar reads the resolved policies directly)" });
      }
      const timeScale = parseTimeScale(options.timeScale, '--time-scale', Number.MAX_SAFE_INTEGER);
      const out = resolve(options.out);
      const policies = resolve(policyDir);
      if (out === policies || out.startsWith(`${policies}/`)) {
        throw new MeshproofError(ErrorCode.BadArgument, `--out ${options.out} is inside the policy folder ${policyDir}: the next load would read the rendered Envoy files as policies`, { hint: 'render into a folder outside the policy folder, e.g. --out /tmp/envoy' });
      }
      if (options.certificates !== 'sds' && options.certificates !== 'files') throw new MeshproofError(ErrorCode.BadArgument, `--certificates '${options.certificates}' must be sds or files`);
      if (options.xds !== 'static' && options.xds !== 'files') throw new MeshproofError(ErrorCode.BadArgument, `--xds '${options.xds}' must be static or files`);
      const inputs = readPolicyInputs(policyDir, options.topology);
      throwIfErrors(inputs.issues);
      if (inputs.topology === undefined) {
        throw new MeshproofError(ErrorCode.BadArgument, `no topology: ${policyDir} has no topology.yaml`, { hint: 'pass --topology FILE describing the workloads (see fixtures/seed/topology.yaml)' });
      }
      for (const issue of inputs.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      const api = envoyApi();
      const started = performance.now();
      const sidecars = renderMeshEnvoyConfigs(resolveMesh(inputs.policies.set, inputs.topology), { timeScale, certificates: options.certificates as CertificateSource, xds: options.xds as 'static' | 'files' });
      const written = await Promise.all(sidecars.map(async (s) => ({ sidecar: s, ...(await writeEnvoyConfig(join(resolve(options.out), s.id), s.config)) })));
      const elapsedMs = performance.now() - started;
      throwIfConfigInvalid(written.flatMap((w) => w.problems));
      if (options.json === true) {
        const out = written.map((w) => ({
          sidecar: w.sidecar.key,
          kind: w.sidecar.kind,
          files: w.files,
          inbound: w.sidecar.config.proxy.inbound.ports,
          outbound: (w.sidecar.config.proxy.outbound?.listeners ?? []).map((l) => ({ port: l.port, servicePort: l.servicePort, protocol: l.protocol })),
          notes: w.sidecar.config.proxy.notes,
          problems: w.problems,
        }));
        process.stdout.write(`${JSON.stringify({ dataplane: 'envoy', timeScale, xds: options.xds, api: api.source.package, sidecars: out }, null, 2)}\n`);
      } else {
        for (const w of written) {
          const notes = w.sidecar.config.proxy.notes.length;
          process.stdout.write(`${w.files[0]}  (${w.sidecar.kind} ${w.sidecar.key}${notes > 0 ? `; ${notes} note(s) in its header` : ''})\n`);
        }
        process.stdout.write(`${written.length} Envoy config(s) rendered and checked against Envoy's v3 API (${api.source.package}, ${api.source.protoFiles} proto files) in ${elapsedMs.toFixed(0)} ms; time scale ${timeScale}\n`);
      }
      process.exitCode = ExitCode.Ok;
    });
}
