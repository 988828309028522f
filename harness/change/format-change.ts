/**
 * A change review as text (the terminal) and as Markdown (a CI job summary, a PR comment).
 * Widening of access comes first in both; every rule and policy is named with its file:line.
 */
import type { ChangeCause, ChangeGroup, ChangeReview, ChangeSide, ChangedProbe, LiveConfirmation } from './change-review.ts';

/** Probes listed per group before "and N more". */
export const PROBES_PER_GROUP = 10;

function sideLine(label: string, s: ChangeSide): string {
  const kinds = Object.entries(s.resources).map(([k, n]) => `${n} ${k}`).join(', ') || 'no policies';
  return `${label} ${s.dir}: ${kinds} in ${s.files} file(s); ${s.rules} rule(s); ${s.probes} probe(s)`;
}

function cause(c: ChangeCause): string {
  const edit = c.edit === undefined || c.edit === 'unchanged' ? '' : ` [${c.edit} in HEAD]`;
  return `${c.text}${edit}${c.at === undefined ? '' : ` (${c.at})`}${c.mtls === undefined ? '' : `; ${c.mtls}`}`;
}

const OUTCOME: Readonly<Record<string, string>> = { allow: 'allow', deny: 'deny', reject: 'reject', 'bad-request': '400', unknown: 'unknown' };

function transition(p: ChangedProbe): string {
  const show = (d: string, status: number | undefined): string => (d === 'deny' && status !== undefined && status !== 403 ? `deny ${status}` : (OUTCOME[d] ?? d));
  return `${show(p.base, p.baseStatus)} → ${show(p.head, p.headStatus)}`;
}

function groupLines(g: ChangeGroup, limit: number): string[] {
  const lines = [`  BASE  ${cause(g.base)}`, `  HEAD  ${cause(g.head)}`];
  const rows = g.probes.slice(0, limit).map((p) => [p.direction, transition(p), p.source, p.request, `→ ${p.destination}`]);
  const widths = [0, 1, 2, 3].map((i) => Math.min(60, Math.max(...rows.map((r) => (r[i] ?? '').length))));
  for (const r of rows) lines.push(`    ${r.map((c, i) => (i < 4 ? c.padEnd(widths[i] ?? 0) : c)).join('  ')}`);
  if (g.probes.length > limit) lines.push(`    … and ${g.probes.length - limit} more (--json or --report lists every one)`);
  return lines;
}

/** `1.40.0` out of Envoy's long version line; other versions as they are. */
export function shortVersion(version: string): string {
  return /\/(\d+\.\d+\.\d+)\//.exec(version)?.[1] ?? version;
}

export function formatLive(live: readonly LiveConfirmation[]): string[] {
  const lines: string[] = [];
  for (const l of live) {
    if (l.skipped !== undefined) {
      lines.push(`  ${l.dataPlane}: not run: ${l.skipped}`);
      continue;
    }
    lines.push(`  ${l.dataPlane} ${shortVersion(l.version)}: ${l.confirmed} of ${l.probes.length} changed probe(s) confirmed on running pods (BASE, then HEAD applied to the same pods)${l.disagreed > 0 ? `; ${l.disagreed} DISAGREE with the oracle` : ''} in ${(l.durationMs / 1000).toFixed(1)} s`);
    for (const p of l.probes) {
      const mark = p.confirmed ? 'confirmed' : 'DISAGREES';
      const side = (s: typeof p.base): string => `${s.observed}${s.agrees ? '' : ` (expected ${s.expected})`}`;
      lines.push(`    ${mark.padEnd(9)}  ${p.source} ${p.request} → ${p.destination}: BASE ${side(p.base)}, HEAD ${side(p.head)}${[p.base.note, p.head.note].filter((n) => n !== undefined).map((n) => `; ${n}`).join('')}`);
    }
    for (const n of l.notSent) lines.push(`    not sent   ${n.probe}: ${n.reason}`);
  }
  return lines;
}

