/**
 * From the probes of both sides, decided under both: the probes whose decision changes, grouped by
 * what decided them on each side (the rule and its file:line, the port's PeerAuthentication, or
 * Istio's defaults), the ports whose mTLS mode changes, and the decision matrix around them.
 */
import { isDryRun } from '../model/annotations.ts';
import { policyRef, type ResolvedMesh, type ResolvedPort } from '../model/resolve.ts';
import { ruleId } from '../model/resources.ts';
import { parseIdentity, toPrincipal } from '../model/identity.ts';
import type { Decision } from '../oracle/decision.ts';
import type { InboundRequest, RequestSource } from '../oracle/inbound.ts';
import { changeDecisionOf, type ChangeCause, type ChangeDecision, type ChangeDirection, type ChangeGroup, type ChangeMatrixCell, type ChangedProbe, type PortModeChange } from './change-review.ts';
import type { SidedProbe } from './probe-union.ts';
import type { ResourceEdits } from './resource-changes.ts';

/** Most matrix cells a review keeps (every changed cell is kept beyond it). */
export const MATRIX_CELLS = 4000;

/** Row label: `prod-namespace/order-service-sa` in the mesh trust domain, else the principal; `plaintext`. */
export function sourceLabel(source: RequestSource, trustDomain: string): string {
  if (source.kind === 'plaintext') return 'plaintext';
  if (source.kind === 'certificate') {
    if (source.problem === 'no-client-cert') return 'TLS, no client certificate';
    return `certificate ${source.identity === undefined ? '(no identity)' : toPrincipal(source.identity)}${source.problem === undefined ? '' : ` (${source.problem})`}`;
  }
  const parsed = parseIdentity(source.identity);
  return parsed !== undefined && parsed.trustDomain === trustDomain ? `${parsed.namespace}/${parsed.serviceAccount}` : toPrincipal(source.identity);
}

/** Column label: method and raw path, with whatever else the request sets that a reader needs to tell two apart. */
export function requestLabel(r: InboundRequest): string {
  const extra: string[] = [];
  const headers = r.headers === undefined ? [] : Array.isArray(r.headers) ? (r.headers as readonly (readonly [string, string])[]) : Object.entries(r.headers as Record<string, string>);
  for (const [k, v] of headers) extra.push(`${k}: ${v}`);
  if (r.host !== undefined) extra.push(`host ${r.host}`);
  if (r.sourceIp !== undefined) extra.push(`from ${r.sourceIp}`);
  if (r.sni !== undefined) extra.push(`sni ${r.sni}`);
  if (r.protocol !== undefined) extra.push(r.protocol);
  return `${r.method ?? 'GET'} ${r.path ?? '/'}${extra.length === 0 ? '' : ` [${extra.join(', ')}]`}`;
}

const REFUSED: ReadonlySet<ChangeDecision> = new Set(['deny', 'reject', 'bad-request']);

export function directionOf(base: ChangeDecision, head: ChangeDecision): ChangeDirection {
  if (head === 'allow' && REFUSED.has(base)) return 'widens';
  if (base === 'allow' && REFUSED.has(head)) return 'narrows';
  return 'changes';
}

function portOf(mesh: ResolvedMesh, workload: string, port: number): ResolvedPort | undefined {
  return mesh.workloads.find((w) => w.key === workload)?.ports.find((p) => p.port === port);
}

/** How a port got its mode: the innermost PeerAuthentication that set it, or Istio's default. */
export function modeVia(port: ResolvedPort): { via: string; at?: string; policy?: { namespace: string; name: string } } {
  const step = port.mtlsSteps.filter((s) => s.mode !== 'UNSET').at(-1);
  if (step === undefined) return { via: 'no PeerAuthentication (Istio default)' };
  return { via: `${step.scope}${step.scope === 'port' ? '-level' : ''} PeerAuthentication ${step.policy.namespace}/${step.policy.name}`, at: step.policy.at, policy: step.policy };
}

/** Rule id → `file:line` of the rule itself (its policy's line when the rule's is unknown). */
const locations = new WeakMap<ResolvedMesh, Map<string, string>>();
function ruleAt(mesh: ResolvedMesh, id: string): string | undefined {
  let map = locations.get(mesh);
  if (map === undefined) {
    map = new Map();
    for (const p of mesh.policies.authorizationPolicies) {
      const loc = p.origin.location;
      (p.spec.rules ?? []).forEach((_, i) => map?.set(ruleId(p, i), `${loc.file}:${p.ruleLines?.[i] ?? loc.line ?? 1}`));
    }
    locations.set(mesh, map);
  }
  return map.get(id);
}

