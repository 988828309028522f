/**
 * Render: the resolved model → one reference sidecar's config (config.ts), as istiod would
 * program that sidecar's inbound side:
 * - each workload port gets a listener with its effective PeerAuthentication mode (the model's
 *   resolution: mesh → namespace → workload → portLevelMtls);
 * - the AuthorizationPolicies selecting the workload become RBAC filters for the HTTP and the
 *   TCP chain (authz-translator.ts);
 * - mesh settings: trust domain and aliases (SAN check, principal aliasing), path normalization,
 *   minimum TLS version, Istio's cipher suites;
 * - the outbound side (render-outbound.ts): listeners on loopback for the app, a cluster per
 *   service port and pod port, DestinationRule and VirtualService resilience settings.
 * Paths in the config are relative to the config file's folder, so the same file works in a pod
 * (/run/meshproof) and in a local folder.
 */
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { serviceFqdn } from '../../model/resolve-destination.ts';
import { policyRef } from '../../model/resolve-peer-authentication.ts';
import type { ResolvedMesh } from '../../model/resolve.ts';
import { SIDECAR_CERT_DIR, type ProxyTarget, type RenderOptions } from '../types.ts';
import { translateAuthorization } from './authz-translator.ts';
import { ISTIO_MTLS_ALPNS, SIDECAR_CONFIG_API, type InboundPort, type PolicySource, type SidecarConfig } from './config.ts';
import { renderOutbound, type OutboundRenderOptions } from './render-outbound.ts';

/** Istio's SupportedCiphers (TLS ≤ 1.2), in OpenSSL's names. */
export const ISTIO_CIPHER_SUITES = ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-GCM-SHA256'] as const;

export const SIDECAR_CONFIG_FILE = 'sidecar.json';
export const ADMIN_SOCKET = 'admin.sock';
export const ACCESS_LOG_FILE = 'access.log';
/** Envoy's admin port, inside the pod only. */
export const ADMIN_PORT = 15000;
/** Istio's outbound capture port: the first outbound listener. */
export const OUTBOUND_BASE_PORT = 15001;
/** The response header carrying the client sidecar's response flags (default). */
export const RESPONSE_FLAGS_HEADER = 'x-meshproof-response-flags';

export interface ReferenceRenderOptions extends RenderOptions {
  /** The port the app listens on, on 127.0.0.1; must differ from every workload port. */
  readonly appPort: number;
  /** Inbound bind address. Default 0.0.0.0 (every address of the pod). */
  readonly bindAddress?: string;
  /** Admin TCP port on 127.0.0.1; null for the Unix socket only. Default 15000. */
  readonly adminPort?: number | null;
  /** Also print the access log on stdout. Default true. */
  readonly accessLogStdout?: boolean;
  /** How long connections of an older config may stay open. Default 5 s (Istio drains for 45 s). */
  readonly drainTimeoutMs?: number;
  /**
   * Match Istio's ALPN rule on PERMISSIVE ports (mTLS chain only for a ClientHello offering
   * `istio`, `istio-peer-exchange`, `istio-http/*`, `istio-h2`). Default false: meshproof's HTTP
   * sender (undici) cannot offer these ALPN values, so in-mesh and attacker calls made with it
   * would never reach the mTLS chain. With false, any TLS on a PERMISSIVE port is treated as mTLS.
   */
  readonly istioAlpnOnPermissive?: boolean;
  /** Seeds the outbound side's fault rolls, weighted routes and balancing. Default 1. */
  readonly seed?: number;
  /** First outbound listener port. Default 15001. */
  readonly outboundBasePort?: number;
  /** Where outbound listeners bind. Default 127.0.0.1 (only the pod's own app reaches them). */
  readonly outboundBindAddress?: string;
  /** Where a replica serves a workload port (default: its pod's DNS name, that port). */
  readonly endpointAddress?: OutboundRenderOptions['endpointAddress'];
  /** Pod name → the address its endpoints use instead (DNS spoofing). */
  readonly endpointOverrides?: ReadonlyMap<string, string>;
  /** Header carrying the response flags on outbound responses; null for none. Default RESPONSE_FLAGS_HEADER. */
  readonly responseFlagsHeader?: string | null;
}