export function formatReview(r: ChangeReview, options: { readonly limit?: number } = {}): string {
  const limit = options.limit ?? PROBES_PER_GROUP;
  const out: string[] = [sideLine('BASE', r.base), sideLine('HEAD', r.head), `topology ${r.topology}`, ''];
  if (r.widenings.length > 0) {
    out.push('WIDENS ACCESS');
    for (const w of r.widenings) out.push(`  ! ${w}`);
    out.push('');
  }
  if (r.resources.length > 0) {
    out.push('CHANGED RESOURCES');
    for (const c of r.resources) {
      const where = c.edit === 'added' ? c.headAt : c.edit === 'removed' ? c.baseAt : `${c.baseAt ?? '?'} → ${c.headAt ?? '?'}`;
      out.push(`  ${c.edit.padEnd(8)} ${c.kind} ${c.name}  ${where ?? ''}${c.parts === undefined ? '' : `  (${c.parts.join(', ')})`}`);
    }
    out.push('');
  }
  if (r.groups.length > 0) {
    out.push(`DECISIONS THAT CHANGE (${r.summary.probesChanged} probe(s), grouped by what decides them on each side)`);
    for (const g of r.groups) out.push(...groupLines(g, limit), '');
  }
  if (r.ports.length > 0) {
    out.push('PORTS THAT CHANGE mTLS MODE');
    for (const p of r.ports) {
      out.push(`  ${p.widens ? 'widens ' : 'changes'}  ${p.workload}:${p.port}  ${p.base} → ${p.head}: ${p.effect}`);
      out.push(`             BASE ${p.baseVia}${p.baseAt === undefined ? '' : ` (${p.baseAt})`}; HEAD ${p.headVia}${p.headAt === undefined ? '' : ` (${p.headAt})`}`);
    }
    out.push('');
  }
  if (r.resilience.length > 0) {
    out.push('RESILIENCE (what callers of each service port see)');
    for (const c of r.resilience) {
      out.push(`  ${c.direction.padEnd(8)}  ${c.text}${c.callers === undefined ? '' : ` (callers in ${c.callers.join(', ')})`}`);
      if (c.baseAt !== undefined || c.headAt !== undefined) out.push(`            BASE ${c.baseAt ?? 'none'}; HEAD ${c.headAt ?? 'none'}`);
    }
    out.push('');
  }
  if (r.intents.length > 0) {
    const kept = r.intents.filter((i) => i.verdict === 'kept').length;
    out.push(`INTENTS (--expect: ${kept} of ${r.intents.length} kept by both sides)`);
    for (const i of r.intents.filter((x) => x.verdict !== 'kept')) out.push(`  ${i.verdict.toUpperCase().padEnd(18)} ${i.at}: ${i.text}`);
    out.push('');
  }
  if (r.live !== undefined) out.push('LIVE (--live)', ...(r.live.length === 0 ? ['  no probe changes decision: nothing was sent'] : formatLive(r.live)), '');
  for (const n of r.notes) out.push(`note: ${n}`);
  if (r.summary.noChange) out.push(r.summary.text);
  else out.push(`diff: ${r.summary.text}`);
  return out.join('\n');
}

const md = (text: string): string => text.replace(/[|\\`*_<>[\]]/g, (c) => `\\${c}`);

/** A short Markdown summary for a CI job summary or a pull-request comment. */
export function markdownSummary(r: ChangeReview, options: { readonly report?: string; readonly limit?: number } = {}): string {
  const limit = options.limit ?? 5;
  const out: string[] = [`### meshproof diff: ${md(r.summary.text)}`, '', `BASE \`${r.base.dir}\` → HEAD \`${r.head.dir}\` (${r.summary.probesCompared} probes compared on \`${r.topology}\`)`, ''];
  if (r.widenings.length > 0) {
    out.push('> [!WARNING]', '> **This change widens access.**');
    for (const w of r.widenings) out.push(`> - ${md(w)}`);
    out.push('');
  }
  const regressed = r.intents.filter((i) => i.verdict === 'regressed');
  if (regressed.length > 0) {
    out.push('> [!CAUTION]', `> **${regressed.length} intent(s) BASE kept are broken by HEAD.**`);
    for (const i of regressed) out.push(`> - ${md(i.at)}: ${md(i.text)}`);
    out.push('');
  }
  if (r.groups.length > 0) {
    out.push('| change | probes | BASE decided by | HEAD decided by | e.g. |', '|---|---:|---|---|---|');
    for (const g of r.groups) {
      const e = g.probes.slice(0, 2).map((p) => `${md(p.source)} ${md(p.request)} → ${md(p.destination)}: ${md(transition(p))}`).join('<br>');
      out.push(`| ${g.direction} | ${g.probes.length} | ${md(cause(g.base))} | ${md(cause(g.head))} | ${e} |`);
    }
    out.push('');
  }
  if (r.ports.length > 0) {
    out.push('**Ports that change mTLS mode**', '');
    for (const p of r.ports) out.push(`- \`${p.workload}:${p.port}\` ${p.base} → ${p.head}${p.widens ? ' (widens)' : ''}: ${md(p.effect)} (${md(p.headVia)}${p.headAt === undefined ? '' : `, ${md(p.headAt)}`})`);
    out.push('');
  }
  if (r.resilience.length > 0) {
    out.push('**Resilience**', '');
    for (const c of r.resilience.slice(0, limit * 2)) out.push(`- ${c.direction}: ${md(c.text)}`);
    if (r.resilience.length > limit * 2) out.push(`- … and ${r.resilience.length - limit * 2} more`);
    out.push('');
  }
  if (r.live !== undefined) {
    for (const l of r.live) out.push(l.skipped !== undefined ? `Live (${l.dataPlane}): not run: ${md(l.skipped)}` : `Live (${l.dataPlane} ${md(shortVersion(l.version))}): ${l.confirmed} of ${l.probes.length} changed probes confirmed on running pods${l.disagreed > 0 ? `, **${l.disagreed} disagree with the oracle**` : ''}`);
    out.push('');
  }
  if (options.report !== undefined) out.push(`Full review: ${md(options.report)} (the report's "change" view).`, '');
  return out.join('\n');
}
