/**
 * TLS contexts as istiod writes them (envoy-mapping.md §1.1, §3.2): the server side requires a
 * client certificate from the mesh root and a URI SAN under one of the trust domains; the client
 * side presents the workload certificate and checks the server's SPIFFE identity exactly
 * (secure naming). Certificates come from the workload files (`cert-chain.pem`, `key.pem`,
 * `root-cert.pem` in a `..data` layout), either through file-based SDS (secrets `default` and
 * `ROOTCA`, as Istio's agent names them, reloaded when `..data` is swapped) or inline.
 */
import { WORKLOAD_FILES } from '../../pki/workload-files.ts';
import { typeUrl, type JsonObject } from './json.ts';
import type { ResolvedRenderOptions } from './render-options.ts';

export const TLS_SOCKET = 'envoy.transport_sockets.tls';
const DOWNSTREAM_TLS = typeUrl('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
const UPSTREAM_TLS = typeUrl('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
const SECRET = typeUrl('envoy.extensions.transport_sockets.tls.v3.Secret');

/** Istio's SupportedCiphers (TLS ≤ 1.2), in order. */
export const ISTIO_CIPHER_SUITES = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-GCM-SHA256',
] as const;

/** Istio's allIstioMtlsALPNs: what an Istio client offers, and what a PERMISSIVE mTLS chain matches. */
export const ISTIO_MTLS_ALPNS = ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'] as const;

export const SDS_CERT_SECRET = 'default';
export const SDS_ROOT_SECRET = 'ROOTCA';
export const SDS_CERT_FILE = 'sds-default.yaml';
export const SDS_ROOT_FILE = 'sds-rootca.yaml';

type SanMatcher = { readonly exact: string } | { readonly prefix: string };

function uriSans(matchers: readonly SanMatcher[]): JsonObject[] {
  return matchers.map((matcher) => ({ san_type: 'URI', matcher }));
}

function sdsConfig(o: ResolvedRenderOptions, name: string, file: string): JsonObject {
  return { name, sds_config: { path_config_source: { path: `${o.sdsDir}/${file}` }, resource_api_version: 'V3' } };
}

/** The certificate and validation parts of a CommonTlsContext. */
function certificates(o: ResolvedRenderOptions, sans: readonly SanMatcher[]): JsonObject {
  if (o.certificates === 'files') {
    return {
      tls_certificates: [{ certificate_chain: { filename: `${o.certDir}/${WORKLOAD_FILES.certChain}` }, private_key: { filename: `${o.certDir}/${WORKLOAD_FILES.key}` } }],
      validation_context: { trusted_ca: { filename: `${o.certDir}/${WORKLOAD_FILES.rootCert}` }, match_typed_subject_alt_names: uriSans(sans) },
    };
  }
  return {
    tls_certificate_sds_secret_configs: [sdsConfig(o, SDS_CERT_SECRET, SDS_CERT_FILE)],
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: uriSans(sans) },
      validation_context_sds_secret_config: sdsConfig(o, SDS_ROOT_SECRET, SDS_ROOT_FILE),
    },
  };
}

/** Server side: client certificate required, TLS ≥ the mesh minimum, SAN under a trust domain. */
export function downstreamTlsSocket(o: ResolvedRenderOptions, minVersion: 'TLSv1_2' | 'TLSv1_3', trustDomains: readonly string[]): JsonObject {
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': DOWNSTREAM_TLS,
      require_client_certificate: true,
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: minVersion, tls_maximum_protocol_version: 'TLSv1_3', cipher_suites: [...ISTIO_CIPHER_SUITES] },
        alpn_protocols: ['h2', 'http/1.1'],
        ...certificates(o, trustDomains.map((td) => ({ prefix: `spiffe://${td}/` }))),
      },
    },
  };
}

/** Client side (ISTIO_MUTUAL): the workload certificate, ALPN `istio`, the server's identities exactly. */
export function upstreamTlsSocket(o: ResolvedRenderOptions, sni: string, serverIdentities: readonly string[]): JsonObject {
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': UPSTREAM_TLS,
      sni,
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
        alpn_protocols: ['istio'],
        ...certificates(o, serverIdentities.map((exact) => ({ exact }))),
      },
    },
  };
}

/** The two file-based SDS resources (DiscoveryResponse documents), when `certificates: 'sds'`. */
export function sdsFiles(o: ResolvedRenderOptions): { readonly name: string; readonly document: JsonObject }[] {
  if (o.certificates !== 'sds') return [];
  const watched = { path: o.certDir };
  return [
    {
      name: SDS_CERT_FILE,
      document: {
        resources: [
          {
            '@type': SECRET,
            name: SDS_CERT_SECRET,
            tls_certificate: { certificate_chain: { filename: `${o.certDir}/${WORKLOAD_FILES.certChain}` }, private_key: { filename: `${o.certDir}/${WORKLOAD_FILES.key}` }, watched_directory: watched },
          },
        ],
      },
    },
    {
      name: SDS_ROOT_FILE,
      document: { resources: [{ '@type': SECRET, name: SDS_ROOT_SECRET, validation_context: { trusted_ca: { filename: `${o.certDir}/${WORKLOAD_FILES.rootCert}` }, watched_directory: watched } }] },
    },
  ];
}