function causeOf(d: Decision, request: InboundRequest, own: ResolvedMesh, other: ResolvedMesh, edits: ResourceEdits): ChangeCause {
  const port = d.mtls.port;
  const mine = portOf(own, request.to, port);
  const theirs = portOf(other, request.to, port);
  const modeDiffers = mine !== undefined && theirs !== undefined && mine.mtlsMode !== theirs.mtlsMode;
  const mtls = mine === undefined ? undefined : `port ${port} ${mine.mtlsMode} via ${modeVia(mine).via}`;
  if (d.outcome === 'connection-reset' || d.outcome === 'handshake-failed') {
    const via = mine === undefined ? undefined : modeVia(mine);
    const edit = via?.policy === undefined ? undefined : edits.resourceEdit('PeerAuthentication', via.policy.namespace, via.policy.name);
    return { kind: 'mtls', text: `${d.outcome === 'connection-reset' ? 'plaintext refused' : 'TLS handshake refused'}: ${mtls ?? `port ${port} ${d.mtls.mode}`}`, ...(via?.at === undefined ? {} : { at: via.at }), ...(edit === undefined ? {} : { edit }) };
  }
  const withMode = modeDiffers && mtls !== undefined ? { mtls } : {};
  if (d.outcome === 'bad-request') return { kind: 'request-check', text: "the sidecar's request checks (400 before authorization)", ...withMode };
  if (d.rule !== undefined) {
    const at = ruleAt(own, d.rule.id) ?? d.rule.policy.at;
    return { kind: 'rule', text: `${d.rule.action} rule ${d.rule.id}`, rule: d.rule.id, at, edit: edits.ruleEdit(d.rule.id), ...withMode };
  }
  if (d.outcome === 'allowed') return { kind: 'no-allow-policy', text: `no ALLOW policy selects ${request.to}`, ...withMode };
  const allow = own.workloads.find((w) => w.key === request.to)?.authorizationPolicies.filter((p) => (p.spec.action ?? 'ALLOW') === 'ALLOW' && !isDryRun(p)) ?? [];
  const only = allow.length === 1 ? allow[0] : undefined;
  if (only !== undefined) {
    return { kind: 'no-allow-match', text: `no rule of ALLOW policy ${only.namespace}/${only.name} matches`, at: policyRef(only).at, edit: edits.resourceEdit('AuthorizationPolicy', only.namespace, only.name), ...withMode };
  }
  return { kind: 'no-allow-match', text: `ALLOW policies select ${request.to} (${allow.map((p) => `${p.namespace}/${p.name}`).join(', ')}) and none of their rules matches`, ...withMode };
}

const causeKey = (c: ChangeCause): string => JSON.stringify([c.kind, c.text, c.at ?? '', c.mtls ?? '', c.edit ?? '']);

export interface DecisionChanges {
  readonly groups: readonly ChangeGroup[];
  readonly changed: readonly ChangedProbe[];
  readonly matrix: { readonly cells: readonly ChangeMatrixCell[]; readonly omitted: number; readonly unchangedDestinations: number };
}

