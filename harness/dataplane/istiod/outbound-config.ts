/**
 * The `outbound` section of the reference sidecar's config: what istiod would program into a
 * sidecar's outbound side, already reduced to what the sidecar enforces (render-outbound.ts
 * fills it from DestinationRules and VirtualServices; the sidecar reads nothing else).
 *
 * - listeners: plaintext on loopback, for the app. An HTTP listener stands for one port number
 *   (Istio's per-port route config `80`) and picks a virtual host by the Host header; a TCP
 *   listener stands for one service port of one service (no Host to route on).
 * - clusters: one per destination service port (`outbound|80||payment.prod.svc.cluster.local`),
 *   per DestinationRule subset, and per pod port (a call addressed to one pod); each with its
 *   endpoints, secure naming, circuit breakers, outlier detection and load balancing.
 * Every duration is in milliseconds and already multiplied by the run's time scale.
 */

/** A stand-in for "no limit": Istio's 2^32-1 on every circuit breaker. */
export const ISTIO_UNLIMITED = 4294967295;

export interface OutboundConfig {
  /** Where the outbound listeners bind (127.0.0.1: only the pod's own app reaches them). */
  readonly bindAddress: string;
  readonly listeners: readonly OutboundListenerConfig[];
  readonly clusters: readonly ClusterConfig[];
  /** Seeds fault-injection rolls, weighted route choice, random and least-request balancing, retry back-off. */
  readonly seed: number;
  /** The factor every policy duration below was multiplied by (for readers of /config_dump). */
  readonly timeScale: number;
  /**
   * A response header carrying the request's response flags, as Envoy's route
   * `response_headers_to_add: {key, value: "%RESPONSE_FLAGS%"}` would; absent: none.
   */
  readonly responseFlagsHeader?: string;
}

export interface OutboundListenerConfig {
  /** `outbound_<port>` (HTTP) or `outbound_<port>_<service>` (TCP): the stat prefix. */
  readonly name: string;
  /** The local port the app connects to. */
  readonly port: number;
  /** The port number it stands for (a service port, or a workload port for calls to one pod). */
  readonly servicePort: number;
  readonly protocol: 'http' | 'tcp';
  /** HTTP: virtual hosts, chosen by the Host header. */
  readonly virtualHosts?: readonly VirtualHostConfig[];
  /** TCP: the cluster every connection goes to. */
  readonly cluster?: string;
}

export interface VirtualHostConfig {
  /** `payment-service.prod.svc.cluster.local:80`. */
  readonly name: string;
  /** Host header values, lower case, with and without `:port`. */
  readonly domains: readonly string[];
  /** In order; the first that matches takes the request. None: 404 NR. */
  readonly routes: readonly RouteConfig[];
}

export interface StringMatchConfig {
  readonly exact?: string;
  readonly prefix?: string;
  /** RE2 syntax, matched against the whole value. */
  readonly regex?: string;
}

export interface RouteMatchConfig {
  /** Path without the query string. */
  readonly uri?: StringMatchConfig;
  readonly ignoreUriCase?: boolean;
  readonly method?: StringMatchConfig;
  readonly authority?: StringMatchConfig;
  /** Lower-case header names. */
  readonly headers?: Readonly<Record<string, StringMatchConfig>>;
}

export interface RetryConfig {
  readonly numRetries: number;
  /** Envoy x-envoy-retry-on / grpc-on tokens: 5xx, gateway-error, reset, connect-failure, … */
  readonly retryOn: readonly string[];
  readonly retriableStatusCodes: readonly number[];
  readonly perTryTimeoutMs?: number;
  /** Jittered exponential back-off: retry n waits a random time in [0, (2^n - 1) × base], at most max. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** The previous_hosts predicate: a retry avoids hosts already tried. */
  readonly previousHosts: boolean;
  readonly hostSelectionMaxAttempts: number;
}

export interface FaultConfig {
  /** Applies to `millionths` out of 1,000,000 requests (Istio: percentage.value × 10000). */
  readonly delay?: { readonly fixedDelayMs: number; readonly millionths: number };
  readonly abort?: { readonly httpStatus?: number; readonly grpcStatus?: number; readonly millionths: number };
}

export interface RouteConfig {
  /** Where it came from: `VirtualService prod/payment-retry http[0] (file:line)`, or `default route`. */
  readonly source: string;
  /** Any of these (empty: every request). */
  readonly match: readonly RouteMatchConfig[];
  /** Weighted destinations; a name that is no cluster answers 503 NC. */
  readonly clusters: readonly { readonly name: string; readonly weight: number }[];
  /** 0: no route timeout (Istio's default). */
  readonly timeoutMs: number;
  /** Absent: no retries (`attempts: 0`). */
  readonly retry?: RetryConfig;
  readonly fault?: FaultConfig;
}

