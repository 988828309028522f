/**
 * A workload's inbound side (envoy-mapping.md §1, §2) from the istiod translation: one listener
 * per workload port on 0.0.0.0:<port> (so `ports` rules and `destination.port` see the port the
 * caller dialled, as Istio's original-destination listener does), its filter chains chosen by the
 * port's effective PeerAuthentication mode and protocol, and one cluster to the app on
 * 127.0.0.1:<app port>.
 *
 * | port | STRICT | PERMISSIVE | DISABLE |
 * | HTTP | `tls` (mTLS) | `tls` + Istio ALPNs (mTLS), `raw_buffer` | `raw_buffer`, no TLS inspector |
 * | TCP  | `tls` (mTLS) | `tls` + Istio ALPNs (mTLS), `tls` (passed through), `raw_buffer` | `raw_buffer` |
 *
 * Harness naming, not Istio's: listener `inbound_<port>`, chains `inbound_<port>_mtls` /
 * `_plaintext` / `_tls_passthrough`, HCM stat prefix and cluster `inbound_<port>`: dot-free so
 * the stats tag extractors keep them whole (mapping §5.2).
 */
import type { PathNormalization } from '../../model/mesh-config.ts';
import type { ProxyConfig, ProxyInboundPort } from '../istiod/proxy-config.ts';
import { ENVOY_SERVER_NAME } from '../istiod/istio-constants.ts';
import { defaultThresholds, fileAccessLog, hcmFilter, loadAssignment, ROUTER_FILTER, socketAddress, tcpProxyFilter, TLS_INSPECTOR, type AccessLogContext } from './filters.ts';
import type { JsonObject } from './json.ts';
import { jwtAuthnFilter } from './jwt-authn-filter.ts';
import { rbacHttpFilters, rbacNetworkFilters } from './rbac-filters.ts';
import { downstreamTlsSocket, type TlsFiles } from './tls.ts';

export interface InboundContext {
  readonly tls: TlsFiles;
  /** Where allowed traffic goes, on 127.0.0.1. */
  readonly appPort: number;
  readonly accessLog: AccessLogContext | undefined;
  readonly trackRemaining: boolean;
}