export function decisionChanges(probes: readonly SidedProbe[], base: ResolvedMesh, head: ResolvedMesh, edits: ResourceEdits): DecisionChanges {
  const td = head.mesh.trustDomain;
  const groups = new Map<string, { base: ChangeCause; head: ChangeCause; probes: ChangedProbe[] }>();
  const changed: ChangedProbe[] = [];
  const cellsByDestination = new Map<string, ChangeMatrixCell[]>();
  const changedDestinations = new Set<string>();
  for (const p of probes) {
    const b = changeDecisionOf(p.base.outcome);
    const h = changeDecisionOf(p.head.outcome);
    const destination = `${p.request.to}:${p.base.mtls.port}`;
    const source = sourceLabel(p.request.source, td);
    const request = requestLabel(p.request);
    const isChanged = p.base.outcome !== p.head.outcome;
    const cells = cellsByDestination.get(destination) ?? [];
    cells.push({ destination, source, request, base: b, head: h, changed: isChanged });
    cellsByDestination.set(destination, cells);
    if (!isChanged) continue;
    changedDestinations.add(destination);
    const probe: ChangedProbe = {
      ids: p.ids,
      source,
      request,
      destination,
      base: b,
      head: h,
      baseOutcome: p.base.outcome,
      headOutcome: p.head.outcome,
      ...(p.base.expect.status === undefined ? {} : { baseStatus: p.base.expect.status }),
      ...(p.head.expect.status === undefined ? {} : { headStatus: p.head.expect.status }),
      direction: directionOf(b, h),
      baseReason: p.base.reason,
      headReason: p.head.reason,
    };
    changed.push(probe);
    const bc = causeOf(p.base, p.request, base, head, edits);
    const hc = causeOf(p.head, p.request, head, base, edits);
    const key = `${causeKey(bc)}|${causeKey(hc)}`;
    const group = groups.get(key) ?? { base: bc, head: hc, probes: [] };
    group.probes.push(probe);
    groups.set(key, group);
  }
  const rank = (g: { probes: readonly ChangedProbe[] }): number => (g.probes.some((x) => x.direction === 'widens') ? 0 : g.probes.some((x) => x.direction === 'narrows') ? 1 : 2);
  const ordered = [...groups.values()]
    .map((g) => {
      const dirs = new Set(g.probes.map((x) => x.direction));
      const direction: ChangeGroup['direction'] = dirs.size === 1 ? (g.probes[0]?.direction ?? 'changes') : 'mixed';
      return { base: g.base, head: g.head, direction, probes: g.probes };
    })
    .sort((x, y) => rank(x) - rank(y) || y.probes.length - x.probes.length || x.base.text.localeCompare(y.base.text));

  // The matrix: every destination where something changed; changed cells first when it must be cut.
  const cells: ChangeMatrixCell[] = [];
  let budget = MATRIX_CELLS;
  let omitted = 0;
  for (const destination of [...changedDestinations].sort()) {
    const all = dedupeCells(cellsByDestination.get(destination) ?? []);
    const keptChanged = all.filter((c) => c.changed);
    const others = all.filter((c) => !c.changed);
    const room = Math.max(0, budget - keptChanged.length);
    const keptOthers = others.slice(0, room);
    omitted += others.length - keptOthers.length;
    budget = Math.max(0, budget - keptChanged.length - keptOthers.length);
    const keep = new Set([...keptChanged, ...keptOthers]);
    cells.push(...all.filter((c) => keep.has(c)));
  }
  const unchangedDestinations = [...cellsByDestination.keys()].filter((d) => !changedDestinations.has(d)).length;
  return { groups: ordered, changed, matrix: { cells, omitted, unchangedDestinations } };
}

/** One cell per source and request; a changed one wins over an unchanged duplicate. */
function dedupeCells(cells: readonly ChangeMatrixCell[]): ChangeMatrixCell[] {
  const at = new Map<string, ChangeMatrixCell>();
  for (const c of cells) {
    const key = `${c.source}\u0000${c.request}`;
    const seen = at.get(key);
    if (seen === undefined || (!seen.changed && c.changed)) at.set(key, c);
  }
  return [...at.values()];
}

/** The mode each side gives every workload port, where the two differ. */
export function portModeChanges(base: ResolvedMesh, head: ResolvedMesh): PortModeChange[] {
  const out: PortModeChange[] = [];
  for (const wb of base.workloads) {
    const wh = head.workloads.find((w) => w.key === wb.key);
    if (wh === undefined) continue;
    for (const pb of wb.ports) {
      const ph = wh.ports.find((p) => p.port === pb.port);
      if (ph === undefined || ph.mtlsMode === pb.mtlsMode) continue;
      const vb = modeVia(pb);
      const vh = modeVia(ph);
      const { effect, widens } = modeEffect(pb.mtlsMode, ph.mtlsMode);
      out.push({
        workload: wb.key,
        port: pb.port,
        base: pb.mtlsMode,
        head: ph.mtlsMode,
        baseVia: vb.via,
        headVia: vh.via,
        ...(vb.at === undefined ? {} : { baseAt: vb.at }),
        ...(vh.at === undefined ? {} : { headAt: vh.at }),
        effect,
        widens,
      });
    }
  }
  return out;
}

/** What callers see when a port's mode changes (istio-semantics.md §1). */
export function modeEffect(from: PortModeChange['base'], to: PortModeChange['head']): { effect: string; widens: boolean } {
  if (from === 'STRICT' && to === 'PERMISSIVE') return { effect: 'now also accepts plaintext: callers without a sidecar get past the TLS layer and reach authorization', widens: true };
  if (from === 'STRICT' && to === 'DISABLE') return { effect: 'now accepts plaintext only: callers without a sidecar get in, and in-mesh callers arrive without an identity (auto mTLS sends plaintext), so principal and namespace rules cannot match them', widens: true };
  if (from === 'PERMISSIVE' && to === 'STRICT') return { effect: 'now refuses plaintext: callers without a sidecar are reset before HTTP', widens: false };
  if (from === 'PERMISSIVE' && to === 'DISABLE') return { effect: 'now takes plaintext only: in-mesh callers arrive without an identity, so principal and namespace rules no longer match them (ALLOW rules on them stop allowing, DENY rules on them stop denying)', widens: false };
  if (from === 'DISABLE' && to === 'STRICT') return { effect: 'now requires mTLS: plaintext is reset before HTTP, and in-mesh callers carry their identity again', widens: false };
  return { effect: 'now also accepts mTLS: in-mesh callers carry their identity again', widens: false };
}
