/**
 * The reference sidecar's config file (`sidecar.json` in the sidecar's folder): everything the
 * sidecar enforces, rendered from the resolved model by render.ts. The sidecar reads this file
 * and its certificate files, nothing else, and reloads the file when it changes.
 *
 * Version `meshproof.dev/reference-sidecar/v1`. The `inbound` section: listeners per workload
 * port, mTLS modes, RBAC. The `outbound` section (outbound-config.ts): listeners for the app,
 * clusters with secure naming, load balancing, circuit breakers and outlier detection, routes
 * with timeouts, retries and faults. A config without `outbound` has no outbound side.
 */
import { Ajv } from 'ajv';
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { checkOutbound, OUTBOUND_CONFIG_SCHEMA, type OutboundConfig } from '../istiod/outbound-config.ts';
import type { PolicySource, ProxyInboundPort, ProxyMesh, ProxyNode } from '../istiod/proxy-config.ts';
import type { JwtAuthnConfig } from '../istiod/jwt-authn.ts';
import type { RbacFilter } from '../istiod/rbac.ts';

export const SIDECAR_CONFIG_API = 'meshproof.dev/reference-sidecar/v1';


export interface SidecarConfig {
  readonly apiVersion: typeof SIDECAR_CONFIG_API;
  /** Grows with every render for this sidecar; /config_dump reports the one in force. */
  readonly generation: number;
  readonly node: SidecarNode;
  readonly mesh: SidecarMesh;
  /** Folder holding cert-chain.pem, key.pem and root-cert.pem (plain files or the `..data` layout). */
  readonly certificates: { readonly dir: string };
  readonly admin: SidecarAdmin;
  readonly accessLog: { readonly path?: string; readonly stdout: boolean };
  readonly inbound: InboundConfig;
  readonly outbound?: OutboundConfig;
  /** What render wants a reader of /config_dump to know (CUSTOM failing closed, rules dropped on TCP, …). */
  readonly notes: readonly string[];
  /** The AuthorizationPolicies the RBAC filters came from (for reading a dump; the sidecar does not use it). */
  readonly sources?: { readonly authorizationPolicies: readonly PolicySource[] };
}


/** The proxy's node, as the istiod translation names it. */
export type SidecarNode = ProxyNode;
/**
 * The mesh settings a sidecar enforces. istiod only ever sets a TLS floor of 1.2 or 1.3, but the
 * sidecar, like Envoy (`tls_minimum_protocol_version`), can be told a lower one: a proxy that
 * accepts TLS 1.0 is a bug the security suites must be able to catch.
 */
