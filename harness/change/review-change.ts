/**
 * reviewChange: what a policy change does to traffic, from both sides resolved on one topology.
 * Pure (policies and intents in, review out): the CLI prints it, the report shows it, `--live`
 * confirms its changed probes on running pods.
 */
import type { Intent } from '../conformance/intent-file.ts';
import type { PolicySet } from '../model/load-policies.ts';
import type { ResolvedMesh } from '../model/resolve.ts';
import { parseRequestSource } from '../oracle/request-source.ts';
import type { ChangeGroup, ChangeReview, ChangeSide, ChangeSummary, PortModeChange } from './change-review.ts';
import { decisionChanges, portModeChanges } from './decision-changes.ts';
import { intentChanges } from './intent-changes.ts';
import { unionProbes, type ExtraRequest, type SidedProbe } from './probe-union.ts';
import { resilienceChanges } from './resilience-changes.ts';
import { resourceEdits } from './resource-changes.ts';

export interface ChangeSideInput {
  /** The folder as the user named it. */
  readonly dir: string;
  readonly policies: PolicySet;
  readonly mesh: ResolvedMesh;
}

export interface ChangeInput {
  readonly base: ChangeSideInput;
  readonly head: ChangeSideInput;
  /** The topology file both sides are resolved on. */
  readonly topology: string;
  readonly intents?: readonly Intent[];
  readonly notes?: readonly string[];
}

export interface ReviewResult {
  readonly review: ChangeReview;
  /** Every probe of both sides with both decisions (the changed ones are in the review): for --live. */
  readonly probes: readonly SidedProbe[];
}

function side(input: ChangeSideInput, probes: number): ChangeSide {
  const set = input.policies;
  const resources: Record<string, number> = {};
  for (const [kind, list] of [
    ['PeerAuthentication', set.peerAuthentications],
    ['AuthorizationPolicy', set.authorizationPolicies],
    ['DestinationRule', set.destinationRules],
    ['VirtualService', set.virtualServices],
  ] as const) {
    if (list.length > 0) resources[kind] = list.length;
  }
  const rules = new Set<string>();
  for (const w of input.mesh.workloads) for (const p of w.authorizationPolicies) (p.spec.rules ?? []).forEach((_, i) => rules.add(`${p.namespace}/${p.name}/${i}`));
  return { dir: input.dir, files: set.files.length, resources, rules: rules.size, probes };
}

function at(where: string | undefined): string {
  return where === undefined ? '' : `, ${where}`;
}

function widenings(groups: readonly ChangeGroup[], ports: readonly PortModeChange[]): string[] {
  const out: string[] = [];
  for (const p of ports.filter((x) => x.widens)) out.push(`${p.workload}:${p.port} is ${p.head} instead of ${p.base} (${p.headVia}${at(p.headAt)}): it ${p.effect}`);
  for (const g of groups) {
    const wide = g.probes.filter((p) => p.direction === 'widens');
    const first = wide[0];
    if (first === undefined) continue;
    const was = [...new Set(wide.map((p) => (p.base === 'deny' ? 'denied' : p.base === 'reject' ? 'rejected' : '400')))].join('/');
    const edit = (e: string | undefined): string => (e === undefined || e === 'unchanged' ? '' : ` [${e} in HEAD]`);
    out.push(
      `${wide.length} request(s) ${was} before are now allowed: BASE ${g.base.text}${edit(g.base.edit)}${at(g.base.at)} → HEAD ${g.head.text}${edit(g.head.edit)}${at(g.head.at)}; e.g. ${first.source} ${first.request} → ${first.destination}`,
    );
  }
  return out;
}

function summarize(compared: number, changed: number, groups: readonly ChangeGroup[], ports: number, resources: number, resilience: number, regressed: number): ChangeSummary {
  const probes = groups.flatMap((g) => g.probes);
  const widens = probes.filter((p) => p.direction === 'widens').length;
  const narrows = probes.filter((p) => p.direction === 'narrows').length;
  const other = changed - widens - narrows;
  const noChange = changed === 0 && ports === 0 && resilience === 0 && regressed === 0;
  const text = noChange
    ? `no change: the ${compared} probes of both sides get the same decisions; no port changes mTLS mode; no resilience setting changes${resources > 0 ? ` (${resources} resource edit(s), none of which changes what callers see)` : ''}`
    : [
        `${changed} of ${compared} probes change decision${changed === 0 ? '' : ` (${widens} widen access, ${narrows} narrow it, ${other} other)`}`,
        `${ports} port(s) change mTLS mode`,
        `${resilience} resilience change(s)`,
        ...(regressed > 0 ? [`${regressed} intent(s) broken`] : []),
      ].join('; ');
  return { probesCompared: compared, probesChanged: changed, widens, narrows, otherChanges: other, portsChanged: ports, resourcesChanged: resources, resilienceChanged: resilience, intentsRegressed: regressed, noChange, text };
}

export function reviewChange(input: ChangeInput): ReviewResult {
  const { base, head } = input;
  const intents = input.intents ?? [];
  // Intents first: an intent naming a workload or port the topology lacks is an error at its line.
  const intentResults = intents.length === 0 ? [] : intentChanges(base.mesh, head.mesh, intents);
  const extra: ExtraRequest[] = intents.map((i) => ({
    id: `intent ${i.location.file}${i.location.line === undefined ? '' : `:${i.location.line}`}`,
    request: { source: parseRequestSource(i.from, head.mesh.mesh.trustDomain, 'from', i.location), to: i.to, method: i.method, path: i.path, ...(i.port === undefined ? {} : { port: i.port }) },
  }));
  const union = unionProbes(base.mesh, head.mesh, extra);
  const edits = resourceEdits(base.policies, head.policies);
  const decisions = decisionChanges(union.probes, base.mesh, head.mesh, edits);
  const ports = portModeChanges(base.mesh, head.mesh);
  const resilience = resilienceChanges(base.mesh, head.mesh);
  const regressed = intentResults.filter((i) => i.verdict === 'regressed').length;
  const review: ChangeReview = {
    base: side(base, union.baseGenerated),
    head: side(head, union.headGenerated),
    topology: input.topology,
    summary: summarize(union.probes.length, decisions.changed.length, decisions.groups, ports.length, edits.resources.length, resilience.length, regressed),
    widenings: widenings(decisions.groups, ports),
    resources: edits.resources,
    groups: decisions.groups,
    ports,
    resilience,
    intents: intentResults,
    matrix: decisions.matrix,
    notes: input.notes ?? [],
  };
  return { review, probes: union.probes };
}
