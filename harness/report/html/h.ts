/**
 * The HTML views are preact components rendered to a string with htm's tagged templates:
 * every interpolated value is escaped by the renderer, so traffic data (paths, headers, bodies,
 * all attacker-controlled) can only ever appear as text. Nothing here may use
 * dangerouslySetInnerHTML except the page renderers (render-html.ts, render-differential.ts) for the page's own CSS and print script.
 */
import { createRequire } from 'node:module';
import type { CaseOutcome } from '../../spec/outcome.ts';

// preact's type definitions reference lib.dom, whose WebCrypto types clash with node's (used by
// harness/pki), so the type checker must not see them: preact, htm and the string renderer are
// loaded untyped (all three as CommonJS, so they share one preact) and described here.
const require = createRequire(import.meta.url);

/** What components return: a preact element, text, a list of them, or nothing. */
export type Markup = { readonly type: unknown; readonly props: unknown } | string | number | null | readonly Markup[];

/** htm bound to preact's h(): `html\`<td class=${c}>${text}</td>\`` — every value is escaped on render. */
export const html = (require('htm/preact') as { html: (strings: TemplateStringsArray, ...values: unknown[]) => Markup }).html;

/** preact-render-to-string: the element tree as an HTML string. */
export const renderToString = (require('preact-render-to-string') as { render: (markup: Markup) => string }).render;

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

export const OUTCOME_LABEL: Readonly<Record<CaseOutcome['status'], string>> = {
  passed: 'passed',
  failed: 'failed',
  skipped: 'skipped',
  'not-supported': 'not supported',
  error: 'error',
};

/** Why a case ended as it did, in one line (empty for passed). */
export function outcomeReason(outcome: CaseOutcome): string {
  switch (outcome.status) {
    case 'passed':
      return '';
    case 'failed':
      return outcome.message;
    case 'skipped':
      return outcome.reason;
    case 'not-supported':
      return `the data plane does not claim ${outcome.features.join(', ')}`;
    case 'error':
      return `${outcome.message} (${outcome.code})${outcome.hint === undefined ? '' : `; to fix: ${outcome.hint}`}`;
  }
}
