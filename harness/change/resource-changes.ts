/**
 * Which resources a change adds, removes or edits, and which authorization rules: what a reviewer
 * reads first ("AuthorizationPolicy prod/restrict-payment-access changed: spec.rules[0].to"), and
 * what names the rule behind a changed decision ("rule …/rules[0], removed by this change").
 */
import { isDryRun } from '../model/annotations.ts';
import type { PolicySet } from '../model/load-policies.ts';
import { policyRef } from '../model/resolve-peer-authentication.ts';
import { ruleId, type ResourceMeta } from '../model/resources.ts';
import type { EditKind, ResourceChange } from './change-review.ts';

type Resource = ResourceMeta & { readonly kind: string; readonly spec: unknown };

const KINDS = ['PeerAuthentication', 'AuthorizationPolicy', 'DestinationRule', 'VirtualService'] as const;

function resourcesOf(set: PolicySet): Resource[] {
  return [...set.peerAuthentications, ...set.authorizationPolicies, ...set.destinationRules, ...set.virtualServices];
}

const keyOf = (r: { readonly kind: string; readonly namespace: string; readonly name: string }): string => `${r.kind}/${r.namespace}/${r.name}`;

/** What Istio reads of a resource: its spec, the dry-run annotation, and the creation time (which orders PeerAuthentications). */
function content(r: Resource): unknown {
  return { spec: r.spec, dryRun: isDryRun(r), created: r.creationTimestamp ?? null };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `spec.rules[1].to`: where two values differ, down to `depth` levels; at most `limit` places. */
export function changedParts(a: unknown, b: unknown, path = '', depth = 4, limit = 6): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const arrays = Array.isArray(a) && Array.isArray(b);
  if (depth === 0 || (!arrays && !(isObject(a) && isObject(b)))) return [path === '' ? '(whole)' : path];
  const out: string[] = [];
  if (arrays) {
    for (let i = 0; i < Math.max(a.length, b.length) && out.length < limit; i++) out.push(...changedParts(a[i], b[i], `${path}[${i}]`, depth - 1, limit - out.length));
  } else {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
      if (out.length >= limit) break;
      out.push(...changedParts(x[k], y[k], path === '' ? k : `${path}.${k}`, depth - 1, limit - out.length));
    }
  }
  return out;
}

export interface ResourceEdits {
  readonly resources: readonly ResourceChange[];
  /** What the change did to an authorization rule (`namespace/policy/rules[i]`). */
  ruleEdit(id: string): EditKind;
  /** What the change did to a resource. */
  resourceEdit(kind: string, namespace: string, name: string): EditKind;
}

/** The resources of both sides compared by kind, namespace and name. */
export function resourceEdits(base: PolicySet, head: PolicySet): ResourceEdits {
  const before = new Map<string, Resource>();
  const after = new Map<string, Resource>();
  for (const r of resourcesOf(base)) if (!before.has(keyOf(r))) before.set(keyOf(r), r);
  for (const r of resourcesOf(head)) if (!after.has(keyOf(r))) after.set(keyOf(r), r);
  const changes: ResourceChange[] = [];
  const edits = new Map<string, EditKind>();
  for (const key of [...new Set([...before.keys(), ...after.keys()])]) {
    const b = before.get(key);
    const a = after.get(key);
    const r = (a ?? b) as Resource;
    const name = `${r.namespace}/${r.name}`;
    if (b === undefined) {
      edits.set(key, 'added');
      changes.push({ kind: r.kind, name, edit: 'added', headAt: policyRef(r).at });
    } else if (a === undefined) {
      edits.set(key, 'removed');
      changes.push({ kind: r.kind, name, edit: 'removed', baseAt: policyRef(r).at });
    } else {
      const parts = changedParts(content(b), content(a)).map((p) => p.replace(/^dryRun$/, 'metadata.annotations["istio.io/dry-run"]').replace(/^created$/, 'metadata.creationTimestamp'));
      edits.set(key, parts.length === 0 ? 'unchanged' : 'changed');
      if (parts.length > 0) changes.push({ kind: r.kind, name, edit: 'changed', baseAt: policyRef(b).at, headAt: policyRef(a).at, parts });
    }
  }
  const mesh = meshChange(base, head);
  if (mesh !== undefined) changes.push(mesh);
  const kindRank = (k: string): number => {
    const i = (KINDS as readonly string[]).indexOf(k);
    return i === -1 ? KINDS.length : i;
  };
  changes.sort((x, y) => kindRank(x.kind) - kindRank(y.kind) || x.name.localeCompare(y.name));

  const rules = new Map<string, EditKind>();
  const ruleText = (set: PolicySet): Map<string, string> => {
    const m = new Map<string, string>();
    for (const p of set.authorizationPolicies) {
      const policyPart = JSON.stringify([p.spec.action ?? 'ALLOW', p.spec.selector ?? null, p.spec.targetRef ?? null, p.spec.targetRefs ?? null, p.spec.provider ?? null, isDryRun(p)]);
      (p.spec.rules ?? []).forEach((rule, i) => m.set(ruleId(p, i), `${policyPart}${JSON.stringify(rule)}`));
    }
    return m;
  };
  const rb = ruleText(base);
  const rh = ruleText(head);
  for (const id of new Set([...rb.keys(), ...rh.keys()])) {
    const b = rb.get(id);
    const h = rh.get(id);
    rules.set(id, b === undefined ? 'added' : h === undefined ? 'removed' : b === h ? 'unchanged' : 'changed');
  }
  return {
    resources: changes,
    ruleEdit: (id) => rules.get(id) ?? 'unchanged',
    resourceEdit: (kind, namespace, name) => edits.get(`${kind}/${namespace}/${name}`) ?? 'unchanged',
  };
}

/** The mesh settings meshproof reads, when the change edits them (an `istio` ConfigMap in the folder). */
function meshChange(base: PolicySet, head: PolicySet): ResourceChange | undefined {
  const view = (s: PolicySet): Record<string, unknown> => {
    const { source: _source, ...rest } = s.mesh;
    return rest;
  };
  const parts = changedParts(view(base), view(head));
  if (parts.length === 0) return undefined;
  const at = (s: PolicySet): string | undefined => (s.mesh.source === undefined ? undefined : `${s.mesh.source.file}${s.mesh.source.line === undefined ? '' : `:${s.mesh.source.line}`}`);
  const baseAt = at(base);
  const headAt = at(head);
  return { kind: 'MeshConfig', name: `${head.mesh.rootNamespace}/istio`, edit: 'changed', ...(baseAt === undefined ? {} : { baseAt }), ...(headAt === undefined ? {} : { headAt }), parts };
}
