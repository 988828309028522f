/**
 * Small pieces the security cases share: settling a batch of live probes into checks, holding a
 * case's hand-written table against the oracle, and naming services the way tables do.
 */
import { ErrorCode, MeshproofError, type CaseContext, type ResolvedMesh } from '../../harness/index.ts';
import type { ExpectedDecision } from './live-decision.ts';
import { matchesDecision } from './live-decision.ts';
import type { LiveProbeResult } from './live-prober.ts';

/** How many disagreements a failure message lists before it says "and N more". */
const LISTED = 8;

/**
 * Every probe becomes a check. Agreeing ones are checked one by one (their evidence recorded);
 * the disagreeing ones are recorded too and fail the case together, so a report lists all of
 * them rather than the first.
 */
export function settle<Env>(ctx: CaseContext<Env>, results: readonly LiveProbeResult[], what: string): void {
  const failed: LiveProbeResult[] = [];
  for (const r of results) {
    if (r.agrees) ctx.expect(r.evidence, matchesDecision(r.decision, { tag: r.tag }));
    else {
      ctx.record(r.evidence);
      failed.push(r);
    }
  }
  if (failed.length === 0) return;
  const listed = failed.slice(0, LISTED).map((r) => `${r.evidence.label}: ${r.failure?.message ?? 'disagrees'}`);
  const more = failed.length > LISTED ? `; and ${failed.length - LISTED} more` : '';
  ctx.verify(`${what}: ${failed.length} of ${results.length} live probes disagree with what Istio does`, new Error(`${listed.join('; ')}${more}`));
}

/**
 * A case's own table says what must happen; the oracle says it too, in more detail (forwarded
 * path, peer identity, access-log details). When the two disagree one of them misreads the
 * specification: that is a harness defect (outcome `error`), never a verdict on the mesh.
 */
export function holdToTable(result: LiveProbeResult, table: ExpectedDecision, row: string): void {
  if (result.expected !== table) {
    throw new MeshproofError(ErrorCode.Internal, `the case table says '${row}' is ${table}, the oracle says ${result.expected} (${result.decision.reason}): one of them misreads the specification`);
  }
}

/** `payment-service.prod-namespace:80`: the service (and service port) in front of a workload port, else `workload:port`. */
export function serviceLabel(mesh: ResolvedMesh, workloadKey: string, port: number): string {
  for (const d of mesh.destinations) {
    if (!d.workloads.includes(workloadKey)) continue;
    const p = d.ports.find((x) => x.targetPort === port);
    if (p !== undefined) return `${d.name}.${d.namespace}:${p.port}`;
  }
  return `${workloadKey}:${port}`;
}