export interface EndpointConfig {
  /** Host name (a pod's DNS name) or IP. */
  readonly address: string;
  readonly port: number;
  /** Mutual TLS to this endpoint (auto mTLS: false when its port is DISABLE). */
  readonly tls: boolean;
  /** Who runs there, for metrics (destination_*) and /clusters. */
  readonly pod?: string;
  readonly workload?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface OutlierDetectionConfig {
  readonly consecutive5xx: number;
  readonly enforcingConsecutive5xx: boolean;
  readonly consecutiveGatewayFailure: number;
  readonly enforcingConsecutiveGatewayFailure: boolean;
  readonly splitExternalLocalOriginErrors: boolean;
  readonly consecutiveLocalOriginFailure: number;
  readonly enforcingConsecutiveLocalOriginFailure: boolean;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
}

export interface CircuitBreakersConfig {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

export interface ClusterConfig {
  /** Istio's name: `outbound|<port>|<subset>|<host>`. */
  readonly name: string;
  /** The service FQDN (or pod name) and port it stands for. */
  readonly service: string;
  readonly port: number;
  readonly subset?: string;
  readonly endpoints: readonly EndpointConfig[];
  readonly connectTimeoutMs: number;
  readonly lbPolicy: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM';
  readonly circuitBreakers: CircuitBreakersConfig;
  /** 0: unlimited; 1 disables keep-alive. */
  readonly maxRequestsPerConnection: number;
  /** An upstream connection idle this long is closed; 0: never. */
  readonly idleTimeoutMs: number;
  /** Absent: the cluster has no outlier detection (no DestinationRule block). */
  readonly outlierDetection?: OutlierDetectionConfig;
  /** healthy_panic_threshold in percent (Istio: minHealthPercent, default 0 = panic off). */
  readonly healthyPanicThreshold: number;
  /**
   * Envoy's update_merge_window: changes of host health (an outlier ejection or its end) within
   * this long are merged and reach the load balancers together, up to this late. Istio leaves
   * Envoy's 1 s; under a time scale it is scaled like every other duration that times a policy.
   * The reference sidecar applies health changes at once (up to this much earlier than Envoy).
   */
  readonly updateMergeWindowMs?: number;
  /** How endpoints with `tls: true` are reached. */
  readonly tls: {
    readonly sni: string;
    /** Secure naming: the server certificate must carry one of these URI SANs. */
    readonly subjectAltNames: readonly string[];
    /** True for Istio's auto mTLS (no `tls` in the DestinationRule): each endpoint's `tls` is chosen by its port's mode. False: the rule's mode applies to every endpoint. */
    readonly auto: boolean;
    readonly alpn: readonly string[];
  };
}

const str = { type: 'string', minLength: 1 };
const strs = { type: 'array', items: str };
const portNumber = { type: 'integer', minimum: 1, maximum: 65535 };
const count = { type: 'integer', minimum: 0, maximum: ISTIO_UNLIMITED };
const ms = { type: 'number', minimum: 0 };
const millionths = { type: 'integer', minimum: 0, maximum: 1_000_000 };
const stringMatch = { type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1, properties: { exact: { type: 'string' }, prefix: { type: 'string' }, regex: { type: 'string' } } };

const route = {
  type: 'object',
  required: ['source', 'match', 'clusters', 'timeoutMs'],
  additionalProperties: false,
  properties: {
    source: str,
    match: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { uri: stringMatch, ignoreUriCase: { type: 'boolean' }, method: stringMatch, authority: stringMatch, headers: { type: 'object', additionalProperties: stringMatch } },
      },
    },
    clusters: { type: 'array', minItems: 1, items: { type: 'object', required: ['name', 'weight'], additionalProperties: false, properties: { name: str, weight: { type: 'integer', minimum: 0 } } } },
    timeoutMs: ms,
    retry: {
      type: 'object',
      required: ['numRetries', 'retryOn', 'retriableStatusCodes', 'backoffBaseMs', 'backoffMaxMs', 'previousHosts', 'hostSelectionMaxAttempts'],
      additionalProperties: false,
      properties: {
        numRetries: { type: 'integer', minimum: 1 },
        retryOn: strs,
        retriableStatusCodes: { type: 'array', items: { type: 'integer', minimum: 100, maximum: 599 } },
        perTryTimeoutMs: { type: 'number', exclusiveMinimum: 0 },
        backoffBaseMs: ms,
        backoffMaxMs: ms,
        previousHosts: { type: 'boolean' },
        hostSelectionMaxAttempts: { type: 'integer', minimum: 0 },
      },
    },
    fault: {
      type: 'object',
      additionalProperties: false,
      properties: {
        delay: { type: 'object', required: ['fixedDelayMs', 'millionths'], additionalProperties: false, properties: { fixedDelayMs: ms, millionths } },
        abort: { type: 'object', required: ['millionths'], additionalProperties: false, properties: { httpStatus: { type: 'integer', minimum: 200, maximum: 599 }, grpcStatus: { type: 'integer', minimum: 0, maximum: 16 }, millionths } },
      },
    },
  },
};

