/**
 * product-service's policies (fixtures/security/product-service-authorization.yaml), line by line:
 * DENY beats ALLOW, AUDIT never decides, `when` conditions on a request header, URI templates
 * and notPaths. prod-namespace is STRICT, so every caller here speaks mTLS.
 */
import { Feature, type ConformanceCase } from '../../../harness/index.ts';
import { runSpecTable, specTableCase, type SpecRow } from '../../shared/spec-table.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { AUTHZ_MANIFESTS, PRODUCT } from './common.ts';

const ACME = { 'x-tenant': 'acme' } as const;

const DENY_ROWS: readonly SpecRow[] = [
  { from: 'order-client', method: 'GET', path: '/products/42', expect: 'allow', why: 'product-access rule 0: GET /products/{*} from prod-namespace' },
  { from: 'order-client', port: 8083, method: 'GET', path: '/status', expect: 'allow', why: 'product-access rule 2: GET on port 8083 from any peer' },
  { from: 'order-client', port: 8083, method: 'GET', path: '/admin', expect: 'deny', why: 'ALLOW rule 2 matches, but DENY product-deny rule 1 (/admin) matches too, and DENY is evaluated first' },
  { from: 'order-client', port: 8083, method: 'GET', path: '/admin/users', expect: 'deny', why: 'DENY rule 1: /admin/*' },
  { from: 'order-client', method: 'DELETE', path: '/products/42', expect: 'deny', why: 'DENY rule 0: nobody deletes' },
  { from: 'order-client', method: 'POST', path: '/products/42', headers: ACME, expect: 'allow', why: 'ALLOW rule 1, and DENY rule 2 spares order-service-sa (notPrincipals)' },
  { from: 'product-client', method: 'POST', path: '/products/42', headers: ACME, expect: 'deny', why: 'DENY rule 2: a write to /products/* from anyone but order-service-sa' },
  { from: 'identity:legacy/reporting', method: 'GET', path: '/products/42', expect: 'deny', why: 'no ALLOW rule matches a caller outside prod-namespace on port 8082' },
];

export const denyBeatsAllowCase = specTableCase({
  shortName: 'deny-beats-allow',
  description: 'product-service: a request that both a DENY and an ALLOW rule match is denied (DENY first); DELETE is denied to everyone; writes to /products/* are denied to all but order-service-sa, whom ALLOW then lets in.',
  features: [Feature.AuthzDeny, Feature.AuthzAllow],
  manifests: AUTHZ_MANIFESTS,
  to: PRODUCT,
  rows: DENY_ROWS,
  what: 'DENY before ALLOW on product-service',
});

const WHEN_ROWS: readonly SpecRow[] = [
  { from: 'order-client', method: 'POST', path: '/products/1', headers: ACME, expect: 'allow', why: 'x-tenant acme matches values acme*' },
  { from: 'order-client', method: 'PUT', path: '/products/1', headers: { 'x-tenant': 'acme-eu' }, expect: 'allow', why: 'acme-eu matches the prefix acme*' },
  { from: 'order-client', method: 'POST', path: '/products/1', headers: { 'x-tenant': 'acme-test' }, expect: 'deny', why: 'notValues acme-test excludes it' },
  { from: 'order-client', method: 'POST', path: '/products/1', headers: { 'x-tenant': 'globex' }, expect: 'deny', why: 'globex is not acme*' },
  { from: 'order-client', method: 'POST', path: '/products/1', expect: 'deny', why: 'no x-tenant header: the condition needs one' },
  { from: 'order-client', method: 'POST', path: '/products/1', headers: { 'X-Tenant': 'acme' }, expect: 'allow', why: 'header names are compared case-insensitively' },
  { from: 'order-client', method: 'POST', path: '/products/1', headers: { 'x-tenant': 'ACME' }, expect: 'deny', why: 'header values are compared case-sensitively' },
];

export const whenConditionsCase = specTableCase({
  shortName: 'when-header-condition',
  description: "product-service's write rule holds only when request.headers[x-tenant] matches acme* and is not acme-test: names case-insensitive, values case-sensitive, a missing header never matches.",
  features: [Feature.AuthzConditions, Feature.AuthzAllow],
  manifests: AUTHZ_MANIFESTS,
  to: PRODUCT,
  rows: WHEN_ROWS,
  what: 'the x-tenant condition',
});

