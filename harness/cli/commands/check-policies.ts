/**
 * `meshproof check-policies <dir>`: validate policy files (and the topology) and print the
 * boundary-probe matrix the oracle generates from them.
 */
import type { Command } from 'commander';
import { ErrorCode, ExitCode, MeshproofError } from '../../errors.ts';
import { formatIssue, hasErrors } from '../../model/issues.ts';
import { resolveMesh } from '../../model/resolve.ts';
import { generateProbes, ruleCoverage, type Probe } from '../../oracle/probe-generator.ts';
import { TOPOLOGY_HELP, readPolicyInputs } from '../../model/policy-inputs.ts';
import { ISTIO_RULES, countRules, type IstioRuleKind } from '../../model/semantics/istio-rules.ts';

function sourceLabel(p: Probe): string {
  const s = p.request.source;
  return s.kind === 'plaintext' ? 'plaintext' : s.kind === 'mesh' ? s.identity : `cert:${s.identity ?? '-'}${s.problem === undefined ? '' : `(${s.problem})`}`;
}

export function formatMatrix(probes: readonly Probe[]): string {
  const rows = probes.map((p) => {
    const e = p.expected;
    const expect = `${e.outcome}${e.expect.status === undefined ? '' : ` ${e.expect.status}`}`;
    return [p.id, `${p.request.method ?? 'GET'} ${p.request.path ?? '/'}`, sourceLabel(p), expect];
  });
  const widths = [0, 1, 2].map((i) => Math.min(90, Math.max(...rows.map((r) => (r[i] ?? '').length), 4)));
  return rows.map((r) => [0, 1, 2].map((i) => (r[i] ?? '').padEnd(widths[i] ?? 0)).join('  ') + `  → ${r[3]}`).join('\n');
}

/** The catalogue of Istio's validation rules and how many check-policies applies. */
export function formatIstioRules(): string {
  const all = countRules();
  const kinds: IstioRuleKind[] = ['AuthorizationPolicy', 'PeerAuthentication', 'DestinationRule', 'VirtualService'];
  const lines = [
    `Istio 1.30.3 validation rules for ${kinds.join(', ')}: ${all.total}`,
    `applied ${all.applied} (${all.applied - all.bySchema} by meshproof's checks of Istio's webhook rules, ${all.bySchema} already by the CRD schema); not applied ${all.notApplied.length}`,
    `per kind: ${kinds.map((k) => { const c = countRules(k); return `${k} ${c.applied}/${c.total}`; }).join(', ')}`,
    ...all.notApplied.map((r) => `not applied: ${r.id} (${r.source}): ${r.rule}; ${typeof r.applied === 'object' ? r.applied.not : ''}`),
    '',
    ...ISTIO_RULES.map((r) => `${typeof r.applied === 'object' ? 'no    ' : r.applied === 'schema' ? 'schema' : 'yes   '}  ${r.severity.padEnd(7)}  ${r.id.padEnd(38)}  ${r.rule}`),
  ];
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('check-policies')
    .description('validate Istio policy YAML (schema and Istio rules, with file:line) and print the generated boundary-probe matrix')
    .argument('[policy-dir]', 'a policy YAML file or a directory of them (searched recursively)')
    .option('--topology <file>', `${TOPOLOGY_HELP}; without one, only validation runs`)
    .option('--json', 'print issues and probes as JSON')
    .option('--istio-rules', "list Istio's validation rules for the four kinds and which of them check-policies applies")
    .addHelpText('after', '\nExit codes: 0 valid (warnings allowed), 2 any error (each printed as file:line:column: field: message).')
    .action((policyDir: string | undefined, options: { topology?: string; json?: boolean; istioRules?: boolean }) => {
      if (options.istioRules === true) {
        process.stdout.write(options.json === true ? `${JSON.stringify({ count: countRules(), rules: ISTIO_RULES }, null, 2)}\n` : `${formatIstioRules()}\n`);
        process.exitCode = ExitCode.Ok;
        return;
      }
      if (policyDir === undefined) throw new MeshproofError(ErrorCode.BadArgument, 'check-policies needs a policy file or directory', { hint: 'meshproof check-policies fixtures/seed (or --istio-rules for the rule list)' });
      const inputs = readPolicyInputs(policyDir, options.topology);
      const failed = hasErrors(inputs.issues);
      const mesh = !failed && inputs.topology !== undefined ? resolveMesh(inputs.policies.set, inputs.topology) : undefined;
      const probes = mesh === undefined ? [] : generateProbes(mesh);
      const coverage = mesh === undefined ? undefined : ruleCoverage(mesh, probes);
      const issues = [...inputs.issues, ...(mesh?.notes ?? [])];
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify({ valid: !failed, issues, coverage, probes }, null, 2)}\n`);
      } else {
        for (const issue of issues) process.stderr.write(`${formatIssue(issue)}\n`);
        const set = inputs.policies.set;
        const counts = `${set.peerAuthentications.length} PeerAuthentication, ${set.authorizationPolicies.length} AuthorizationPolicy, ${set.destinationRules.length} DestinationRule, ${set.virtualServices.length} VirtualService, ${set.serviceAccounts.length} ServiceAccount`;
        if (failed) {
          process.stderr.write(`check-policies: ${issues.filter((i) => i.severity === 'error').length} error(s) in ${policyDir}\n`);
        } else {
          process.stdout.write(`valid: ${counts} in ${set.files.length} file(s); mesh: root ${set.mesh.rootNamespace}, trust domain ${set.mesh.trustDomain}, path normalization ${set.mesh.pathNormalization}\n`);
          if (mesh === undefined) process.stdout.write('no topology: pass --topology FILE (or add topology.yaml) to generate the probe matrix\n');
          else {
            process.stdout.write(`${probes.length} probes; rules covered ${coverage?.covered.length ?? 0}/${(coverage?.covered.length ?? 0) + (coverage?.uncovered.length ?? 0)}${coverage !== undefined && coverage.uncovered.length > 0 ? ` (not covered: ${coverage.uncovered.join(', ')})` : ''}\n`);
            process.stdout.write(`${formatMatrix(probes)}\n`);
          }
        }
      }
      process.exitCode = failed ? ExitCode.BadInput : ExitCode.Ok;
    });
}
