/**
 * inventory-service, in the PERMISSIVE `legacy` namespace, where plaintext reaches
 * authorization with no peer identity (istio-semantics.md §2 "Dependency on mTLS"): a positive
 * source field never matches plaintext, a negative one always does. These are the documented
 * surprises: ALLOW notNamespaces lets plaintext in; DENY notPrincipals ["*"] keeps it out.
 */
import { Feature } from '../../../harness/index.ts';
import { specTableCase, type SpecRow } from '../../shared/spec-table.ts';
import { AUTHZ_MANIFESTS, INVENTORY } from './common.ts';

const ROWS: readonly SpecRow[] = [
  { from: 'plaintext', method: 'GET', path: '/public/catalog', expect: 'allow', why: 'notNamespaces [legacy] matches a request with no identity at all' },
  { from: 'order-client', method: 'GET', path: '/public/catalog', expect: 'allow', why: 'prod-namespace is not legacy' },
  { from: 'identity:legacy/reporting', method: 'GET', path: '/public/catalog', expect: 'deny', why: 'legacy is the namespace excluded' },
  { from: 'plaintext', method: 'GET', path: '/public/private-report', expect: 'deny', why: 'DENY notPrincipals ["*"] matches every request without a peer identity, ALLOW notwithstanding' },
  { from: 'order-client', method: 'GET', path: '/public/private-report', expect: 'allow', why: 'with a peer identity the DENY rule does not match' },
  { from: 'plaintext', method: 'GET', path: '/stock/1', expect: 'deny', why: 'principals (a positive field) never match plaintext' },
  { from: 'order-client', method: 'GET', path: '/stock/1', expect: 'allow', why: 'principal prefix cluster.local/ns/prod-namespace/sa/*, and destination.port 9080' },
  { from: 'product-client', method: 'PUT', path: '/stock/1', expect: 'allow', why: 'any service account of prod-namespace, any method but DELETE' },
  { from: 'order-client', method: 'DELETE', path: '/stock/1', expect: 'deny', why: 'notMethods [DELETE]' },
  { from: 'identity:prod-namespace-x/order-service-sa', method: 'GET', path: '/stock/1', expect: 'deny', why: 'the prefix ends at prod-namespace/sa/: prod-namespace-x is another namespace' },
];

export const notFieldsCase = specTableCase({
  shortName: 'not-fields-and-plaintext',
  description: 'inventory-service (PERMISSIVE): plaintext is let in by ALLOW notNamespaces [legacy] and kept out by DENY notPrincipals ["*"]; positive source fields (principals) never match plaintext; notMethods excludes DELETE.',
  features: [Feature.AuthzAllow, Feature.AuthzDeny, Feature.AuthzConditions, Feature.MtlsPermissive],
  manifests: AUTHZ_MANIFESTS,
  to: INVENTORY,
  rows: ROWS,
  what: 'notX fields with plaintext',
});
