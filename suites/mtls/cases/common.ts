/** Names the mTLS cases share. Manifest paths are relative to suites/mtls. */

/** The seed's STRICT for prod-namespace, plus product-service's PERMISSIVE workload and DISABLE port 8083: all three modes at once. */
export const BASE_MANIFESTS: readonly string[] = ['../../fixtures/seed/peer-authentication.yaml', 'cases/product-service-modes.yaml'];

/** Seed note 002's mesh-wide STRICT (istio-system). */
export const MESH_WIDE_STRICT = '../../fixtures/seed/mesh-wide/peer-authentication.yaml';
/** Seed note 000's namespace-wide STRICT for prod-namespace. */
export const PROD_STRICT = '../../fixtures/seed/peer-authentication.yaml';

/** The identity the seed's AuthorizationPolicy names; the attacker kit aims at it. */
export const ORDER_SA = { namespace: 'prod-namespace', serviceAccount: 'order-service-sa' } as const;

export const PAYMENT = 'prod-namespace/payment-service';
export const ORDER_CLIENT = 'prod-namespace/order-client';
export const LEGACY_CLIENT = 'legacy/legacy-client';
