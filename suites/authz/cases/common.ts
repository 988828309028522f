/** Names the authorization cases share. Manifest paths are relative to suites/authz. */

/**
 * The policies every authz case runs under: seed note 000 as it is (prod-namespace STRICT, the
 * order-service-sa ServiceAccount, payment-service's allow-list), plus the fixture policies for
 * product-service (DENY, ALLOW with notX, a `when` condition and path templates, AUDIT) and
 * inventory-service in the PERMISSIVE `legacy` namespace (notX fields against plaintext).
 */
export const AUTHZ_MANIFESTS: readonly string[] = [
  '../../fixtures/seed/peer-authentication.yaml',
  '../../fixtures/seed/service-account.yaml',
  '../../fixtures/seed/authorization-policy.yaml',
  '../../fixtures/security/product-service-authorization.yaml',
  '../../fixtures/security/inventory-service-authorization.yaml',
];

export const PAYMENT = 'prod-namespace/payment-service';
export const PRODUCT = 'prod-namespace/product-service';
export const INVENTORY = 'legacy/inventory-service';

/** The seed's one rule, as reports name it. */
export const SEED_RULE = 'prod-namespace/restrict-payment-access/rules[0]';
