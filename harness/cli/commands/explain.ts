/**
 * `meshproof explain <policy dir> --from <ns/sa|plaintext> --to <ns/workload> …`: what Istio
 * says must happen to one request, and which policy and rule decide it. Needs no container.
 */
import type { Command } from 'commander';
import { ErrorCode, ExitCode, MeshproofError } from '../../errors.ts';
import { throwIfErrors } from '../../model/issues.ts';
import { resolveMesh } from '../../model/resolve.ts';
import type { Decision } from '../../oracle/decision.ts';
import { InboundOracle, type InboundRequest } from '../../oracle/inbound.ts';
import { parseRequestSource } from '../../oracle/request-source.ts';
import { TOPOLOGY_HELP, readPolicyInputs } from '../../model/policy-inputs.ts';

interface ExplainOptions {
  readonly from: string;
  readonly to: string;
  readonly port?: string;
  readonly method: string;
  readonly path: string;
  readonly header: string[];
  readonly host?: string;
  readonly topology?: string;
  readonly json?: boolean;
}

function parseHeaders(values: readonly string[]): [string, string][] {
  return values.map((h) => {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new MeshproofError(ErrorCode.BadArgument, `--header '${h}' is not name=value`, { hint: 'e.g. --header x-user=alice' });
    return [h.slice(0, eq), h.slice(eq + 1)];
  });
}

export function formatDecision(d: Decision, request: InboundRequest): string {
  const status = d.expect.status === undefined ? '' : ` ${d.expect.status}`;
  const lines = [`${d.outcome.toUpperCase()}${status}`, `  why:    ${d.reason}`];
  if (d.rule !== undefined) lines.push(`  rule:   ${d.rule.id} (${d.rule.action}, ${d.rule.policy.at}; envoy ${d.rule.envoyName})`);
  lines.push(`  mTLS:   port ${d.mtls.port} ${d.mtls.mode}${d.mtls.steps.length === 0 ? ' (default: no PeerAuthentication)' : ` via ${d.mtls.steps.map((s) => `${s.scope} ${s.policy.namespace}/${s.policy.name}=${s.mode}`).join(' → ')}`}`);
  const client = d.expect.client === 'response' ? `HTTP response${status}${d.expect.body === undefined ? '' : ` "${d.expect.body}"`}` : d.expect.client;
  lines.push(`  client: ${client}; app ${d.expect.appReceives ? `receives ${d.expect.forwardedPath ?? request.path ?? '/'}` : 'never sees it'}`);
  if (d.expect.responseCodeDetails !== undefined || d.expect.responseFlags !== undefined) lines.push(`  log:    ${[d.expect.responseFlags, d.expect.responseCodeDetails].filter((x) => x !== undefined).join(' ')}`);
  if (d.matchedPath !== undefined && d.matchedPath !== request.path) lines.push(`  path:   ${request.path} normalizes to ${d.matchedPath}`);
  if (d.audited.length > 0) lines.push(`  audit:  ${d.audited.join(', ')}`);
  if (d.dryRunMatches.length > 0) lines.push(`  dry-run: ${d.dryRunMatches.map((m) => `${m.id} (${m.action})`).join(', ')}`);
  if (d.basis !== 'confirmed') lines.push(`  basis:  ${d.basis}`);
  for (const n of d.notes) lines.push(`  note:   ${n}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('say what Istio must do with one request under the given policies, and which policy and rule decide it')
    .argument('<policy-dir>', 'a policy YAML file or a directory of them (searched recursively)')
    .requiredOption('--from <source>', "the caller: 'plaintext' (no sidecar), 'namespace/serviceaccount', or a SPIFFE identity")
    .requiredOption('--to <workload>', 'the destination workload as namespace/name (from the topology)')
    .option('--port <port>', "the workload's container port (default: its first port)")
    .option('--method <method>', 'HTTP method, sent as given', 'GET')
    .option('--path <path>', 'request path as sent, query and fragment allowed (normalized per the mesh setting)', '/')
    .option('--header <name=value>', 'a request header; repeat for more', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--host <authority>', 'the :authority header (default: <service>:<port> of the workload)')
    .option('--topology <file>', TOPOLOGY_HELP)
    .option('--json', 'print the decision as JSON')
    .addHelpText('after', '\nExit codes: 0 decided (whatever the decision), 2 bad policy, topology or flag.\nExample:\n  meshproof explain fixtures/seed --from prod-namespace/order-service-sa --to prod-namespace/payment-service --method POST --path /pay/1')
    .action((policyDir: string, options: ExplainOptions) => {
      const inputs = readPolicyInputs(policyDir, options.topology);
      throwIfErrors(inputs.issues);
      if (inputs.topology === undefined) {
        throw new MeshproofError(ErrorCode.BadArgument, `no topology: ${policyDir} has no topology.yaml`, { hint: 'pass --topology FILE describing the workloads (see fixtures/seed/topology.yaml)' });
      }
      const mesh = resolveMesh(inputs.policies.set, inputs.topology);
      const port = options.port === undefined ? undefined : Number(options.port);
      if (port !== undefined && !Number.isInteger(port)) throw new MeshproofError(ErrorCode.BadArgument, `--port '${options.port}' is not a number`);
      const request: InboundRequest = {
        source: parseRequestSource(options.from, mesh.mesh.trustDomain),
        to: options.to,
        method: options.method,
        path: options.path,
        headers: parseHeaders(options.header),
        ...(port === undefined ? {} : { port }),
        ...(options.host === undefined ? {} : { host: options.host }),
      };
      const decision = new InboundOracle(mesh).decide(request);
      process.stdout.write(options.json === true ? `${JSON.stringify({ request, decision }, null, 2)}\n` : `${formatDecision(decision, request)}\n`);
      process.exitCode = ExitCode.Ok;
    });
}
