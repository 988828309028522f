/**
 * Istio's protocol constants, as istiod writes them into every sidecar: the one copy both data
 * planes (and the harness's own mesh clients) use.
 */

/** Istio's SupportedCiphers (TLS ≤ 1.2), in OpenSSL's names and Istio's order. */
export const ISTIO_CIPHER_SUITES = ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-GCM-SHA256'] as const;

/** allIstioMtlsALPNs (pilot/pkg/networking/core/listener.go): what a PERMISSIVE mTLS chain matches. */
// Kept apart on purpose from wire/wire-checks.ts's ISTIO_MTLS_ALPN_VALUES: this is what the data planes enforce, that one the eavesdropper's reading.
export const ISTIO_MTLS_ALPNS = ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'] as const;

/** What an Istio sidecar's cluster offers upstream (util.go ALPNInMeshWithMxc). */
export const ISTIO_CLIENT_ALPN = ['istio-peer-exchange', 'istio'] as const;

/**
 * What the harness's own TLS clients offer when they stand in for an Istio sidecar (attacker and
 * forged-identity probes): an Istio value, so a PERMISSIVE port takes them into its mTLS chain as it
 * takes a sidecar's, and `http/1.1`, which a server that knows no Istio value can still choose.
 */
export const MESH_PROBE_ALPN = ['istio-http/1.1', 'istio', 'http/1.1'] as const;

/** EnvoyServerName: the `server` header istiod has every sidecar's connection manager write (OVERWRITE). */
export const ENVOY_SERVER_NAME = 'istio-envoy';

/** Istio's default SNI for a cluster: BuildDNSSrvSubsetKey(outbound, subset, host, port). */
export function istioSni(host: string, port: number, subset = ''): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}
