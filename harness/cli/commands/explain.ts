/**
 * `meshproof explain <policy dir> --from <source> (--to <ns/workload> | --service <ns/service>) …`:
 * what Istio says must happen to one request, and which policy and rule decide it. Needs no
 * container.
 *
 * - `--to`: the inbound oracle (server sidecar): mTLS, TLS version, HTTP checks, authorization,
 *   for HTTP/1.1, HTTP/2, gRPC or TCP, with SNI and source, remote and destination IPs.
 * - `--service`: the outbound oracle (client sidecar): the VirtualService route, timeout, retries
 *   and fault, the DestinationRule of the port; `--upstream` asks what the client gets for a
 *   sequence of upstream results, `--failing` when endpoints are ejected.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ErrorCode, ExitCode, MeshproofError } from '../../errors.ts';
import { throwIfErrors } from '../../model/issues.ts';
import { resolveMesh, type ResolvedMesh } from '../../model/resolve.ts';
import type { Decision } from '../../oracle/decision.ts';
import { InboundOracle, type ClientProtocol, type InboundRequest, type TlsVersion } from '../../oracle/inbound.ts';
import { ejections, outboundOutcome, routeOutbound, type OutboundRequest } from '../../oracle/outbound.ts';
import { parseRequestSource } from '../../oracle/request-source.ts';
import { TOPOLOGY_HELP, readPolicyInputs } from '../../model/policy-inputs.ts';
import { durationArg, formatEjections, formatOutboundAnswer, formatOutcome, parseFailWith, parseRate, parseUpstream } from './explain-outbound.ts';

interface ExplainOptions {
  readonly from: string;
  readonly to?: string;
  readonly service?: string;
  readonly port?: string;
  readonly method?: string;
  readonly path: string;
  readonly header: string[];
  readonly jwt?: string;
  readonly host?: string;
  readonly sni?: string;
  readonly sourceIp?: string;
  readonly remoteIp?: string;
  readonly destinationIp?: string;
  readonly protocol?: string;
  readonly tlsVersion?: string;
  readonly upstream?: string;
  readonly faultRoll?: string;
  readonly failing?: string;
  readonly failWith: string;
  readonly rate: string;
  readonly for: string;
  readonly topology?: string;
  readonly json?: boolean;
}

const PROTOCOLS: Readonly<Record<string, ClientProtocol>> = { http1: 'http1', 'http/1.1': 'http1', http: 'http1', http2: 'http2', h2: 'http2', grpc: 'grpc', tcp: 'tcp' };
const TLS_VERSIONS: Readonly<Record<string, TlsVersion>> = { '1.0': 'TLSv1.0', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

function parseHeaders(values: readonly string[]): [string, string][] {
  return values.map((h) => {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new MeshproofError(ErrorCode.BadArgument, `--header '${h}' is not name=value`, { hint: 'e.g. --header x-user=alice' });
    return [h.slice(0, eq), h.slice(eq + 1)];
  });
}

/**
 * `--jwt TOKEN|FILE`: the token itself (three dot-separated parts), or a file holding it (as `pki
 * jwt` writes them); sent as `Authorization: Bearer <token>`, where the default JWT location is.
 */
function jwtHeader(value: string | undefined): [string, string][] {
  if (value === undefined) return [];
  let token = value.trim();
  if (!/^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token)) {
    try {
      token = readFileSync(value, 'utf8').trim();
    } catch (cause) {
      throw new MeshproofError(ErrorCode.BadArgument, `--jwt '${value}' is neither a JWT (header.payload.signature) nor a readable file`, { cause, hint: 'meshproof pki jwt --issuer URL --out DIR writes tokens/<kind>.jwt' });
    }
  }
  return [['authorization', `Bearer ${token}`]];
}

function parseNumber(flag: string, text: string | undefined, range: [number, number]): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < range[0] || n > range[1]) throw new MeshproofError(ErrorCode.BadArgument, `${flag} '${text}' is not a number from ${range[0]} to ${range[1]}`);
  return n;
}

