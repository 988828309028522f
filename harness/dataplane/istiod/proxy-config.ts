/**
 * The one istiod translation: the resolved mesh → what istiod would push to one proxy, in an
 * Envoy-shaped form both data planes consume. The Envoy writer (dataplane/envoy) serializes it
 * into listeners, clusters and RBAC filters Envoy loads; the reference sidecar
 * (dataplane/reference) enforces it as it is. What a proxy is told is decided here once:
 *
 * - each workload port with its effective PeerAuthentication mode (mesh → namespace → workload →
 *   portLevelMtls) and, on PERMISSIVE ports, Istio's ALPN rule for the mTLS chain;
 * - the AuthorizationPolicies selecting the workload as RBAC filters for HTTP and TCP chains
 *   (authz-translator.ts);
 * - mesh settings: trust domain and aliases, path normalization, minimum TLS version, Istio's
 *   cipher suites;
 * - the outbound side (translate-outbound.ts): listeners for the app, a cluster per service port,
 *   subset and pod port, DestinationRule and VirtualService settings, durations time-scaled once
 *   (scaleMs, one rounding rule).
 *
 * harness/oracle reads the same policies on its own and never imports this (two readings that
 * agree by construction would prove nothing).
 */
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { DRY_RUN_ANNOTATION, isDryRun } from '../../model/annotations.ts';
import type { PathNormalization } from '../../model/mesh-config.ts';
import { serviceFqdn } from '../../model/resolve-destination.ts';
import { policyRef } from '../../model/resolve-peer-authentication.ts';
import type { ResolvedMesh } from '../../model/resolve.ts';
import type { ProxyTarget } from '../types.ts';
import { translateAuthorization } from './authz-translator.ts';
import { ISTIO_CIPHER_SUITES, ISTIO_MTLS_ALPNS } from './istio-constants.ts';
import { translateJwtAuthn, type JwtAuthnConfig } from './jwt-authn.ts';
import type { OutboundConfig } from './outbound-config.ts';
import type { RbacFilter } from './rbac.ts';
import { translateOutbound, type OutboundTranslateOptions } from './translate-outbound.ts';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** Istio's outbound capture port: the first outbound listener. */
export const OUTBOUND_BASE_PORT = 15001;

