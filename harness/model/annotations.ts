/**
 * Istio annotations meshproof reads from policy metadata, parsed the way istiod parses them.
 */

/** The annotation that makes an AuthorizationPolicy a dry run (shadow rules, never enforced). */
export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool: undefined when `text` is not one of the spellings it accepts. */
export function parseGoBool(text: string): boolean | undefined {
  if (GO_TRUE.has(text)) return true;
  if (GO_FALSE.has(text)) return false;
  return undefined;
}

/**
 * Whether a policy is a dry run: istiod (authz builder isDryRun) reads the annotation with
 * strconv.ParseBool, so `"1"`, `"T"` and `"True"` count; validation rejects unparsable values.
 */
export function isDryRun(resource: { readonly annotations: Readonly<Record<string, string>> }): boolean {
  const value = resource.annotations[DRY_RUN_ANNOTATION];
  return value !== undefined && parseGoBool(value) === true;
}