export function renderSidecarConfig(mesh: ResolvedMesh, target: ProxyTarget, options: ReferenceRenderOptions): SidecarConfig {
  const settings = mesh.mesh;
  if (options.timeScale !== undefined && !(Number.isFinite(options.timeScale) && options.timeScale > 0)) {
    throw new MeshproofError(ErrorCode.BadArgument, `time scale must be a positive number, found ${String(options.timeScale)}`, { hint: 'use e.g. --time-scale 0.02 to run 50 times faster' });
  }
  const trustDomains = [settings.trustDomain, ...settings.trustDomainAliases.filter((a) => a !== settings.trustDomain)];
  const adminPort = options.adminPort === undefined ? ADMIN_PORT : options.adminPort;
  const notes: string[] = [];
  const sources: PolicySource[] = [];
  let ports: InboundPort[] = [];
  let http: SidecarConfig['inbound']['rbac']['http'] = [];
  let tcp: SidecarConfig['inbound']['rbac']['tcp'] = [];
  if (target.kind === 'workload') {
    const w = target.workload;
    for (const p of w.ports) {
      if (p.port === options.appPort || p.port === adminPort) {
        throw new MeshproofError(ErrorCode.BadArgument, `workload ${w.key} port ${p.port} collides with the ${p.port === options.appPort ? 'app port' : 'sidecar admin port'} of the reference sidecar`, {
          hint: `use another port in the topology, or render with another ${p.port === options.appPort ? 'appPort' : 'adminPort'}`,
        });
      }
    }
    ports = w.ports.map((p) => ({
      port: p.port,
      protocol: p.protocol,
      mtlsMode: p.mtlsMode,
      appPort: options.appPort,
      ...(p.mtlsMode === 'PERMISSIVE' && options.istioAlpnOnPermissive === true ? { mtlsAlpn: [...ISTIO_MTLS_ALPNS] } : {}),
    }));
    if (options.istioAlpnOnPermissive !== true && w.ports.some((p) => p.mtlsMode === 'PERMISSIVE')) {
      notes.push('PERMISSIVE ports take any TLS ClientHello into the mTLS chain; Istio takes only ClientHellos offering its istio* ALPN values (render option istioAlpnOnPermissive)');
    }
    for (const p of w.ports) {
      const from = p.mtlsSteps.map((s) => `${s.scope} ${s.policy.namespace}/${s.policy.name} (${s.mode}) at ${s.policy.at}`);
      notes.push(`port ${p.port}/${p.protocol}: ${p.mtlsMode}${from.length === 0 ? ' (no PeerAuthentication: PERMISSIVE default)' : ` from ${from.join(' → ')}`}`);
    }
    for (const p of w.authorizationPolicies) {
      const ref = policyRef(p);
      sources.push({ namespace: p.namespace, name: p.name, action: p.spec.action ?? 'ALLOW', at: ref.at, ...(p.annotations['istio.io/dry-run'] === undefined ? {} : { dryRun: p.annotations['istio.io/dry-run'].toLowerCase() === 'true' }) });
    }
    const translate = (protocol: 'http' | 'tcp') => translateAuthorization(w.authorizationPolicies, { protocol, trustDomains, rootNamespace: settings.rootNamespace });
    const httpOut = translate('http');
    const tcpOut = translate('tcp');
    http = httpOut.filters;
    tcp = tcpOut.filters;
    const protocols = new Set(w.ports.map((p) => p.protocol));
    const seen = new Set<string>();
    for (const n of [...(protocols.has('http') ? httpOut.notes : []), ...(protocols.has('tcp') ? tcpOut.notes : [])]) {
      const line = `AuthorizationPolicy ${n.policy}: ${n.message}`;
      if (!seen.has(line)) notes.push(line);
      seen.add(line);
    }
  }
  const node = nodeOf(target);
  const taken = new Set<number>([options.appPort, ...(adminPort === null ? [] : [adminPort]), ...ports.map((p) => p.port)]);
  const flagsHeader = options.responseFlagsHeader === undefined ? RESPONSE_FLAGS_HEADER : options.responseFlagsHeader;
  const outbound = renderOutbound(
    mesh,
    node.namespace,
    {
      timeScale: options.timeScale ?? 1,
      seed: options.seed ?? 1,
      basePort: options.outboundBasePort ?? OUTBOUND_BASE_PORT,
      taken,
      ...(options.outboundBindAddress === undefined ? {} : { bindAddress: options.outboundBindAddress }),
      ...(options.endpointAddress === undefined ? {} : { endpointAddress: options.endpointAddress }),
      ...(options.endpointOverrides === undefined ? {} : { endpointOverrides: options.endpointOverrides }),
      ...(flagsHeader === null ? {} : { responseFlagsHeader: flagsHeader }),
    },
    notes,
  );
  return {
    apiVersion: SIDECAR_CONFIG_API,
    generation: options.generation,
    node,
    mesh: {
      trustDomain: settings.trustDomain,
      trustDomainAliases: trustDomains.slice(1),
      pathNormalization: settings.pathNormalization,
      minTlsVersion: settings.minTlsVersion,
      cipherSuites: [...ISTIO_CIPHER_SUITES],
    },
    certificates: { dir: SIDECAR_CERT_DIR },
    admin: { socket: ADMIN_SOCKET, ...(adminPort === null ? {} : { port: adminPort, address: '127.0.0.1' }) },
    accessLog: { path: ACCESS_LOG_FILE, stdout: options.accessLogStdout ?? true },
    inbound: {
      bindAddress: options.bindAddress ?? '0.0.0.0',
      appAddress: '127.0.0.1',
      ports,
      rbac: { http, tcp },
      listenerFiltersTimeoutMs: 15_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 5_000,
      maxRequestHeadersKb: 60,
    },
    outbound,
    notes,
    sources: { authorizationPolicies: sources },
  };
}

function nodeOf(target: ProxyTarget): SidecarConfig['node'] {
  if (target.kind === 'workload') {
    const w = target.workload;
    return {
      pod: target.pod,
      workload: w.name,
      namespace: w.namespace,
      serviceAccount: w.serviceAccount,
      spiffeId: w.spiffeId,
      labels: { ...w.labels },
      services: w.services.map((key) => {
        const [ns = '', name = ''] = key.split('/');
        return serviceFqdn(ns, name);
      }),
    };
  }
  const c = target.client;
  if (c.spiffeId === undefined || c.client.serviceAccount === undefined) {
    throw new MeshproofError(ErrorCode.BadArgument, `client ${c.key} has no sidecar (sidecar: false), so it has no sidecar config to render`);
  }
  return { pod: target.pod, namespace: c.client.namespace, serviceAccount: c.client.serviceAccount, spiffeId: c.spiffeId, labels: {}, services: [] };
}
