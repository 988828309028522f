/**
 * The boundary probes of both sides of a change, each decided under both: a probe that matters to
 * either side (a rule the change removes, a rule it adds) is asked of the other too.
 *
 * Each side's probes are its generator probes with a match probe through every value a rule ORs
 * (GenerateOptions.alternatives), and each DENY rule probed where an ALLOW rule would let its request through, so that a principal, path or method added to a list is asked.
 * Probes are the same request when everything sent is the same (requestKey), whatever rule they
 * were generated from. A workload whose decision inputs are the same on both sides (mesh settings,
 * its ports' mTLS modes, the AuthorizationPolicies that select it) gets the same probes and the
 * same decisions on both, so they are generated and decided once.
 */
import { isDryRun } from '../model/annotations.ts';
import type { ResolvedMesh, ResolvedWorkload } from '../model/resolve.ts';
import type { Decision } from '../oracle/decision.ts';
import { InboundOracle, type InboundRequest } from '../oracle/inbound.ts';
import { generateWorkloadProbes, type ProbeKind } from '../oracle/probe-generator.ts';

/** A value added to a rule's list shows only in a probe through that value; a DENY removed, only where an ALLOW lets its request through. */
const GENERATE = { alternatives: true } as const;

export interface SidedProbe {
  readonly key: string;
  /** Generator ids from either side (and `intent <file:line>` for intents). */
  readonly ids: readonly string[];
  readonly kinds: readonly (ProbeKind | 'intent')[];
  readonly request: InboundRequest;
  readonly base: Decision;
  readonly head: Decision;
}

export interface ProbeUnion {
  readonly probes: readonly SidedProbe[];
  readonly baseGenerated: number;
  readonly headGenerated: number;
  /** Workloads whose probes were generated once for both sides. */
  readonly workloadsUnchanged: number;
}

/** Everything that is sent, in a fixed order: two probes with equal keys are the same request. */
export function requestKey(r: InboundRequest): string {
  const headers = r.headers === undefined ? [] : Array.isArray(r.headers) ? (r.headers as readonly (readonly [string, string])[]) : Object.entries(r.headers as Record<string, string>);
  return JSON.stringify([
    r.source.kind,
    r.source.kind === 'plaintext' ? '' : (r.source.identity ?? ''),
    r.source.kind === 'certificate' ? (r.source.problem ?? '') : '',
    r.to,
    r.port ?? '',
    r.method ?? '',
    r.path ?? '',
    headers.map(([k, v]) => [k.toLowerCase(), v]),
    r.host ?? '',
    r.sourceIp ?? '',
    r.remoteIp ?? '',
    r.destinationIp ?? '',
    r.sni ?? '',
    r.protocol ?? '',
    r.tlsVersion ?? '',
    r.now ?? '',
  ]);
}

/** What the oracle reads of the mesh settings (a difference here changes any decision). */
function meshFingerprint(mesh: ResolvedMesh): string {
  const m = mesh.mesh;
  return JSON.stringify([m.rootNamespace, m.trustDomain, m.trustDomainAliases, m.pathNormalization, m.minTlsVersion]);
}

/** What the oracle reads of one workload: its ports' modes and the policies that select it. */
function workloadFingerprint(w: ResolvedWorkload): string {
  return JSON.stringify([
    w.ports.map((p) => [p.port, p.protocol, p.mtlsMode]),
    w.authorizationPolicies.map((p) => [p.namespace, p.name, isDryRun(p), p.spec]),
  ]);
}

export interface ExtraRequest {
  readonly id: string;
  readonly request: InboundRequest;
}

/**
 * Both sides must be resolved on the same topology. `extra` requests (the user's intents) are
 * asked of both sides too; a request the oracle refuses (an unknown workload) throws.
 */
export function unionProbes(base: ResolvedMesh, head: ResolvedMesh, extra: readonly ExtraRequest[] = []): ProbeUnion {
  const baseOracle = new InboundOracle(base);
  const headOracle = new InboundOracle(head);
  const sameMesh = meshFingerprint(base) === meshFingerprint(head);
  const out = new Map<string, { ids: string[]; kinds: (ProbeKind | 'intent')[]; request: InboundRequest; base?: Decision; head?: Decision }>();
  const add = (id: string, kind: ProbeKind | 'intent', request: InboundRequest, side: { base?: Decision; head?: Decision }): void => {
    const key = requestKey(request);
    const entry = out.get(key);
    if (entry === undefined) {
      out.set(key, { ids: [id], kinds: [kind], request, ...side });
      return;
    }
    if (!entry.ids.includes(id)) entry.ids.push(id);
    if (!entry.kinds.includes(kind)) entry.kinds.push(kind);
    entry.base ??= side.base;
    entry.head ??= side.head;
  };
  let baseGenerated = 0;
  let headGenerated = 0;
  let unchanged = 0;
  for (const wb of base.workloads) {
    const wh = head.workloads.find((w) => w.key === wb.key);
    const baseProbes = generateWorkloadProbes(base, baseOracle, wb, GENERATE);
    baseGenerated += baseProbes.length;
    if (wh !== undefined && sameMesh && workloadFingerprint(wb) === workloadFingerprint(wh)) {
      unchanged += 1;
      headGenerated += baseProbes.length;
      for (const p of baseProbes) add(p.id, p.kind, p.request, { base: p.expected, head: p.expected });
      continue;
    }
    for (const p of baseProbes) add(p.id, p.kind, p.request, { base: p.expected });
    if (wh === undefined) continue;
    const headProbes = generateWorkloadProbes(head, headOracle, wh, GENERATE);
    headGenerated += headProbes.length;
    for (const p of headProbes) add(p.id, p.kind, p.request, { head: p.expected });
  }
  for (const e of extra) add(e.id, 'intent', e.request, {});
  const probes: SidedProbe[] = [];
  for (const [key, entry] of out) {
    probes.push({
      key,
      ids: entry.ids,
      kinds: entry.kinds,
      request: entry.request,
      base: entry.base ?? baseOracle.decide(entry.request),
      head: entry.head ?? headOracle.decide(entry.request),
    });
  }
  return { probes, baseGenerated, headGenerated, workloadsUnchanged: unchanged };
}
