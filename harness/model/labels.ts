/** Kubernetes label selection, as workload selectors use it. */
import type { WorkloadSelector } from './resources.ts';

/** True when every `matchLabels` entry is on `labels`. An absent or empty selector selects all. */
export function selectorMatches(selector: WorkloadSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  const match = selector?.matchLabels;
  if (match === undefined) return true;
  for (const [key, value] of Object.entries(match)) if (labels[key] !== value) return false;
  return true;
}

/** True when the selector names at least one label. */
export function hasSelector(selector: WorkloadSelector | undefined): boolean {
  return selector?.matchLabels !== undefined && Object.keys(selector.matchLabels).length > 0;
}