function parseProtocol(text: string | undefined): ClientProtocol | undefined {
  if (text === undefined) return undefined;
  const p = PROTOCOLS[text.toLowerCase()];
  if (p === undefined) throw new MeshproofError(ErrorCode.BadArgument, `--protocol '${text}' is not a protocol`, { hint: 'http1, http2, grpc or tcp' });
  return p;
}

function parseTlsVersion(text: string | undefined): TlsVersion | undefined {
  if (text === undefined) return undefined;
  const v = TLS_VERSIONS[text.replace(/^(TLSv?|v)/i, '')];
  if (v === undefined) throw new MeshproofError(ErrorCode.BadArgument, `--tls-version '${text}' is not a TLS version`, { hint: '1.0, 1.1, 1.2 or 1.3' });
  return v;
}

export function formatDecision(d: Decision, request: InboundRequest): string {
  const status = d.expect.status === undefined ? '' : ` ${d.expect.status}`;
  const lines = [`${d.outcome.toUpperCase()}${status}${d.expect.grpcStatus === undefined ? '' : ` grpc-status ${d.expect.grpcStatus}`}`, `  why:    ${d.reason}`];
  if (d.rule !== undefined) lines.push(`  rule:   ${d.rule.id} (${d.rule.action}, ${d.rule.policy.at}; envoy ${d.rule.envoyName})`);
  if (d.authn !== undefined) lines.push(`  jwt:    ${describeAuthn(d.authn)}`);
  lines.push(`  mTLS:   port ${d.mtls.port} ${d.mtls.mode}${d.mtls.steps.length === 0 ? ' (default: no PeerAuthentication)' : ` via ${d.mtls.steps.map((s) => `${s.scope} ${s.policy.namespace}/${s.policy.name}=${s.mode}`).join(' → ')}`}`);
  const client = d.expect.client === 'response' ? `HTTP response${status}${d.expect.grpcStatus === undefined ? '' : ` with grpc-status ${d.expect.grpcStatus}`}${d.expect.body === undefined ? '' : ` "${d.expect.body}"`}` : d.expect.client;
  lines.push(`  client: ${client}; app ${d.expect.appReceives ? `receives ${d.expect.forwardedPath ?? request.path ?? '/'}` : 'never sees it'}`);
  if (d.expect.responseCodeDetails !== undefined || d.expect.responseFlags !== undefined) lines.push(`  log:    ${[d.expect.responseFlags, d.expect.responseCodeDetails].filter((x) => x !== undefined).join(' ')}`);
  if (d.matchedPath !== undefined && d.matchedPath !== request.path) lines.push(`  path:   ${request.path} normalizes to ${d.matchedPath}`);
  if (d.audited.length > 0) lines.push(`  audit:  ${d.audited.join(', ')}`);
  if (d.dryRunMatches.length > 0) lines.push(`  dry-run: ${d.dryRunMatches.map((m) => `${m.id} (${m.action})`).join(', ')}`);
  if (d.basis !== 'confirmed') lines.push(`  basis:  ${d.basis}`);
  for (const n of d.notes) lines.push(`  note:   ${n}`);
  return lines.join('\n');
}

function describeAuthn(a: NonNullable<Decision['authn']>): string {
  const by = a.rule === undefined ? '' : ` (RequestAuthentication ${a.rule.policy.namespace}/${a.rule.policy.name} jwtRules[${a.rule.index}], ${a.rule.policy.at})`;
  switch (a.outcome) {
    case 'valid':
      return `valid; request principal ${a.principal ?? ''}${a.audiences === undefined || a.audiences.length === 0 ? '' : `, audiences ${a.audiences.join(',')}`}${a.presenter === undefined ? '' : `, presenter ${a.presenter}`}${by}`;
    case 'rejected':
      return `refused: ${a.status ?? ''}${by}`;
    case 'no-token':
      return 'no token at any location the RequestAuthentications read: no request principal';
  }
}