export interface ProxyNode {
  /** The pod; access-log lines carry it. */
  readonly pod: string;
  /** Workload name, absent for a client. */
  readonly workload?: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** This proxy's identity, `spiffe://<td>/ns/<ns>/sa/<sa>`. */
  readonly spiffeId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** FQDNs of the services selecting the workload (Istio's destination_service). */
  readonly services: readonly string[];
}

export interface ProxyMesh {
  readonly trustDomain: string;
  readonly trustDomainAliases: readonly string[];
  readonly pathNormalization: PathNormalization;
  readonly minTlsVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL names of the TLS ≤ 1.2 cipher suites (Istio's SupportedCiphers). */
  readonly cipherSuites: readonly string[];
}

/** One inbound port: a listener with filter chains by mode (and, for PERMISSIVE, Istio's ALPN rule). */
export interface ProxyInboundPort {
  /** The workload (container) port: what callers reach and what `ports` rules match. */
  readonly port: number;
  readonly protocol: 'http' | 'tcp';
  readonly mtlsMode: MtlsMode;
  /**
   * PERMISSIVE only: a TLS ClientHello goes to the mTLS chain only if it offers one of these ALPN
   * values (Istio's allIstioMtlsALPNs); other TLS matches no chain on HTTP ports and is passed
   * through on TCP ports. Unset: any TLS goes to the mTLS chain (render option, off by default).
   */
  readonly mtlsAlpn?: readonly string[];
}

export interface PolicySource {
  readonly namespace: string;
  readonly name: string;
  readonly action: string;
  /** `file:line` of the resource. */
  readonly at: string;
  readonly dryRun?: boolean;
}

export interface ProxyConfig {
  /** Grows with every translation for this proxy; a live-reloading proxy reports the one in force. */
  readonly generation: number;
  readonly node: ProxyNode;
  readonly mesh: ProxyMesh;
  readonly inbound: {
    readonly ports: readonly ProxyInboundPort[];
    /** RBAC filters of the HTTP and TCP filter chains, in chain order. */
    readonly rbac: { readonly http: readonly RbacFilter[]; readonly tcp: readonly RbacFilter[] };
    /** The HTTP chain's jwt_authn filter (RequestAuthentication), after the CUSTOM RBAC filters and before the others; absent: none. */
    readonly jwtAuthn?: JwtAuthnConfig;
  };
  /** Absent: the proxy has no outbound side. */
  readonly outbound?: OutboundConfig;
  /** What the translation could not express, or chose, for readers of a config dump and the report. */
  readonly notes: readonly string[];
  /** The AuthorizationPolicies the RBAC filters came from. */
  readonly sources: { readonly authorizationPolicies: readonly PolicySource[] };
}

export interface TranslateProxyOptions extends Partial<Omit<OutboundTranslateOptions, 'taken'>> {
  readonly generation: number;
  /** Ports the proxy or app already use in the pod (outbound listeners skip them). */
  readonly taken?: ReadonlySet<number>;
  /**
   * Istio's ALPN rule on PERMISSIVE ports (default true, as istiod). False sends any TLS on a
   * PERMISSIVE port to the mTLS chain (a harness reading, noted in the config).
   */
  readonly istioAlpnOnPermissive?: boolean;
  /** Header carrying each outbound response's flags (Envoy: `%RESPONSE_FLAGS%`); absent: none. */
  readonly responseFlagsHeader?: string;
}

export function translateProxy(mesh: ResolvedMesh, target: ProxyTarget, options: TranslateProxyOptions): ProxyConfig {
  const settings = mesh.mesh;
  if (options.timeScale !== undefined && !(Number.isFinite(options.timeScale) && options.timeScale > 0)) {
    throw new MeshproofError(ErrorCode.BadArgument, `time scale must be a positive number, found ${String(options.timeScale)}`, { hint: 'use e.g. --time-scale 0.02 to run 50 times faster' });
  }
  const istioAlpn = options.istioAlpnOnPermissive ?? true;
  const trustDomains = [settings.trustDomain, ...settings.trustDomainAliases.filter((a) => a !== settings.trustDomain)];
  const notes: string[] = [];
  const sources: PolicySource[] = [];
  let ports: ProxyInboundPort[] = [];
  let http: readonly RbacFilter[] = [];
  let tcp: readonly RbacFilter[] = [];
  let jwtAuthn: JwtAuthnConfig | undefined;
  if (target.kind === 'workload') {
    const w = target.workload;
    ports = w.ports.map((p) => ({ port: p.port, protocol: p.protocol, mtlsMode: p.mtlsMode, ...(p.mtlsMode === 'PERMISSIVE' && istioAlpn ? { mtlsAlpn: [...ISTIO_MTLS_ALPNS] } : {}) }));
    if (!istioAlpn && w.ports.some((p) => p.mtlsMode === 'PERMISSIVE')) {
      notes.push('PERMISSIVE ports take any TLS ClientHello into the mTLS chain; Istio takes only ClientHellos offering its istio* ALPN values (option istioAlpnOnPermissive)');
    }
    for (const p of w.ports) {
      const from = p.mtlsSteps.map((s) => `${s.scope} ${s.policy.namespace}/${s.policy.name} (${s.mode}) at ${s.policy.at}`);
      notes.push(`port ${p.port}/${p.protocol}: ${p.mtlsMode}${from.length === 0 ? ' (no PeerAuthentication: PERMISSIVE default)' : ` from ${from.join(' → ')}`}`);
    }
    for (const p of w.authorizationPolicies) {
      const ref = policyRef(p);
      sources.push({ namespace: p.namespace, name: p.name, action: p.spec.action ?? 'ALLOW', at: ref.at, ...(p.annotations[DRY_RUN_ANNOTATION] === undefined ? {} : { dryRun: isDryRun(p) }) });
    }
    const translate = (protocol: 'http' | 'tcp') => translateAuthorization(w.authorizationPolicies, { protocol, trustDomains, rootNamespace: settings.rootNamespace });
    const httpOut = translate('http');
    const tcpOut = translate('tcp');
    http = httpOut.filters;
    tcp = tcpOut.filters;
    jwtAuthn = translateJwtAuthn(w.jwtRules);
    for (const r of w.jwtRules) {
      if (r.jwks === undefined) notes.push(`RequestAuthentication ${r.policy.namespace}/${r.policy.name} jwtRules[${r.index}]: no JWKS for ${r.rule.jwksUri ?? '(no jwksUri)'}; the provider gets istiod's public-only key, so every token of issuer '${r.rule.issuer ?? ''}' is rejected`);
    }
    const protocols = new Set(w.ports.map((p) => p.protocol));
    const seen = new Set<string>();
    for (const n of [...(protocols.has('http') ? httpOut.notes : []), ...(protocols.has('tcp') ? tcpOut.notes : [])]) {
      const line = `AuthorizationPolicy ${n.policy}: ${n.message}`;
      if (!seen.has(line)) notes.push(line);
      seen.add(line);
    }
  }
  const node = nodeOf(target);
  const outbound = translateOutbound(
    mesh,
    node.namespace,
    {
      timeScale: options.timeScale ?? 1,
      seed: options.seed ?? 1,
      basePort: options.basePort ?? OUTBOUND_BASE_PORT,
      taken: new Set([...(options.taken ?? []), ...ports.map((p) => p.port)]),
      ...(options.bindAddress === undefined ? {} : { bindAddress: options.bindAddress }),
      ...(options.endpointAddress === undefined ? {} : { endpointAddress: options.endpointAddress }),
      ...(options.endpointOverrides === undefined ? {} : { endpointOverrides: options.endpointOverrides }),
      ...(options.responseFlagsHeader === undefined ? {} : { responseFlagsHeader: options.responseFlagsHeader }),
    },
    notes,
  );
  return {
    generation: options.generation,
    node,
    mesh: {
      trustDomain: settings.trustDomain,
      trustDomainAliases: trustDomains.slice(1),
      pathNormalization: settings.pathNormalization,
      minTlsVersion: settings.minTlsVersion,
      cipherSuites: [...ISTIO_CIPHER_SUITES],
    },
    inbound: { ports, rbac: { http, tcp }, ...(jwtAuthn === undefined ? {} : { jwtAuthn }) },
    outbound,
    notes,
    sources: { authorizationPolicies: sources },
  };
}

function nodeOf(target: ProxyTarget): ProxyNode {
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
    throw new MeshproofError(ErrorCode.BadArgument, `client ${c.key} has no sidecar (sidecar: false), so it has no proxy config to translate`);
  }
  return { pod: target.pod, namespace: c.client.namespace, serviceAccount: c.client.serviceAccount, spiffeId: c.spiffeId, labels: {}, services: [] };
}
