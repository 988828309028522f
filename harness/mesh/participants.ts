/**
 * Who takes part in a mesh run, and what each one's pod is called: one pod per workload replica
 * (`<name>-<i>.<namespace>`, with a sidecar), one per client (`<name>.<namespace>`: in-mesh
 * clients with a sidecar and an identity, plaintext clients without), and attackers (`<name>`,
 * no sidecar, no identity: they present whatever certificates a case hands them).
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import type { ResolvedClient, ResolvedMesh, ResolvedWorkload } from '../model/resolve.ts';

export type ParticipantKind = 'workload' | 'mesh-client' | 'plaintext-client' | 'attacker';

export interface Participant {
  /** The pod name: unique in the run, a DNS name on the run's network. */
  readonly pod: string;
  readonly kind: ParticipantKind;
  /** Workload or client name, or the attacker's name. */
  readonly name: string;
  readonly namespace?: string;
  /** The service account whose identity the pod's sidecar holds (workloads and in-mesh clients). */
  readonly serviceAccount?: string;
  readonly workload?: ResolvedWorkload;
  readonly replica?: number;
  readonly client?: ResolvedClient;
  readonly sidecar: boolean;
}

export function workloadPod(w: { readonly name: string; readonly namespace: string }, replica: number): string {
  return `${w.name}-${replica}.${w.namespace}`;
}

export function clientPod(c: { readonly name: string; readonly namespace: string }): string {
  return `${c.name}.${c.namespace}`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function planParticipants(mesh: ResolvedMesh, attackers: readonly string[] = []): Participant[] {
  const out: Participant[] = [];
  for (const w of mesh.workloads) {
    for (let i = 0; i < w.replicas; i++) {
      out.push({ pod: workloadPod(w, i), kind: 'workload', name: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount, workload: w, replica: i, sidecar: true });
    }
  }
  for (const c of mesh.clients) {
    const inMesh = c.client.sidecar;
    out.push({
      pod: clientPod(c.client),
      kind: inMesh ? 'mesh-client' : 'plaintext-client',
      name: c.client.name,
      namespace: c.client.namespace,
      ...(inMesh && c.client.serviceAccount !== undefined ? { serviceAccount: c.client.serviceAccount } : {}),
      client: c,
      sidecar: inMesh,
    });
  }
  for (const name of attackers) {
    if (!DNS_LABEL.test(name)) throw new MeshproofError(ErrorCode.BadArgument, `attacker name '${name}' must be a DNS label (lower-case letters, digits, '-')`);
    out.push({ pod: name, kind: 'attacker', name, sidecar: false });
  }
  const seen = new Set<string>();
  for (const p of out) {
    if (seen.has(p.pod)) throw new MeshproofError(ErrorCode.BadArgument, `two participants would share the pod name '${p.pod}'`, { hint: 'rename a client or attacker' });
    seen.add(p.pod);
  }
  return out;
}

/**
 * Finds the participant a case names: a pod name, `namespace/name`, or a bare name when it is
 * unambiguous (a workload's name means its first replica).
 */
export function findParticipant(participants: readonly Participant[], ref: string): Participant {
  const byPod = participants.find((p) => p.pod === ref);
  if (byPod !== undefined) return byPod;
  const [ns, name] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [undefined, ref];
  const matches = participants.filter((p) => p.name === name && (ns === undefined || p.namespace === ns) && (p.replica === undefined || p.replica === 0));
  if (matches.length === 1) return matches[0]!;
  const known = participants.map((p) => p.pod).join(', ');
  if (matches.length === 0) throw new MeshproofError(ErrorCode.BadArgument, `no workload, client, attacker or pod named '${ref}'`, { hint: `known pods: ${known}` });
  throw new MeshproofError(ErrorCode.BadArgument, `'${ref}' names ${matches.length} participants (${matches.map((m) => m.pod).join(', ')})`, { hint: 'write namespace/name or the pod name' });
}
