/**
 * Typed Istio resources as meshproof reads them.
 *
 * Spec shapes keep Istio's field names and values exactly as written (durations stay strings
 * such as `30s`; parse them with parseDuration). No defaults are filled in here: what an unset
 * field means is semantics, and the oracle and each data plane read it from the spec on their
 * own (see DESIGN.md, "two independent readings").
 */
import type { SourceLocation } from '../errors.ts';
import type { Percent, VirtualServiceSpec } from './virtual-service-spec.ts';

/** Where a resource came from, and its place in the load (breaks DestinationRule and VirtualService creation-time ties). */
export interface ResourceOrigin {
  readonly location: SourceLocation;
  /** 0-based position over every document of the load: file order, then document order. */
  readonly order: number;
}

export interface ResourceMeta {
  readonly apiVersion: string;
  readonly name: string;
  /** Always set: a resource without `metadata.namespace` is placed in `default`, as kubectl would. */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** `metadata.creationTimestamp` in ms since the epoch, when given. */
  readonly creationTimestamp?: number;
  readonly origin: ResourceOrigin;
}

export interface WorkloadSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
}

export interface PolicyTargetReference {
  readonly group?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

// ---------------------------------------------------------------- PeerAuthentication

export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationSpec {
  readonly selector?: WorkloadSelector;
  readonly mtls?: { readonly mode?: MtlsMode };
  /** Keys are workload (container) ports, as strings, as in YAML. */
  readonly portLevelMtls?: Readonly<Record<string, { readonly mode?: MtlsMode }>>;
}

export interface PeerAuthentication extends ResourceMeta {
  readonly kind: 'PeerAuthentication';
  readonly spec: PeerAuthenticationSpec;
}

// ---------------------------------------------------------------- AuthorizationPolicy

export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface AuthorizationSource {
  readonly principals?: readonly string[];
  readonly notPrincipals?: readonly string[];
  readonly requestPrincipals?: readonly string[];
  readonly notRequestPrincipals?: readonly string[];
  readonly namespaces?: readonly string[];
  readonly notNamespaces?: readonly string[];
  readonly serviceAccounts?: readonly string[];
  readonly notServiceAccounts?: readonly string[];
  readonly trustDomains?: readonly string[];
  readonly notTrustDomains?: readonly string[];
  readonly ipBlocks?: readonly string[];
  readonly notIpBlocks?: readonly string[];
  readonly remoteIpBlocks?: readonly string[];
  readonly notRemoteIpBlocks?: readonly string[];
}

export interface AuthorizationOperation {
  readonly hosts?: readonly string[];
  readonly notHosts?: readonly string[];
  readonly ports?: readonly string[];
  readonly notPorts?: readonly string[];
  readonly methods?: readonly string[];
  readonly notMethods?: readonly string[];
  readonly paths?: readonly string[];
  readonly notPaths?: readonly string[];
}

export interface AuthorizationCondition {
  readonly key: string;
  readonly values?: readonly string[];
  readonly notValues?: readonly string[];
}

export interface AuthorizationRule {
  readonly from?: readonly { readonly source?: AuthorizationSource }[];
  readonly to?: readonly { readonly operation?: AuthorizationOperation }[];
  readonly when?: readonly AuthorizationCondition[];
}

export interface AuthorizationPolicySpec {
  readonly selector?: WorkloadSelector;
  readonly targetRef?: PolicyTargetReference;
  readonly targetRefs?: readonly PolicyTargetReference[];
  /** Absent means ALLOW. */
  readonly action?: AuthorizationAction;
  readonly provider?: { readonly name?: string };
  readonly rules?: readonly AuthorizationRule[];
}

export interface AuthorizationPolicy extends ResourceMeta {
  readonly kind: 'AuthorizationPolicy';
  readonly spec: AuthorizationPolicySpec;
  /** The line of each of `spec.rules` in its file, when loaded from one: a rule's own file:line. */
  readonly ruleLines?: readonly number[];
}

/** The stable id of a rule: `prod-namespace/restrict-payment-access/rules[0]`. */
export function ruleId(policy: { readonly namespace: string; readonly name: string }, index: number): string {
  return `${policy.namespace}/${policy.name}/rules[${index}]`;
}

/** Envoy's RBAC policy name for a rule, as istiod builds it: `ns[foo]-policy[bar]-rule[0]`. */
export function envoyPolicyName(policy: { readonly namespace: string; readonly name: string }, index: number): string {
  return `ns[${policy.namespace}]-policy[${policy.name}]-rule[${index}]`;
}

// ---------------------------------------------------------------- RequestAuthentication

/** Where a JWT is looked for in a header: `Authorization: Bearer <token>` is `{name: authorization, prefix: "Bearer "}`. */
export interface JwtHeader {
  readonly name: string;
  readonly prefix?: string;
}

/** One JWT issuer a workload accepts (Istio's JWTRule, security.istio.io/v1). */
export interface JwtRule {
  readonly issuer?: string;
  readonly audiences?: readonly string[];
  readonly jwksUri?: string;
  /** The JWKS itself, as a JSON string. */
  readonly jwks?: string;
  readonly fromHeaders?: readonly JwtHeader[];
  readonly fromParams?: readonly string[];
  readonly fromCookies?: readonly string[];
  readonly outputPayloadToHeader?: string;
  readonly forwardOriginalToken?: boolean;
  readonly outputClaimToHeaders?: readonly { readonly header: string; readonly claim: string }[];
  readonly spaceDelimitedClaims?: readonly string[];
  /** JWKS fetch timeout (a duration string). */
  readonly timeout?: string;
}

export interface RequestAuthenticationSpec {
  readonly selector?: WorkloadSelector;
  readonly targetRef?: PolicyTargetReference;
  readonly targetRefs?: readonly PolicyTargetReference[];
  readonly jwtRules?: readonly JwtRule[];
}

export interface RequestAuthentication extends ResourceMeta {
  readonly kind: 'RequestAuthentication';
  readonly spec: RequestAuthenticationSpec;
}

// ---------------------------------------------------------------- DestinationRule

export interface ConnectionPoolSettings {
  readonly tcp?: {
    readonly maxConnections?: number;
    readonly connectTimeout?: string;
    readonly idleTimeout?: string;
    readonly maxConnectionDuration?: string;
    readonly tcpKeepalive?: { readonly probes?: number; readonly time?: string; readonly interval?: string };
  };
  readonly http?: {
    readonly http1MaxPendingRequests?: number;
    readonly http2MaxRequests?: number;
    readonly maxRequestsPerConnection?: number;
    readonly maxRetries?: number;
    readonly idleTimeout?: string;
    readonly h2UpgradePolicy?: string;
    readonly useClientProtocol?: boolean;
    readonly maxConcurrentStreams?: number;
  };
}

export interface OutlierDetectionSettings {
  readonly splitExternalLocalOriginErrors?: boolean;
  readonly consecutiveLocalOriginFailures?: number;
  readonly consecutiveGatewayErrors?: number;
  readonly consecutive5xxErrors?: number;
  /** Deprecated Istio field; istiod maps it to gateway errors only. */
  readonly consecutiveErrors?: number;
  readonly interval?: string;
  readonly baseEjectionTime?: string;
  readonly maxEjectionPercent?: number;
  readonly minHealthPercent?: number;
}

export interface ClientTlsSettings {
  readonly mode?: 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
  readonly sni?: string;
  readonly subjectAltNames?: readonly string[];
  readonly credentialName?: string;
  readonly caCertificates?: string;
  readonly caCrl?: string;
  readonly clientCertificate?: string;
  readonly privateKey?: string;
  readonly insecureSkipVerify?: boolean;
}

export interface TrafficPolicy {
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetectionSettings;
  readonly tls?: ClientTlsSettings;
  readonly loadBalancer?: Readonly<Record<string, unknown>>;
  readonly tunnel?: { readonly protocol?: string; readonly targetHost?: string; readonly targetPort?: number };
  readonly proxyProtocol?: { readonly version?: string };
  readonly retryBudget?: { readonly percent?: Percent; readonly minRetryConcurrency?: number };
  readonly portLevelSettings?: readonly (Omit<TrafficPolicy, 'portLevelSettings'> & { readonly port?: { readonly number?: number } })[];
}

export interface DestinationRuleSpec {
  readonly host: string;
  readonly trafficPolicy?: TrafficPolicy;
  readonly subsets?: readonly { readonly name: string; readonly labels?: Readonly<Record<string, string>>; readonly trafficPolicy?: TrafficPolicy }[];
  readonly exportTo?: readonly string[];
  readonly workloadSelector?: WorkloadSelector;
}

export interface DestinationRule extends ResourceMeta {
  readonly kind: 'DestinationRule';
  readonly spec: DestinationRuleSpec;
}

// ---------------------------------------------------------------- VirtualService

export type {
  StringMatch,
  HttpMatchRequest,
  HttpRetry,
  Percent,
  HttpFaultInjection,
  Destination,
  HeaderOperations,
  HttpRouteDestination,
  HttpRoute,
  L4MatchAttributes,
  TlsMatchAttributes,
  RouteDestination,
  TcpRoute,
  TlsRoute,
  VirtualServiceSpec,
} from './virtual-service-spec.ts';

export interface VirtualService extends ResourceMeta {
  readonly kind: 'VirtualService';
  readonly spec: VirtualServiceSpec;
}

// ---------------------------------------------------------------- core

export interface ServiceAccount extends ResourceMeta {
  readonly kind: 'ServiceAccount';
}

export type PolicyResource = PeerAuthentication | AuthorizationPolicy | RequestAuthentication | DestinationRule | VirtualService | ServiceAccount;

/** `namespace/name`. */
export function resourceKey(resource: { readonly namespace: string; readonly name: string }): string {
  return `${resource.namespace}/${resource.name}`;
}