function explainInbound(mesh: ResolvedMesh, to: string, options: ExplainOptions): string {
  const port = parseNumber('--port', options.port, [1, 65535]);
  const protocol = parseProtocol(options.protocol);
  const tlsVersion = parseTlsVersion(options.tlsVersion);
  const request: InboundRequest = {
    source: parseRequestSource(options.from, mesh.mesh.trustDomain),
    to,
    path: options.path,
    headers: [...parseHeaders(options.header), ...jwtHeader(options.jwt)],
    ...(options.method === undefined ? {} : { method: options.method }),
    ...(port === undefined ? {} : { port }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.sni === undefined ? {} : { sni: options.sni }),
    ...(options.sourceIp === undefined ? {} : { sourceIp: options.sourceIp }),
    ...(options.remoteIp === undefined ? {} : { remoteIp: options.remoteIp }),
    ...(options.destinationIp === undefined ? {} : { destinationIp: options.destinationIp }),
    ...(protocol === undefined ? {} : { protocol }),
    ...(tlsVersion === undefined ? {} : { tlsVersion }),
  };
  const decision = new InboundOracle(mesh).decide(request);
  return options.json === true ? JSON.stringify({ request, decision }, null, 2) : formatDecision(decision, request);
}

/** Sets become arrays in JSON. */
const jsonReplacer = (_key: string, value: unknown): unknown => (value instanceof Set ? [...value] : value);

