/**
 * Value checks for AuthorizationPolicy fields and `when` conditions, as Istio's
 * pkg/config/security does them (CheckEmptyValues, CheckServiceAccount, CheckWildcardValues,
 * CheckTrustDomainValues, ValidateIPs, ValidatePorts, CheckValidPathTemplate, ValidateAttribute).
 * Each problem is reported at the offending value.
 */
import type { FieldPath } from '../source-map.ts';
import { isIpOrCidr, isPortNumber, type IssueCollector } from './checks.ts';

type Values = readonly string[] | undefined;

export function checkEmptyValues(c: IssueCollector, at: FieldPath, field: string, values: Values): void {
  values?.forEach((v, k) => {
    if (v === '') c.error([...at, k], `empty value not allowed, found in ${field}`);
  });
}

/** `sa` or `namespace/sa`: at most 16 values, no wildcard, at most 320 characters. */
export function checkServiceAccounts(c: IssueCollector, at: FieldPath, field: string, values: Values): void {
  if (values === undefined) return;
  if (values.length > 16) {
    c.error(at, `may not have more than 16 values, found ${values.length} in ${field}`);
    return;
  }
  values.forEach((v, k) => {
    const p = [...at, k];
    const format = "expected format 'serviceAccount' or 'namespace/serviceAccount'";
    const slashes = v.split('/').length - 1;
    if (v === '') c.error(p, `empty value not allowed, found in ${field}`);
    else if (v.includes('*')) c.error(p, `wildcard not allowed, found in ${field}`);
    else if (slashes > 1) c.error(p, `${format}, found ${JSON.stringify(v)} in ${field}`);
    else if (v.length > 320) c.error(p, `value cannot exceed 320 characters, found in ${field}`);
    else if (slashes === 1 && v.startsWith('/')) c.error(p, `${format}, found empty namespace ${JSON.stringify(v)} in ${field}`);
    else if (slashes === 1 && v.endsWith('/')) c.error(p, `${format}, found empty serviceAccount ${JSON.stringify(v)} in ${field}`);
  });
}

/** Non-empty, at most one `*`, and only at the start or the end (or `*` alone). */
export function checkWildcardValues(c: IssueCollector, at: FieldPath, field: string, values: Values, options: { noSlash?: boolean } = {}): void {
  values?.forEach((v, k) => {
    const p = [...at, k];
    const stars = v.split('*').length - 1;
    if (v === '') c.error(p, `empty value not allowed, found in ${field}`);
    else if (stars > 1) c.error(p, `at most one wildcard is allowed, found in ${field}: ${JSON.stringify(v)}`);
    else if (stars === 1 && v !== '*' && !v.startsWith('*') && !v.endsWith('*')) c.error(p, `wildcard is only allowed at the start or end, found in ${field}: ${JSON.stringify(v)}`);
    else if (options.noSlash === true && v.includes('/')) c.error(p, `trust domain must not contain '/', found in ${field}: ${JSON.stringify(v)}`);
  });
}

export function checkIps(c: IssueCollector, at: FieldPath, values: Values): void {
  values?.forEach((v, k) => {
    if (v !== '' && !isIpOrCidr(v)) c.error([...at, k], `'${v}' is not an IP address or CIDR block`);
  });
}

export function checkPorts(c: IssueCollector, at: FieldPath, values: Values): void {
  values?.forEach((v, k) => {
    if (v !== '' && !isPortNumber(v)) c.error([...at, k], `'${v}' is not a port number (0-65535); ports match exactly, no wildcards`);
  });
}

/** Envoy's valid pchar (RFC 3986) for the literal segments of a path template. */
const PATH_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;
const MATCH_ONE = '{*}';
const MATCH_ANY = '{**}';

/** CheckValidPathTemplate: `{**}` last, no `{`/`}` outside operators, literal segments of a template are pchars. */
export function pathTemplateProblem(path: string): string | undefined {
  const isTemplate = path.includes(MATCH_ONE) || path.includes(MATCH_ANY);
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  let sawAny = false;
  for (const glob of trimmed.split('/')) {
    const operator = glob === MATCH_ONE || glob === MATCH_ANY;
    if (operator && sawAny) return `invalid or unsupported path ${trimmed}: {**} is not the last operator`;
    if (operator) {
      if (glob === MATCH_ANY) sawAny = true;
      continue;
    }
    if (/[{}]/.test(glob)) return `invalid or unsupported path ${trimmed}: contains '{' or '}' beyond a supported path template`;
    if (isTemplate && !PATH_LITERAL.test(glob)) return `invalid or unsupported path ${trimmed}: contains segment ${glob} with invalid string literal`;
  }
  return undefined;
}

/** `a[b]`: a `[` after the first character and a non-empty name before the closing `]`. */
function isMapKey(key: string): boolean {
  const open = key.indexOf('[');
  return key.endsWith(']') && open > 0 && open < key.length - 2;
}

/**
 * ValidateAttribute for one condition: `values` and `notValues` must hold no empty value; the key
 * is checked once, by prefix as Istio does (`request.headers…[name]`, `request.auth.claims…[name]`,
 * `experimental.envoy.filters.…[name]`); then the values of each list as the key requires.
 */
export function checkCondition(c: IssueCollector, at: FieldPath, key: string, lists: { readonly values?: readonly string[]; readonly notValues?: readonly string[] }): void {
  const keyAt = [...at, 'key'];
  const each = (check: (p: FieldPath, values: readonly string[]) => void): void => {
    for (const field of ['values', 'notValues'] as const) {
      const values = lists[field];
      if (values !== undefined && !values.includes('')) check([...at, field], values);
    }
  };
  for (const field of ['values', 'notValues'] as const) checkEmptyValues(c, [...at, field], key, lists[field]);
  const mapKey = (): void => {
    if (!isMapKey(key)) c.error(keyAt, `bad key (${key}): should have format a[b]`);
  };
  if (key.startsWith('request.headers')) mapKey();
  else if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') each((p, v) => checkIps(c, p, v));
  else if (key === 'source.namespace' || key === 'source.principal' || key === 'connection.sni') return;
  else if (key === 'source.serviceAccount') each((p, v) => checkServiceAccounts(c, p, key, v));
  else if (key === 'source.trustDomain') each((p, v) => checkWildcardValues(c, p, key, v));
  else if (key === 'request.auth.principal' || key === 'request.auth.audiences' || key === 'request.auth.presenter') return;
  else if (key.startsWith('request.auth.claims')) mapKey();
  else if (key === 'destination.port') each((p, v) => checkPorts(c, p, v));
  else if (key.startsWith('experimental.envoy.filters.')) mapKey();
  else if (key === 'destination.namespace') c.error(keyAt, `attribute ${key} is replaced by the metadata.namespace`);
  else if (key.startsWith('destination.labels')) c.error(keyAt, `attribute ${key} is replaced by the workload selector`);
  else if (key === 'destination.name' || key === 'destination.user') c.error(keyAt, `deprecated attribute ${key}: only supported in v1alpha1`);
  else c.error(keyAt, `unknown attribute: ${key}`, 'see the supported keys in Istio\'s "Authorization Policy Conditions" reference');
}

/** `a*b`: Istio accepts it and matches the `*` literally (only a leading or trailing `*` is a wildcard). */
export function warnLiteralStar(c: IssueCollector, at: FieldPath, field: string, values: Values): void {
  values?.forEach((v, k) => {
    if (v.length > 2 && v.slice(1, -1).includes('*')) c.warning([...at, k], `'${v}' in ${field}: Istio matches this '*' literally; only a leading or trailing '*' is a wildcard`);
  });
}
