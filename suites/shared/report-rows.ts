/**
 * The report's cross-case views from live probe results: authorization matrix cells, rule
 * coverage and tls-check rows (harness/report/schema.ts). Pure: results in, rows out.
 */
import { ruleId, type AuthzMatrixCell, type ResolvedMesh, type RuleCoverage, type TlsCheckRow } from '../../harness/index.ts';
import { describeExpected, describeLive } from './live-decision.ts';
import type { LiveProbeResult } from './live-prober.ts';

/** One matrix cell per probe: row = who called, column = method and raw path. */
export function matrixCell(result: LiveProbeResult): AuthzMatrixCell {
  return {
    source: result.sourceLabel,
    request: result.requestLabel,
    destination: `${result.probe.to}:${result.decision.mtls.port}`,
    expected: result.expected,
    observed: result.observed,
    ...(result.decision.rule === undefined ? {} : { rule: result.decision.rule.id }),
    agrees: result.agrees,
  };
}

/** A probe result with what its generator meant it to do to a rule, if anything. */
export interface CoverageInput {
  readonly result: LiveProbeResult;
  /** The rule a generated probe aims at, and whether it was meant to match it or just miss it. */
  readonly aimedAt?: { readonly ruleId: string; readonly intent: 'match' | 'miss' };
}

/** Every rule of the AuthorizationPolicies that select the given workloads (all workloads by default), with its policy. */
export function rulesOf(mesh: ResolvedMesh, workloads?: readonly string[]): { rule: string; policy: string }[] {
  const seen = new Map<string, string>();
  for (const w of mesh.workloads) {
    if (workloads !== undefined && !workloads.includes(w.key)) continue;
    for (const p of w.authorizationPolicies) (p.spec.rules ?? []).forEach((_, i) => seen.set(ruleId(p, i), `${p.namespace}/${p.name}`));
  }
  return [...seen].map(([rule, policy]) => ({ rule, policy })).sort((a, b) => a.rule.localeCompare(b.rule));
}

/**
 * Which rules live traffic exercised. A probe counts for a rule only when the live result agreed
 * with the oracle (what was observed is what the rule makes happen):
 * - matching: the oracle names the rule as deciding (ALLOW or DENY), or lists it as audited (AUDIT);
 * - just missing: the probe was generated to miss the rule by one field and the rule did not decide it.
 */
export function liveRuleCoverage(rules: readonly { rule: string; policy: string }[], inputs: readonly CoverageInput[]): RuleCoverage[] {
  return rules.map(({ rule, policy }) => {
    let matching = 0;
    let missing = 0;
    for (const { result, aimedAt } of inputs) {
      if (!result.agrees) continue;
      const decided = result.decision.rule?.id === rule || result.decision.audited.includes(rule);
      if (decided) matching += 1;
      else if (aimedAt?.ruleId === rule && aimedAt.intent === 'miss') missing += 1;
    }
    return { rule, policy, probesMatching: matching, probesJustMissing: missing, exercised: matching > 0 };
  });
}

export interface TlsCheckInput {
  /** The client as the table names it (`order-client`, `mallory`). */
  readonly client: string;
  /** `ns/sa`, `plaintext`, `no client certificate` or an attacker-kit kind. */
  readonly clientKind: string;
  /** `payment-service.prod-namespace:80`. */
  readonly service: string;
  readonly result: LiveProbeResult;
}

/** One `istioctl authn tls-check` row, measured: what the client spoke and what happened, against what Istio says. */
export function tlsCheckRow(input: TlsCheckInput): TlsCheckRow {
  const { result } = input;
  return {
    client: input.client,
    clientKind: input.clientKind,
    service: input.service,
    serverMode: result.decision.mtls.mode,
    clientMode: clientModeOf(result),
    observed: describeLive(result.evidence, result.tag),
    expected: describeExpected(result.decision),
    agrees: result.agrees,
  };
}

/**
 * What reached the server: mutual TLS or plaintext as the destination sidecar logged the
 * connection (an in-mesh client speaks plaintext to its own sidecar, which speaks mTLS on the
 * wire), else as the request was sent (a handshake refused leaves no log line).
 */
export function clientModeOf(result: LiveProbeResult): string {
  const source = result.probe.source;
  const logged = result.evidence.accessLog?.find((l) => l.direction === 'inbound')?.connectionSecurity;
  const request = result.evidence.observation.request;
  const viaSidecar = request.host === '127.0.0.1' ? ' via its sidecar' : '';
  if (logged === 'mutual_tls' && source.kind !== 'kit') return `MTLS${viaSidecar}`;
  if (logged === 'none') return `PLAINTEXT${viaSidecar}`;
  if (request.protocol === 'http' || request.protocol === 'tcp') return 'PLAINTEXT';
  const tls = request.tls;
  const versions = tls?.maxVersion === undefined ? '' : ` ≤ ${tls.maxVersion}`;
  if (tls?.certChainPem === undefined) return `TLS (no client cert)${versions}`;
  if (source.kind === 'kit') return `MTLS (${source.certificate.kind} certificate)${versions}`;
  return `MTLS${versions}`;
}