const cluster = {
  type: 'object',
  required: ['name', 'service', 'port', 'endpoints', 'connectTimeoutMs', 'lbPolicy', 'circuitBreakers', 'maxRequestsPerConnection', 'idleTimeoutMs', 'healthyPanicThreshold', 'tls'],
  additionalProperties: false,
  properties: {
    name: str,
    service: str,
    port: portNumber,
    subset: str,
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        required: ['address', 'port', 'tls'],
        additionalProperties: false,
        properties: { address: str, port: portNumber, tls: { type: 'boolean' }, pod: str, workload: str, namespace: str, labels: { type: 'object', additionalProperties: { type: 'string' } } },
      },
    },
    connectTimeoutMs: { type: 'number', exclusiveMinimum: 0 },
    lbPolicy: { enum: ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'] },
    circuitBreakers: {
      type: 'object',
      required: ['maxConnections', 'maxPendingRequests', 'maxRequests', 'maxRetries'],
      additionalProperties: false,
      properties: { maxConnections: count, maxPendingRequests: count, maxRequests: count, maxRetries: count },
    },
    maxRequestsPerConnection: count,
    idleTimeoutMs: ms,
    outlierDetection: {
      type: 'object',
      required: [
        'consecutive5xx',
        'enforcingConsecutive5xx',
        'consecutiveGatewayFailure',
        'enforcingConsecutiveGatewayFailure',
        'splitExternalLocalOriginErrors',
        'consecutiveLocalOriginFailure',
        'enforcingConsecutiveLocalOriginFailure',
        'intervalMs',
        'baseEjectionTimeMs',
        'maxEjectionTimeMs',
        'maxEjectionPercent',
      ],
      additionalProperties: false,
      properties: {
        consecutive5xx: count,
        enforcingConsecutive5xx: { type: 'boolean' },
        consecutiveGatewayFailure: count,
        enforcingConsecutiveGatewayFailure: { type: 'boolean' },
        splitExternalLocalOriginErrors: { type: 'boolean' },
        consecutiveLocalOriginFailure: count,
        enforcingConsecutiveLocalOriginFailure: { type: 'boolean' },
        intervalMs: { type: 'number', exclusiveMinimum: 0 },
        baseEjectionTimeMs: ms,
        maxEjectionTimeMs: ms,
        maxEjectionPercent: { type: 'number', minimum: 0, maximum: 100 },
      },
    },
    healthyPanicThreshold: { type: 'number', minimum: 0, maximum: 100 },
    updateMergeWindowMs: ms,
    tls: { type: 'object', required: ['sni', 'subjectAltNames', 'alpn', 'auto'], additionalProperties: false, properties: { sni: str, subjectAltNames: strs, alpn: strs, auto: { type: 'boolean' } } },
  },
};

/** JSON Schema of the `outbound` section (checked with the rest of the file by config.ts). */
export const OUTBOUND_CONFIG_SCHEMA = {
  type: 'object',
  required: ['bindAddress', 'listeners', 'clusters', 'seed', 'timeScale'],
  additionalProperties: false,
  properties: {
    bindAddress: str,
    seed: { type: 'integer' },
    timeScale: { type: 'number', exclusiveMinimum: 0 },
    responseFlagsHeader: { type: 'string', pattern: '^[a-z0-9-]+$' },
    listeners: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'port', 'servicePort', 'protocol'],
        additionalProperties: false,
        properties: {
          name: str,
          port: portNumber,
          servicePort: portNumber,
          protocol: { enum: ['http', 'tcp'] },
          virtualHosts: {
            type: 'array',
            items: { type: 'object', required: ['name', 'domains', 'routes'], additionalProperties: false, properties: { name: str, domains: strs, routes: { type: 'array', items: route } } },
          },
          cluster: str,
        },
      },
    },
    clusters: { type: 'array', items: cluster },
  },
} as const;

/** Checks the schema cannot: unique ports and names, listeners naming clusters that exist. Returns `[field, message]` or undefined. */
export function checkOutbound(outbound: OutboundConfig): [string, string] | undefined {
  const ports = new Set<number>();
  for (const [i, l] of outbound.listeners.entries()) {
    if (ports.has(l.port)) return [`outbound.listeners.${i}.port`, `outbound listener port ${l.port} is listed twice`];
    ports.add(l.port);
    if (l.protocol === 'tcp' && l.cluster === undefined) return [`outbound.listeners.${i}.cluster`, `TCP listener ${l.name} names no cluster`];
    if (l.protocol === 'http' && l.virtualHosts === undefined) return [`outbound.listeners.${i}.virtualHosts`, `HTTP listener ${l.name} has no virtual hosts`];
  }
  const names = new Set<string>();
  for (const [i, c] of outbound.clusters.entries()) {
    if (names.has(c.name)) return [`outbound.clusters.${i}.name`, `cluster ${c.name} is listed twice`];
    names.add(c.name);
  }
  for (const [i, l] of outbound.listeners.entries()) {
    if (l.cluster !== undefined && !names.has(l.cluster)) return [`outbound.listeners.${i}.cluster`, `TCP listener ${l.name} names cluster ${l.cluster}, which is not in outbound.clusters`];
  }
  return undefined;
}
