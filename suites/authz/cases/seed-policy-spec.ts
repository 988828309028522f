/**
 * Seed note 000's AuthorizationPolicy, line by line: payment-service accepts only POST to /pay/*
 * from cluster.local/ns/prod-namespace/sa/order-service-sa. Everything else is denied (an ALLOW
 * policy exists, so nothing else is allowed), and prod-namespace is STRICT, so plaintext never
 * reaches authorization at all.
 */
import { Feature } from '../../../harness/index.ts';
import { specTableCase, type SpecRow } from '../../shared/spec-table.ts';
import { AUTHZ_MANIFESTS, PAYMENT } from './common.ts';

const ROWS: readonly SpecRow[] = [
  { from: 'order-client', method: 'POST', path: '/pay/1', expect: 'allow', why: 'principal, method and path all match the rule' },
  { from: 'order-client', method: 'POST', path: '/pay/2?amount=3', expect: 'allow', why: 'the query is not part of the path matched, and is forwarded' },
  { from: 'order-client', method: 'POST', path: '/pay/', expect: 'allow', why: '/pay/* is the prefix /pay/' },
  { from: 'order-client', method: 'POST', path: '/pay/1/2', expect: 'allow', why: 'a prefix match takes any depth' },
  { from: 'order-client', method: 'POST', path: '/pay', expect: 'deny', why: '/pay lacks the trailing slash of the prefix' },
  { from: 'order-client', method: 'POST', path: '/PAY/1', expect: 'deny', why: 'paths are case-sensitive' },
  { from: 'order-client', method: 'POST', path: '/refund/1', expect: 'deny', why: 'another path' },
  { from: 'order-client', method: 'GET', path: '/pay/1', expect: 'deny', why: 'only POST' },
  { from: 'order-client', method: 'PUT', path: '/pay/1', expect: 'deny', why: 'only POST' },
  { from: 'product-client', method: 'POST', path: '/pay/1', expect: 'deny', why: 'another service account of the same namespace' },
  { from: 'identity:prod-namespace/order-service-sa', method: 'POST', path: '/pay/1', expect: 'allow', why: 'the identity is what counts, not the pod or address it calls from' },
  { from: 'identity:legacy/order-service-sa', method: 'POST', path: '/pay/1', expect: 'deny', why: 'the same service-account name in another namespace is another principal' },
  { from: 'identity:prod-namespace/order-service-sa-v2', method: 'POST', path: '/pay/1', expect: 'deny', why: 'principals match exactly; a longer name is another principal' },
  { from: 'kit:impersonation', method: 'POST', path: '/pay/1', expect: 'deny', why: 'a valid mesh certificate of another service account passes mTLS, and the rule refuses it' },
  { from: 'kit:rogue-ca', method: 'POST', path: '/pay/1', expect: 'reject', why: "order-service-sa's name on a certificate from another CA never completes the handshake" },
  { from: 'plaintext', method: 'POST', path: '/pay/1', expect: 'reject', why: 'prod-namespace is STRICT: no plaintext filter chain' },
];

export const seedPolicySpecCase = specTableCase({
  shortName: 'seed-policy-spec',
  description: 'Seed note 000: payment-service takes only POST /pay/* from order-service-sa; other methods, paths, service accounts, namespaces and impostors are denied with 403; plaintext and forged certificates never reach it.',
  features: [Feature.AuthzAllow, Feature.MtlsStrict],
  manifests: AUTHZ_MANIFESTS,
  to: PAYMENT,
  rows: ROWS,
  what: "the seed's policy",
});
