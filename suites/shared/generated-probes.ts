/**
 * The oracle's generated boundary probes (generateProbes: per rule a match, a just-miss per
 * field, notX edges, the plaintext variant, path-normalization variants), run live.
 *
 * A generated probe is re-decided for what was really sent (the caller pod's address, the Host
 * header, the probe tag); where that changes its expected outcome (a probe that asked for a
 * source address no pod has) the case is told, so it can say so. Probes that cannot be sent live
 * at all are returned with the reason.
 */
import { generateProbes, type Probe, type ResolvedMesh } from '../../harness/index.ts';
import { notRunnableLive, type LiveProbeResult, type LiveProber } from './live-prober.ts';
import type { CoverageInput } from './report-rows.ts';

export interface GeneratedRun {
  readonly inputs: readonly CoverageInput[];
  /** Probes not sent, with why. */
  readonly notRun: readonly { readonly probe: Probe; readonly reason: string }[];
  /** Probes whose expectation changed once re-decided for what was really sent. */
  readonly redecided: readonly { readonly probe: Probe; readonly result: LiveProbeResult }[];
}

/** The generated probes for these workloads (all by default), in the generator's stable order. */
export function probesFor(mesh: ResolvedMesh, workloads?: readonly string[]): Probe[] {
  return generateProbes(mesh).filter((p) => workloads === undefined || workloads.includes(p.request.to));
}

export async function runGenerated(prober: LiveProber, probes: readonly Probe[]): Promise<GeneratedRun> {
  const inputs: CoverageInput[] = [];
  const notRun: { probe: Probe; reason: string }[] = [];
  const redecided: { probe: Probe; result: LiveProbeResult }[] = [];
  for (const probe of probes) {
    const why = notRunnableLive(probe.request) ?? (probe.expected.outcome === 'not-supported' ? `the oracle cannot decide it (${probe.expected.reason})` : undefined);
    if (why !== undefined) {
      notRun.push({ probe, reason: why });
      continue;
    }
    const result = await prober.run(prober.fromRequest(probe.request));
    if (result.decision.outcome !== probe.expected.outcome) redecided.push({ probe, result });
    inputs.push({ result, ...(probe.ruleId === undefined || probe.intent === undefined ? {} : { aimedAt: { ruleId: probe.ruleId, intent: probe.intent } }) });
  }
  return { inputs, notRun, redecided };
}

/** Findings a case reports about a generated run: what was not sent, and what was re-decided. */
export function generatedFindings(run: GeneratedRun): string[] {
  const out: string[] = [];
  if (run.notRun.length > 0) {
    const reasons = new Map<string, string[]>();
    for (const { probe, reason } of run.notRun) reasons.set(reason, [...(reasons.get(reason) ?? []), probe.id]);
    out.push(`${run.notRun.length} generated probe(s) not sent live: ${[...reasons].map(([reason, ids]) => `${reason} (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? `, +${ids.length - 3}` : ''})`).join('; ')}`);
  }
  for (const { probe, result } of run.redecided) {
    out.push(`generated probe ${probe.id} expected ${probe.expected.outcome} for the request as generated; sent live from ${result.evidence.from} it is ${result.decision.outcome} (${result.decision.reason}), and that is what it was held to`);
  }
  return out;
}
