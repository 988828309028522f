/**
 * Label maps and workload selectors, as Istio validates them: validateWorkloadSelector
 * (validation.go; the same rules are the CRDs' CEL rules) and labels.Instance.Validate
 * (pkg/config/labels) for subset labels and `sourceLabels`.
 */
import type { FieldPath } from '../source-map.ts';
import type { IssueCollector } from './checks.ts';

const DNS1123_LABEL = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?';
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
/** `[dns-prefix/]name`, as Kubernetes label keys. */
const LABEL_KEY = new RegExp(`^(${DNS1123_LABEL}(?:\\.${DNS1123_LABEL})*/)?(${QUALIFIED_NAME})$`);
const LABEL_VALUE = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** labels.Instance.Validate: each key a qualified name with an optional DNS prefix, each value a qualified name or empty. */
export function validateLabels(c: IssueCollector, at: FieldPath, labels: unknown): void {
  if (!isMapping(labels)) return;
  for (const [key, value] of Object.entries(labels)) {
    const m = LABEL_KEY.exec(key);
    if (m === null) c.error([...at, key], `invalid tag key: ${JSON.stringify(key)}`);
    else if ((m[1]?.length ?? 0) - 1 > 253) c.error([...at, key], `invalid tag key: ${JSON.stringify(key)} (DNS prefix is too long)`);
    else if ((m[2]?.length ?? 0) > 63) c.error([...at, key], `invalid tag key: ${JSON.stringify(key)} (name is too long)`);
    if (!LABEL_VALUE.test(String(value ?? ''))) c.error([...at, key], `invalid tag value: ${JSON.stringify(value)}`);
  }
}

/**
 * validateWorkloadSelector: no empty key, no `*` in a key or value (errors); a selector with no
 * labels is a warning (it selects every workload in the namespace).
 */
export function validateWorkloadSelector(c: IssueCollector, at: FieldPath, selector: unknown): void {
  if (selector === undefined || selector === null) return;
  const labels = isMapping(selector) ? selector['matchLabels'] : undefined;
  const entries = isMapping(labels) ? Object.entries(labels) : [];
  for (const [key, value] of entries) {
    const shown = JSON.stringify(`${key}=${String(value)}`);
    if (key === '') c.error([...at, 'matchLabels', key], `empty key is not supported in selector: ${shown}`);
    if (key.includes('*') || String(value).includes('*')) c.error([...at, 'matchLabels', key], `wildcard is not supported in selector: ${shown}`);
  }
  if (entries.length === 0) c.warning(at, 'workload selector specified without labels', 'it selects every workload in the namespace; remove the selector if that is meant, or add matchLabels');
}
