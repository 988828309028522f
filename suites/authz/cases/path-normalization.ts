/**
 * The path-normalization bypass corpus against a DENY with positive paths, the pattern
 * CVE-2021-31920 exploited (istio-semantics.md §2 "Path normalization"). product-service denies
 * /admin and /admin/* and allows GET on port 8083 to any peer; the mesh runs Istio's default
 * normalization, BASE. Each row says what BASE makes of the path, and so whether the DENY sees
 * /admin; where the app receives the request, it must receive the normalized path.
 *
 * Rows that are let through are not data-plane bugs: they are what Istio does under BASE, and the
 * case reports them as findings with Istio's advice (MERGE_SLASHES or DECODE_AND_MERGE_SLASHES,
 * and ALLOW with positive matches rather than DENY with them).
 */
import { Feature } from '../../../harness/index.ts';
import { specTableCase, type SpecRow } from '../../shared/spec-table.ts';
import { AUTHZ_MANIFESTS, PRODUCT } from './common.ts';

const row = (path: string, expect: SpecRow['expect'], why: string): SpecRow => ({ from: 'order-client', port: 8083, method: 'GET', path, expect, why });

const ROWS: readonly SpecRow[] = [
  row('/admin', 'deny', 'the DENY path itself'),
  row('/admin/users', 'deny', '/admin/* is the prefix /admin/'),
  row('/app/../admin', 'deny', 'BASE resolves /../ (RFC 3986)'),
  row('/app/%2E./admin', 'deny', 'BASE decodes %2E once, then resolves /../'),
  row('/%2e%2e/admin', 'deny', 'decoded to /../admin, resolved to /admin'),
  row('/%61dmin', 'deny', 'BASE decodes unreserved characters such as %61 (a)'),
  row('/admin#fragment', 'deny', 'the fragment is stripped before matching (CVE-2021-39156)'),
  row('/admin?x=1', 'deny', 'the query is not part of the path matched'),
  row('/app/./../admin', 'deny', 'dot segments resolve in order'),
  row('/admin/%2e%2e/status', 'allow', 'decoded and resolved to /status: no longer under /admin, and the app receives /status'),
  row('//admin', 'allow', 'BASE does not merge slashes: //admin is not /admin (the CVE-2021-31920 shape)'),
  row('/admin%2F', 'allow', 'BASE leaves %2F encoded: /admin%2F is neither /admin nor under /admin/'),
  row('/ADMIN', 'allow', 'there is no case normalization, and paths match case-sensitively'),
  row('/admin;x=1', 'allow', 'path parameters are not stripped'),
  row('/%252e%252e/admin', 'allow', 'no double decoding: %25 is not decoded'),
  row('/admin%00', 'bad-request', '%00 is always rejected with 400'),
];

export const pathNormalizationCase = specTableCase({
  shortName: 'path-normalization-corpus',
  description: "product-service's DENY /admin, /admin/* against the normalization corpus under BASE: dot segments, single-decoded unreserved characters and fragments are normalized before the DENY sees them (denied); merged slashes, %2F, case and path parameters are not (allowed, as Istio does); %00 is a 400.",
  features: [Feature.AuthzPathNormalization, Feature.AuthzDeny],
  manifests: AUTHZ_MANIFESTS,
  to: PRODUCT,
  rows: ROWS,
  what: 'path normalization against DENY /admin',
  then(ctx, results) {
    const through = results.filter((r) => r.observed === 'allow' && /admin/i.test(r.probe.path ?? ''));
    if (through.length === 0) return;
    ctx.finding(
      `Under BASE normalization (Istio's default) these reach product-service although a DENY names /admin: ${through.map((r) => `${r.probe.path} (the app receives ${r.evidence.serverSaw?.[0]?.path ?? '?'})`).join(', ')}. This is Istio's documented behaviour, not a data-plane fault; meshConfig.pathNormalization MERGE_SLASHES or DECODE_AND_MERGE_SLASHES closes the slash and %2F variants, and an ALLOW with positive paths fails closed where a DENY with positive paths fails open.`,
    );
  },
});