/** HCM path options by MeshConfig pathNormalization (istio-semantics.md §2 "Path normalization"). */
function pathOptions(mode: PathNormalization): JsonObject {
  switch (mode) {
    case 'NONE':
      return { normalize_path: false, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' };
    case 'BASE':
      return { normalize_path: true, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' };
    case 'MERGE_SLASHES':
      return { normalize_path: true, merge_slashes: true, path_with_escaped_slashes_action: 'KEEP_UNCHANGED' };
    case 'DECODE_AND_MERGE_SLASHES':
      return { normalize_path: true, merge_slashes: true, path_with_escaped_slashes_action: 'UNESCAPE_AND_FORWARD' };
  }
}

type Security = 'mutual_tls' | 'none';

function log(ctx: InboundContext, security: Security | undefined): JsonObject[] | undefined {
  return ctx.accessLog === undefined ? undefined : fileAccessLog({ ...ctx.accessLog, direction: 'inbound', ...(security === undefined ? {} : { connectionSecurity: security }) });
}

function inboundHcm(proxy: ProxyConfig, port: number, ctx: InboundContext, security: Security | undefined): JsonObject {
  const name = `inbound_${port}`;
  const accessLog = log(ctx, security);
  return hcmFilter({
    stat_prefix: name,
    codec_type: 'AUTO',
    server_name: ENVOY_SERVER_NAME,
    use_remote_address: false,
    forward_client_cert_details: 'APPEND_FORWARD',
    set_current_client_cert_details: { subject: true, dns: true, uri: true },
    ...pathOptions(proxy.mesh.pathNormalization),
    stream_idle_timeout: '0s',
    upgrade_configs: [{ upgrade_type: 'websocket' }],
    route_config: {
      name,
      virtual_hosts: [
        {
          name: `inbound|http|${port}`,
          domains: ['*'],
          routes: [
            {
              name: 'default',
              match: { prefix: '/' },
              route: {
                cluster: name,
                timeout: '0s',
                max_stream_duration: { max_stream_duration: '0s', grpc_timeout_header_max: '0s' },
                // Istio >= 1.24 default inbound retry (ENABLE_INBOUND_RETRY_POLICY).
                retry_policy: { retry_on: 'reset-before-request', num_retries: 2 },
              },
            },
          ],
        },
      ],
    },
    // istiod's order: CUSTOM (here fail-closed RBAC), then authn (jwt_authn), then AUDIT, DENY, ALLOW.
    http_filters: [
      ...rbacHttpFilters(proxy.inbound.rbac.http.filter((f) => f.source === 'custom')),
      ...(proxy.inbound.jwtAuthn === undefined ? [] : [jwtAuthnFilter(proxy.inbound.jwtAuthn)]),
      ...rbacHttpFilters(proxy.inbound.rbac.http.filter((f) => f.source !== 'custom')),
      ROUTER_FILTER,
    ],
    ...(accessLog === undefined ? {} : { access_log: accessLog }),
  });
}

function chains(proxy: ProxyConfig, p: ProxyInboundPort, ctx: InboundContext): JsonObject[] {
  const name = `inbound_${p.port}`;
  const filters = (security: Security | undefined): JsonObject[] =>
    p.protocol === 'http' ? [inboundHcm(proxy, p.port, ctx, security)] : [...rbacNetworkFilters(proxy.inbound.rbac.tcp), tcpProxyFilter(name, name, log(ctx, security))];
  const mtls: JsonObject = {
    name: `${name}_mtls`,
    filter_chain_match: { transport_protocol: 'tls', ...(p.mtlsAlpn === undefined ? {} : { application_protocols: [...p.mtlsAlpn] }) },
    transport_socket: downstreamTlsSocket(ctx.tls, proxy.mesh),
    filters: filters('mutual_tls'),
  };
  const plaintext: JsonObject = { name: `${name}_plaintext`, filter_chain_match: { transport_protocol: 'raw_buffer' }, filters: filters('none') };
  switch (p.mtlsMode) {
    case 'STRICT':
      return [mtls];
    case 'DISABLE':
      return [plaintext];
    case 'PERMISSIVE':
      // With Istio's ALPN rule, TCP also lets other TLS through to the app untouched (istiod l.99-117).
      return p.protocol === 'tcp' && p.mtlsAlpn !== undefined ? [mtls, { name: `${name}_tls_passthrough`, filter_chain_match: { transport_protocol: 'tls' }, filters: filters(undefined) }, plaintext] : [mtls, plaintext];
  }
}

export function inboundListener(proxy: ProxyConfig, p: ProxyInboundPort, ctx: InboundContext): JsonObject {
  // DISABLE needs no TLS inspector: without one every connection is raw_buffer (mapping §2.1).
  const needsInspector = p.mtlsMode !== 'DISABLE';
  // As istiod writes it: the listener's own log is for connections no filter chain took (NR) only.
  const accessLog = log(ctx, undefined)?.map((l) => ({ ...l, filter: { response_flag_filter: { flags: ['NR'] } } }));
  return {
    name: `inbound_${p.port}`,
    address: socketAddress('0.0.0.0', p.port),
    ...(needsInspector ? { listener_filters: [TLS_INSPECTOR] } : {}),
    filter_chains: chains(proxy, p, ctx),
    // Connection-level log: a connection no chain matches (plaintext into STRICT) shows as NR here.
    ...(accessLog === undefined ? {} : { access_log: accessLog }),
  };
}

/** `inbound_<port>`: STATIC to the app on loopback, Istio's default (unlimited) circuit breakers. */
export function inboundCluster(port: number, ctx: InboundContext): JsonObject {
  const name = `inbound_${port}`;
  return {
    name,
    type: 'STATIC',
    connect_timeout: '10s',
    lb_policy: 'ROUND_ROBIN',
    circuit_breakers: { thresholds: [defaultThresholds(ctx.trackRemaining)] },
    load_assignment: loadAssignment(name, [{ host: '127.0.0.1', port: ctx.appPort }]),
  };
}
