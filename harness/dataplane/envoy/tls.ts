/**
 * TLS contexts as istiod writes them (envoy-mapping.md §1.1, §3.2): the server side requires a
 * client certificate from the mesh root and a URI SAN under one of the trust domains; the client
 * side presents the workload certificate and checks the server's SPIFFE identity exactly
 * (secure naming). Certificates come from the workload files (`cert-chain.pem`, `key.pem`,
 * `root-cert.pem` in a `..data` layout), either through file-based SDS (secrets `default` and
 * `ROOTCA`, as Istio's agent names them, reloaded when `..data` is swapped) or inline.
 */
import { WORKLOAD_FILES } from '../../pki/workload-files.ts';
import type { ProxyMesh } from '../istiod/proxy-config.ts';
import { typeUrl, type JsonObject } from './json.ts';

export const TLS_SOCKET = 'envoy.transport_sockets.tls';
const DOWNSTREAM_TLS = typeUrl('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
const UPSTREAM_TLS = typeUrl('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
const SECRET = typeUrl('envoy.extensions.transport_sockets.tls.v3.Secret');

export const SDS_CERT_SECRET = 'default';
export const SDS_ROOT_SECRET = 'ROOTCA';
export const SDS_CERT_FILE = 'sds-default.yaml';
export const SDS_ROOT_FILE = 'sds-rootca.yaml';

export type CertificateSource = 'sds' | 'files';

/** Where a sidecar's certificates are, as the container sees them. */
export interface TlsFiles {
  /** Folder holding cert-chain.pem, key.pem, root-cert.pem (`..data` layout). */
  readonly certDir: string;
  readonly certificates: CertificateSource;
  /** Folder of the SDS resource files. */
  readonly sdsDir: string;
}

type SanMatcher = { readonly exact: string } | { readonly prefix: string };

function uriSans(matchers: readonly SanMatcher[]): JsonObject[] {
  return matchers.map((matcher) => ({ san_type: 'URI', matcher }));
}

function sdsConfig(t: TlsFiles, name: string, file: string): JsonObject {
  return { name, sds_config: { path_config_source: { path: `${t.sdsDir}/${file}` }, resource_api_version: 'V3' } };
}

/** The certificate and validation parts of a CommonTlsContext. */
function certificates(t: TlsFiles, sans: readonly SanMatcher[]): JsonObject {
  if (t.certificates === 'files') {
    return {
      tls_certificates: [{ certificate_chain: { filename: `${t.certDir}/${WORKLOAD_FILES.certChain}` }, private_key: { filename: `${t.certDir}/${WORKLOAD_FILES.key}` } }],
      validation_context: { trusted_ca: { filename: `${t.certDir}/${WORKLOAD_FILES.rootCert}` }, match_typed_subject_alt_names: uriSans(sans) },
    };
  }
  return {
    tls_certificate_sds_secret_configs: [sdsConfig(t, SDS_CERT_SECRET, SDS_CERT_FILE)],
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: uriSans(sans) },
      validation_context_sds_secret_config: sdsConfig(t, SDS_ROOT_SECRET, SDS_ROOT_FILE),
    },
  };
}

const ENVOY_TLS_VERSION = { 'TLSv1.2': 'TLSv1_2', 'TLSv1.3': 'TLSv1_3' } as const;

/** Server side: client certificate required, TLS ≥ the mesh minimum, Istio's ciphers, SAN under a trust domain. */
export function downstreamTlsSocket(t: TlsFiles, mesh: ProxyMesh): JsonObject {
  const trustDomains = [mesh.trustDomain, ...mesh.trustDomainAliases];
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': DOWNSTREAM_TLS,
      require_client_certificate: true,
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: ENVOY_TLS_VERSION[mesh.minTlsVersion], tls_maximum_protocol_version: 'TLSv1_3', cipher_suites: [...mesh.cipherSuites] },
        alpn_protocols: ['h2', 'http/1.1'],
        ...certificates(t, trustDomains.map((td) => ({ prefix: `spiffe://${td}/` }))),
      },
    },
  };
}

/** Client side (ISTIO_MUTUAL): the workload certificate, Istio's ALPN, the server's identities exactly. */
export function upstreamTlsSocket(t: TlsFiles, sni: string, serverIdentities: readonly string[], alpn: readonly string[]): JsonObject {
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': UPSTREAM_TLS,
      sni,
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
        alpn_protocols: [...alpn],
        ...certificates(t, serverIdentities.map((exact) => ({ exact }))),
      },
    },
  };
}

/** The two file-based SDS resources (DiscoveryResponse documents), when `certificates: 'sds'`. */
export function sdsFiles(t: TlsFiles): { readonly name: string; readonly document: JsonObject }[] {
  if (t.certificates !== 'sds') return [];
  const watched = { path: t.certDir };
  return [
    {
      name: SDS_CERT_FILE,
      document: {
        resources: [
          {
            '@type': SECRET,
            name: SDS_CERT_SECRET,
            tls_certificate: { certificate_chain: { filename: `${t.certDir}/${WORKLOAD_FILES.certChain}` }, private_key: { filename: `${t.certDir}/${WORKLOAD_FILES.key}` }, watched_directory: watched },
          },
        ],
      },
    },
    {
      name: SDS_ROOT_FILE,
      document: { resources: [{ '@type': SECRET, name: SDS_ROOT_SECRET, validation_context: { trusted_ca: { filename: `${t.certDir}/${WORKLOAD_FILES.rootCert}` }, watched_directory: watched } }] },
    },
  ];
}
