/**
 * RequestAuthentication rules beyond the schema: Istio's ValidateRequestAuthentication and
 * validateJwtRule (pkg/config/validation/validation.go, Istio 1.30.3), and its warning for JWKS
 * that carry private key material. Errors are what the webhook rejects.
 */
import type { Issue } from '../issues.ts';
import type { JwtRule, RequestAuthentication } from '../resources.ts';
import type { DocumentSource, FieldPath } from '../source-map.ts';
import { IssueCollector } from './checks.ts';
import { validateMetadata } from './metadata.ts';
import { validateWorkloadSelector } from './selectors.ts';
import { validatePolicyTargets } from './target-refs.ts';

/** RFC 9110 token: what ValidateStrictHTTPHeaderName accepts. */
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** JWK members that only a private key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

export function validateRequestAuthentication(policy: RequestAuthentication, source: DocumentSource): Issue[] {
  const c = new IssueCollector(source);
  const spec = policy.spec;
  validateMetadata(c, policy);
  validatePolicyTargets(c, spec);
  validateWorkloadSelector(c, ['spec', 'selector'], spec.selector);
  (spec.jwtRules ?? []).forEach((rule, i) => {
    const at: FieldPath = ['spec', 'jwtRules', i];
    if (rule === null || typeof rule !== 'object') return;
    validateJwtRule(c, at, rule);
    warnPrivateKeys(c, at, rule);
  });
  return c.issues;
}

function validateJwtRule(c: IssueCollector, at: FieldPath, rule: JwtRule): void {
  rule.audiences?.forEach((a, i) => {
    if (a === '') c.error([...at, 'audiences', i], 'audience must be non-empty string');
  });
  if ((rule.issuer ?? '') === '' && (rule.jwksUri ?? '') === '') c.error(at, 'issuer or jwksUri must be non-empty string');
  if ((rule.jwksUri ?? '') !== '') {
    const problem = jwksUriProblem(rule.jwksUri ?? '');
    if (problem !== undefined) c.error([...at, 'jwksUri'], problem);
  }
  if ((rule.jwks ?? '') !== '') {
    const parsed = parseJwks(rule.jwks ?? '');
    if (typeof parsed === 'string') c.error([...at, 'jwks'], `jwks parse error: ${parsed}`, 'jwks is the JSON of a JWK Set ({"keys": [...]}) or of one JWK, as a string');
  }
  rule.fromHeaders?.forEach((h, i) => {
    if (h === null || typeof h !== 'object') c.error([...at, 'fromHeaders', i], 'location header name must be non-null');
    else if ((h.name ?? '') === '') c.error([...at, 'fromHeaders', i, 'name'], 'location header name must be non-empty string');
  });
  rule.fromParams?.forEach((p, i) => {
    if (p === '') c.error([...at, 'fromParams', i], 'location query must be non-empty string');
  });
  rule.fromCookies?.forEach((p, i) => {
    if (p === '') c.error([...at, 'fromCookies', i], 'cookie name must be non-empty string');
  });
  rule.outputClaimToHeaders?.forEach((o, i) => {
    const p = [...at, 'outputClaimToHeaders', i];
    if (o === null || typeof o !== 'object') return c.error(p, 'outputClaimToHeaders must not be null');
    if ((o.claim ?? '') === '' || (o.header ?? '') === '') return c.error(p, 'outputClaimToHeaders header and claim value must be non-empty string');
    if (!HEADER_TOKEN.test(o.header)) c.error([...p, 'header'], `invalid header name: ${JSON.stringify(o.header)}`);
  });
  if (rule.timeout !== undefined) c.duration([...at, 'timeout'], rule.timeout);
}

/** security.ParseJwksURI: an http or https URL. */
function jwksUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `jwksUri ${JSON.stringify(uri)} is not a URL`;
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') return `URI scheme ${JSON.stringify(scheme)} is not supported`;
  return undefined;
}

function warnPrivateKeys(c: IssueCollector, at: FieldPath, rule: JwtRule): void {
  const parsed = (rule.jwks ?? '') === '' ? undefined : parseJwks(rule.jwks ?? '');
  if (parsed === undefined || typeof parsed === 'string') return;
  parsed.forEach((key, i) => {
    if (PRIVATE_MEMBERS.some((m) => key[m] !== undefined)) c.warning([...at, 'jwks'], `jwks key at index ${i} contains private key material; only public keys are used for verification`);
  });
}

/** The keys of a JWK Set (or of one JWK), or why the text is none (jwk.Parse: JSON, and every key names its `kty`). */
export function parseJwks(text: string): Record<string, unknown>[] | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'a JWK Set or a JWK is a JSON object';
  const set = raw as Record<string, unknown>;
  const keys = 'keys' in set ? set['keys'] : [set];
  if (!Array.isArray(keys)) return '"keys" must be an array';
  for (const [i, k] of keys.entries()) {
    if (k === null || typeof k !== 'object' || typeof (k as Record<string, unknown>)['kty'] !== 'string') return `key ${i} has no "kty"`;
  }
  return keys as Record<string, unknown>[];
}