function explainOutbound(mesh: ResolvedMesh, service: string, options: ExplainOptions): string {
  for (const [flag, value] of [['--sni', options.sni], ['--source-ip', options.sourceIp], ['--remote-ip', options.remoteIp], ['--destination-ip', options.destinationIp], ['--tls-version', options.tlsVersion], ['--protocol', options.protocol]] as const) {
    if (value !== undefined) throw new MeshproofError(ErrorCode.BadArgument, `${flag} asks the server side: use it with --to <namespace/workload>`, { hint: '--service asks the client sidecar (route, retries, ejection)' });
  }
  const port = parseNumber('--port', options.port, [1, 65535]);
  const request: OutboundRequest = {
    source: parseRequestSource(options.from, mesh.mesh.trustDomain),
    service,
    path: options.path,
    headers: parseHeaders(options.header),
    ...(options.method === undefined ? {} : { method: options.method }),
    ...(port === undefined ? {} : { port }),
    ...(options.host === undefined ? {} : { authority: options.host }),
  };
  const answer = routeOutbound(mesh, request);
  const results = options.upstream === undefined ? undefined : parseUpstream(options.upstream);
  const faultRoll = parseNumber('--fault-roll', options.faultRoll, [0, 99.9999]);
  const outcome = results === undefined || !answer.sidecar || answer.port.protocol !== 'http' ? undefined : outboundOutcome(mesh, answer, results, faultRoll);
  const failing = parseNumber('--failing', options.failing, [0, answer.endpoints]);
  const pattern = failing === undefined ? undefined : { failing, failWith: parseFailWith(options.failWith), everyMs: parseRate(options.rate), forMs: durationArg('--for', options.for), endpoints: answer.endpoints };
  const sim = pattern === undefined || !answer.sidecar ? undefined : ejections(answer, pattern);
  if (options.json === true) return JSON.stringify({ request, answer, ...(outcome === undefined ? {} : { outcome }), ...(sim === undefined ? {} : { ejections: { timeline: sim.timeline, stats: sim.stats } }) }, jsonReplacer, 2);
  const from = request.source.kind === 'mesh' ? request.source.identity : 'plaintext';
  const parts = [formatOutboundAnswer(answer, { method: request.method ?? 'GET', path: options.path, from })];
  if (outcome !== undefined && results !== undefined) parts.push(formatOutcome(outcome, results));
  if (pattern !== undefined && answer.sidecar) parts.push(formatEjections(sim, pattern));
  return parts.join('\n');
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('say what Istio must do with one request under the given policies: the server side (--to: mTLS, authorization) or the client side (--service: route, timeout, retries, ejection)')
    .argument('<policy-dir>', 'a policy YAML file or a directory of them (searched recursively)')
    .requiredOption('--from <source>', "the caller: 'plaintext' (no sidecar), 'namespace/serviceaccount', or a SPIFFE identity")
    .option('--to <workload>', 'ask the server sidecar of this workload (namespace/name, from the topology)')
    .option('--service <service>', "ask the caller's sidecar about a call to this service (namespace/name or FQDN)")
    .option('--port <port>', 'with --to the workload (container) port, with --service the service port (default: the first)')
    .option('--method <method>', 'HTTP method, sent as given (default GET; POST for gRPC)')
    .option('--path <path>', 'request path as sent, query and fragment allowed', '/')
    .option('--header <name=value>', 'a request header; repeat for more', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--jwt <token|file>', 'with --to: a JWT (or a file holding one, e.g. from pki jwt) sent as Authorization: Bearer; RequestAuthentication checks it before authorization')
    .option('--host <authority>', 'the :authority header (default: the service name, with :port unless 80)')
    .option('--protocol <protocol>', 'with --to: http1, http2, grpc or tcp (default: as the port is declared)')
    .option('--tls-version <version>', 'with --to: the highest TLS version the client offers, 1.0 to 1.3 (default 1.3)')
    .option('--sni <name>', 'with --to: the SNI of the TLS ClientHello (connection.sni conditions)')
    .option('--source-ip <ip>', 'with --to: the peer address of the connection (ipBlocks, source.ip)')
    .option('--remote-ip <ip>', 'with --to: the original client address from X-Forwarded-For (remoteIpBlocks, remote.ip)')
    .option('--destination-ip <ip>', 'with --to: the address the client connected to (destination.ip)')
    .option('--upstream <results>', 'with --service: what each upstream attempt gets, e.g. 503,503,200 or connect-failure or 200@3s (the last repeats)')
    .option('--fault-roll <n>', 'with --service: 0 ≤ n < 100, a fault with percentage p applies when n < p (default 0: any p > 0 applies)')
    .option('--failing <n>', 'with --service: simulate outlier detection with n endpoints failing')
    .option('--fail-with <result>', 'what the failing endpoints answer: an HTTP status, connect-failure, timeout or reset', '503')
    .option('--rate <n/s>', 'requests per second for --failing, spread round-robin', '10/s')
    .option('--for <duration>', 'how long to simulate for --failing', '60s')
    .option('--topology <file>', TOPOLOGY_HELP)
    .option('--json', 'print the answer as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 decided (whatever the decision), 2 bad policy, topology or flag.\nExamples:\n  meshproof explain fixtures/seed --from prod-namespace/order-service-sa --to prod-namespace/payment-service --method POST --path /pay/1\n  meshproof explain fixtures/seed --from prod-namespace/order-service-sa --service prod-namespace/payment-service --upstream 503,503,200 --failing 1',
    )
    .action((policyDir: string, options: ExplainOptions) => {
      if ((options.to === undefined) === (options.service === undefined)) {
        throw new MeshproofError(ErrorCode.BadArgument, 'explain needs exactly one of --to <namespace/workload> (server side) or --service <namespace/service> (client side)', { hint: 'e.g. --to prod-namespace/payment-service' });
      }
      const inputs = readPolicyInputs(policyDir, options.topology);
      throwIfErrors(inputs.issues);
      if (inputs.topology === undefined) {
        throw new MeshproofError(ErrorCode.BadArgument, `no topology: ${policyDir} has no topology.yaml`, { hint: 'pass --topology FILE describing the workloads (see fixtures/seed/topology.yaml)' });
      }
      const mesh = resolveMesh(inputs.policies.set, inputs.topology);
      const out = options.to !== undefined ? explainInbound(mesh, options.to, options) : explainOutbound(mesh, options.service ?? '', options);
      process.stdout.write(`${out}\n`);
      process.exitCode = ExitCode.Ok;
    });
}
