/**
 * Features a case needs and a data plane claims. A case whose features a data plane does not
 * claim is reported `not-supported`, never `failed` (as in the Gateway API conformance suite).
 */
export const Feature = {
  MtlsStrict: 'mtls.strict',
  MtlsPermissive: 'mtls.permissive',
  MtlsDisable: 'mtls.disable',
  MtlsPortLevel: 'mtls.port-level',
  /** Mesh-wide, namespace and workload scope, and their precedence. */
  MtlsScope: 'mtls.scope',
  /** A mode change applied to running pods. */
  MtlsMigration: 'mtls.migration',
  AuthzAllow: 'authz.allow',
  AuthzDeny: 'authz.deny',
  AuthzAudit: 'authz.audit',
  AuthzCustom: 'authz.custom',
  AuthzConditions: 'authz.conditions',
  AuthzPathNormalization: 'authz.path-normalization',
  AuthzTcp: 'authz.tcp',
  /** RequestAuthentication: JWTs verified before authorization, request principals and claims. */
  AuthnJwt: 'authn.jwt',
  IdentitySecureNaming: 'identity.secure-naming',
  IdentityRotation: 'identity.rotation',
  IdentityPluginCa: 'identity.plugin-ca',
  OutlierDetection: 'resilience.outlier-detection',
  PanicThreshold: 'resilience.panic-threshold',
  ConnectionPool: 'resilience.connection-pool',
  Retries: 'resilience.retries',
  Timeouts: 'resilience.timeouts',
  FaultInjection: 'resilience.fault-injection',
  Metrics: 'observability.metrics',
  /** Istio's standard metrics (istio_requests_total, …): Istio's own proxy build emits them, upstream Envoy does not. */
  IstioMetrics: 'observability.istio-metrics',
  AccessLog: 'observability.access-log',
} as const;

export type Feature = (typeof Feature)[keyof typeof Feature];

export const ALL_FEATURES: readonly Feature[] = Object.values(Feature);

/** The three promises a report gives a verdict on, and the areas that make each of them. */
export const MeshPromise = {
  Mtls: 'STRICT mTLS rejects every non-mesh call',
  Authz: 'AuthorizationPolicy permits only the allowed principals, methods and paths',
  CircuitBreaking: 'Circuit breakers eject failing endpoints, and the metrics agree',
} as const;

export type Area = 'mtls' | 'authz' | 'resilience';

export const AREA_PROMISE: Readonly<Record<Area, string>> = {
  mtls: MeshPromise.Mtls,
  authz: MeshPromise.Authz,
  resilience: MeshPromise.CircuitBreaking,
};

export function missingFeatures(needed: readonly Feature[], supported: ReadonlySet<Feature>): Feature[] {
  return needed.filter((feature) => !supported.has(feature));
}