export type SidecarMesh = Omit<ProxyMesh, 'minTlsVersion'> & { readonly minTlsVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' };

export interface SidecarAdmin {
  /** Unix socket path; the harness reaches admin only through it. */
  readonly socket: string;
  /** Also listen on this TCP port (Envoy's 15000), on `address` (default 127.0.0.1). */
  readonly port?: number;
  readonly address?: string;
}

export interface InboundConfig {
  /** Where inbound listeners bind (0.0.0.0 in a pod). */
  readonly bindAddress: string;
  /** Where the app listens (127.0.0.1 in a pod). */
  readonly appAddress: string;
  readonly ports: readonly InboundPort[];
  /** RBAC filters of the HTTP and TCP filter chains (authz-translator.ts). */
  readonly rbac: { readonly http: readonly RbacFilter[]; readonly tcp: readonly RbacFilter[] };
  /** The HTTP chain's jwt_authn (RequestAuthentication), run after the CUSTOM RBAC filters and before the others. */
  readonly jwtAuthn?: JwtAuthnConfig;
  /** Envoy listener_filters_timeout: a connection that shows no first bytes in time is closed. */
  readonly listenerFiltersTimeoutMs: number;
  /** After a config change, connections of the old config close once idle, or after this long. */
  readonly drainTimeoutMs: number;
  /** Envoy max_request_headers_kb (default 60): larger request headers get 431. */
  readonly maxRequestHeadersKb: number;
  /**
   * Envoy's HCM forward_client_cert_details. Absent = APPEND_FORWARD, istiod's setting: on mutual
   * TLS this hop's element is appended, otherwise a client's x-forwarded-client-cert is removed.
   * ALWAYS_FORWARD_ONLY passes the client's header on untouched, mutual TLS or not.
   */
  readonly forwardClientCertDetails?: 'APPEND_FORWARD' | 'ALWAYS_FORWARD_ONLY';
}

/** An inbound port as the istiod translation gives it, plus where the reference sidecar sends allowed traffic. */
export interface InboundPort extends ProxyInboundPort {
  /** Where allowed traffic goes: appAddress:appPort. */
  readonly appPort: number;
  readonly name?: string;
}

const str = { type: 'string', minLength: 1 };
const strs = { type: 'array', items: str };
const portNumber = { type: 'integer', minimum: 1, maximum: 65535 };
const ms = { type: 'integer', minimum: 1 };
const rules = {
  type: 'object',
  required: ['action', 'policies'],
  additionalProperties: false,
  properties: {
    action: { enum: ['ALLOW', 'DENY', 'LOG'] },
    policies: { type: 'object', additionalProperties: { type: 'object', required: ['permissions', 'principals'], additionalProperties: false, properties: { permissions: { type: 'array' }, principals: { type: 'array' } } } },
  },
};
const filters = {
  type: 'array',
  items: {
    type: 'object',
    required: ['source'],
    additionalProperties: false,
    properties: { source: { enum: ['custom', 'audit', 'deny-root', 'deny', 'allow'] }, rules, shadowRules: rules, shadowRulesStatPrefix: { type: 'string' } },
  },
};

/** JSON Schema of the file (matchers inside RBAC policies are checked when the sidecar compiles them). */
export const SIDECAR_CONFIG_SCHEMA = {
  type: 'object',
  required: ['apiVersion', 'generation', 'node', 'mesh', 'certificates', 'admin', 'accessLog', 'inbound', 'notes'],
  additionalProperties: false,
  properties: {
    apiVersion: { const: SIDECAR_CONFIG_API },
    generation: { type: 'integer', minimum: 0 },
    node: {
      type: 'object',
      required: ['pod', 'namespace', 'serviceAccount', 'spiffeId', 'labels', 'services'],
      additionalProperties: false,
      properties: { pod: str, workload: str, namespace: str, serviceAccount: str, spiffeId: { type: 'string', pattern: '^spiffe://' }, labels: { type: 'object', additionalProperties: { type: 'string' } }, services: strs },
    },
    mesh: {
      type: 'object',
      required: ['trustDomain', 'trustDomainAliases', 'pathNormalization', 'minTlsVersion', 'cipherSuites'],
      additionalProperties: false,
      properties: {
        trustDomain: str,
        trustDomainAliases: strs,
        pathNormalization: { enum: ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] },
        minTlsVersion: { enum: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] },
        cipherSuites: { ...strs, minItems: 1 },
      },
    },
    certificates: { type: 'object', required: ['dir'], additionalProperties: false, properties: { dir: str } },
    admin: { type: 'object', required: ['socket'], additionalProperties: false, properties: { socket: str, port: portNumber, address: str } },
    accessLog: { type: 'object', required: ['stdout'], additionalProperties: false, properties: { path: str, stdout: { type: 'boolean' } } },
    inbound: {
      type: 'object',
      required: ['bindAddress', 'appAddress', 'ports', 'rbac', 'listenerFiltersTimeoutMs', 'drainTimeoutMs', 'maxRequestHeadersKb'],
      additionalProperties: false,
      properties: {
        bindAddress: str,
        appAddress: str,
        ports: {
          type: 'array',
          items: {
            type: 'object',
            required: ['port', 'protocol', 'mtlsMode', 'appPort'],
            additionalProperties: false,
            properties: { port: portNumber, protocol: { enum: ['http', 'tcp'] }, mtlsMode: { enum: ['STRICT', 'PERMISSIVE', 'DISABLE'] }, appPort: portNumber, name: str, mtlsAlpn: strs },
          },
        },
        rbac: { type: 'object', required: ['http', 'tcp'], additionalProperties: false, properties: { http: filters, tcp: filters } },
        jwtAuthn: { type: 'object', required: ['providers', 'rules', 'bypassCorsPreflight'], additionalProperties: false, properties: { providers: { type: 'object', minProperties: 1 }, rules: { type: 'array', minItems: 1, maxItems: 1 }, bypassCorsPreflight: { type: 'boolean' } } },
        listenerFiltersTimeoutMs: ms,
        drainTimeoutMs: ms,
        maxRequestHeadersKb: { type: 'integer', minimum: 1, maximum: 8192 },
        forwardClientCertDetails: { enum: ['APPEND_FORWARD', 'ALWAYS_FORWARD_ONLY'] },
      },
    },
    outbound: OUTBOUND_CONFIG_SCHEMA,
    notes: { type: 'array', items: { type: 'string' } },
    sources: {
      type: 'object',
      required: ['authorizationPolicies'],
      additionalProperties: false,
      properties: {
        authorizationPolicies: {
          type: 'array',
          items: { type: 'object', required: ['namespace', 'name', 'action', 'at'], additionalProperties: false, properties: { namespace: str, name: str, action: str, at: { type: 'string' }, dryRun: { type: 'boolean' } } },
        },
      },
    },
  },
} as const;

let validate: ReturnType<Ajv['compile']> | undefined;

/** Parses and checks a config; throws MESHPROOF_ERR_CONFIG_INVALID naming the file and field. */
export function parseSidecarConfig(text: string, file: string): SidecarConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new MeshproofError(ErrorCode.ConfigInvalid, `sidecar config is not JSON: ${(error as Error).message}`, { location: { file } });
  }
  validate ??= new Ajv({ allErrors: true, strict: true }).compile(SIDECAR_CONFIG_SCHEMA);
  if (!validate(raw)) {
    const first = validate.errors?.[0];
    const field = first === undefined ? undefined : first.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    const detail = (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` '${String(e.params['additionalProperty'])}'` : ''}`).join('; ');
    throw new MeshproofError(ErrorCode.ConfigInvalid, `sidecar config does not match ${SIDECAR_CONFIG_API}: ${detail}`, { location: { file, ...(field === undefined ? {} : { field }) } });
  }
  const config = raw as SidecarConfig;
  const seen = new Set<number>();
  for (const [i, p] of config.inbound.ports.entries()) {
    if (seen.has(p.port)) throw new MeshproofError(ErrorCode.ConfigInvalid, `inbound port ${p.port} is listed twice`, { location: { file, field: `inbound.ports.${i}.port` } });
    seen.add(p.port);
  }
  const problem = config.outbound === undefined ? undefined : checkOutbound(config.outbound);
  if (problem !== undefined) throw new MeshproofError(ErrorCode.ConfigInvalid, problem[1], { location: { file, field: problem[0] } });
  return config;
}