const TEMPLATE_ROWS: readonly SpecRow[] = [
  { from: 'order-client', method: 'GET', path: '/products/42', expect: 'allow', why: '{*} is one segment' },
  { from: 'product-client', method: 'HEAD', path: '/products/42', expect: 'allow', why: 'any prod-namespace caller, GET or HEAD' },
  { from: 'order-client', method: 'GET', path: '/products/42/reviews', expect: 'deny', why: '{*} does not span two segments' },
  { from: 'order-client', method: 'GET', path: '/catalog/shoes', expect: 'allow', why: '{**} takes one segment' },
  { from: 'order-client', method: 'GET', path: '/catalog/shoes/red/42', expect: 'allow', why: '{**} takes any number of segments' },
  { from: 'order-client', method: 'GET', path: '/products/internal', expect: 'deny', why: 'notPaths /products/internal' },
  { from: 'order-client', method: 'GET', path: '/products/internal?x=1', expect: 'deny', why: 'the query is not part of the path notPaths matches' },
];

export const pathTemplatesCase = specTableCase({
  shortName: 'path-templates-and-not-paths',
  description: 'product-service reads: /products/{*} matches exactly one segment, /catalog/{**} any number, and notPaths carves /products/internal out of the template.',
  features: [Feature.AuthzAllow],
  manifests: AUTHZ_MANIFESTS,
  to: PRODUCT,
  rows: TEMPLATE_ROWS,
  what: 'URI templates and notPaths',
});

const AUDIT_ROWS: readonly SpecRow[] = [
  { from: 'order-client', method: 'POST', path: '/products/7', headers: ACME, expect: 'allow', why: 'allowed, and audited (POST)' },
  { from: 'product-client', method: 'PUT', path: '/products/7', headers: ACME, expect: 'deny', why: 'denied by DENY rule 2, and audited (PUT)' },
  { from: 'order-client', method: 'DELETE', path: '/products/7', expect: 'deny', why: 'denied by DENY rule 0, and audited (DELETE)' },
  { from: 'order-client', method: 'GET', path: '/products/7', expect: 'allow', why: 'allowed, not audited (GET)' },
  { from: 'order-client', method: 'GET', path: '/catalog/x', expect: 'allow', why: 'allowed, not audited (GET)' },
];

export const auditCase: ConformanceCase<SecurityEnv> = {
  shortName: 'audit-marks-without-deciding',
  description:
    "product-service's AUDIT policy (POST, PUT, DELETE) changes no decision: each request is allowed or denied as it would be without it, and the destination sidecar's access-log line for each request carries Envoy's audit mark (access_log_hint, set by the LOG filter) exactly for the audited ones.",
  area: 'authz',
  features: [Feature.AuthzAudit, Feature.AccessLog],
  manifests: AUTHZ_MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    await env.use(AUTHZ_MANIFESTS);
    const results = await runSpecTable(ctx, { to: PRODUCT, rows: AUDIT_ROWS, what: 'AUDIT on product-service' });
    const audited = results.filter((r) => r.decision.audited.length > 0).length;
    ctx.verify('the oracle marks exactly the POST, PUT and DELETE rows as audited', audited === 3 ? undefined : new Error(`it marks ${audited}`));
    for (const r of results) {
      const expected = r.decision.audited.length > 0;
      const lines = (r.evidence.accessLog ?? []).filter((l) => l.direction === 'inbound' && l.pod.startsWith('product-service'));
      const hints = lines.map((l) => l.auditHint);
      ctx.verify(
        `${r.requestLabel} from ${r.sourceLabel}: the destination's access log says ${expected ? 'audited' : 'not audited'} (access_log_hint ${String(expected)})`,
        lines.length === 1 && hints[0] === expected ? undefined : new Error(`its inbound line(s) carry access_log_hint ${lines.length === 0 ? '(no line)' : hints.map(String).join(', ')}`),
      );
    }
  },
};
