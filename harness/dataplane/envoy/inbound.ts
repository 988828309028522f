/**
 * A workload's inbound side (envoy-mapping.md §1, §2): one listener per workload port, its
 * filter chains chosen by the port's effective PeerAuthentication mode and protocol, and one
 * cluster to the app on loopback.
 *
 * | port | STRICT | PERMISSIVE | DISABLE |
 * | HTTP | `tls` (mTLS) | `tls` + Istio ALPNs (mTLS), `raw_buffer` | `raw_buffer`, no TLS inspector |
 * | TCP  | `tls` (mTLS) | `tls` + Istio ALPNs (mTLS), `tls` (passed through), `raw_buffer` | `raw_buffer` |
 *
 * Harness naming, not Istio's: listener `inbound_<listen port>`, chains `inbound_<port>_mtls`
 * / `_plaintext` / `_tls_passthrough`, HCM stat prefix and cluster `inbound_<port>`: dot-free so
 * Envoy's default tag extractors keep them whole (mapping §5.2).
 */
import type { PathNormalization } from '../../model/mesh-config.ts';
import type { ResolvedPort, ResolvedWorkload } from '../../model/resolve.ts';
import { defaultThresholds, hcmFilter, loadAssignment, ROUTER_FILTER, socketAddress, stdoutAccessLog, tcpProxyFilter, TLS_INSPECTOR } from './filters.ts';
import type { JsonObject } from './json.ts';
import { rbacHttpFilters, rbacNetworkFilters, type RbacContext } from './rbac.ts';
import type { ResolvedRenderOptions } from './render-options.ts';
import { downstreamTlsSocket, ISTIO_MTLS_ALPNS } from './tls.ts';

export interface InboundContext {
  readonly options: ResolvedRenderOptions;
  readonly rbac: RbacContext;
  readonly minTls: 'TLSv1_2' | 'TLSv1_3';
  readonly pathNormalization: PathNormalization;
}

export interface InboundPort {
  readonly workloadPort: number;
  readonly listenPort: number;
  readonly protocol: 'http' | 'tcp';
  readonly mtlsMode: ResolvedPort['mtlsMode'];
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

function inboundHcm(w: ResolvedWorkload, port: number, ctx: InboundContext): JsonObject {
  const name = `inbound_${port}`;
  return hcmFilter({
    stat_prefix: name,
    codec_type: 'AUTO',
    use_remote_address: false,
    forward_client_cert_details: 'APPEND_FORWARD',
    set_current_client_cert_details: { subject: true, dns: true, uri: true },
    ...pathOptions(ctx.pathNormalization),
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
    http_filters: [...rbacHttpFilters(w.authorizationPolicies, ctx.rbac), ROUTER_FILTER],
    ...(ctx.options.accessLog ? { access_log: stdoutAccessLog() } : {}),
  });
}

function chains(w: ResolvedWorkload, p: InboundPort, ctx: InboundContext): JsonObject[] {
  const name = `inbound_${p.workloadPort}`;
  const filters =
    p.protocol === 'http' ? [inboundHcm(w, p.workloadPort, ctx)] : [...rbacNetworkFilters(w.authorizationPolicies, ctx.rbac), tcpProxyFilter(name, name, ctx.options.accessLog)];
  const tls = downstreamTlsSocket(ctx.options, ctx.minTls, ctx.rbac.trustDomains);
  const mtls = (alpn: boolean): JsonObject => ({
    name: `${name}_mtls`,
    filter_chain_match: { transport_protocol: 'tls', ...(alpn ? { application_protocols: [...ISTIO_MTLS_ALPNS] } : {}) },
    transport_socket: tls,
    filters,
  });
  const plaintext: JsonObject = { name: `${name}_plaintext`, filter_chain_match: { transport_protocol: 'raw_buffer' }, filters };
  switch (p.mtlsMode) {
    case 'STRICT':
      return [mtls(false)];
    case 'DISABLE':
      return [plaintext];
    case 'PERMISSIVE':
      // TCP also lets TLS that is not Istio mTLS through to the app untouched (istiod l.99-117).
      return p.protocol === 'http' ? [mtls(true), plaintext] : [mtls(true), { name: `${name}_tls_passthrough`, filter_chain_match: { transport_protocol: 'tls' }, filters }, plaintext];
  }
}

export function inboundListener(w: ResolvedWorkload, p: InboundPort, ctx: InboundContext): JsonObject {
  // DISABLE needs no TLS inspector: without one every connection is raw_buffer (mapping §2.1).
  const needsInspector = p.mtlsMode !== 'DISABLE';
  return {
    name: `inbound_${p.listenPort}`,
    address: socketAddress('0.0.0.0', p.listenPort),
    ...(needsInspector ? { listener_filters: [TLS_INSPECTOR] } : {}),
    filter_chains: chains(w, p, ctx),
    // Connection-level log: a connection no chain matches (plaintext into STRICT) shows as NR here.
    ...(ctx.options.accessLog ? { access_log: stdoutAccessLog() } : {}),
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
    circuit_breakers: { thresholds: [defaultThresholds(ctx.options.trackRemaining)] },
    load_assignment: loadAssignment(name, [{ host: '127.0.0.1', port }]),
  };
}
