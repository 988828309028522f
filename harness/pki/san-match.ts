/**
 * The identity checks that catch what chain verification accepts by design, as Istio configures
 * Envoy's SAN matchers (reference/envoy-mapping.md §1 and §3.2):
 *
 * - inbound (server checks the client): a URI SAN with prefix `spiffe://<td>/` for the mesh trust
 *   domain and each alias (`match_subject_alt_names` prefix matchers);
 * - outbound (client checks the server, "secure naming"): a URI SAN exactly equal to one of the
 *   destination's service-account identities (exact matchers).
 *
 * Only URI SANs are matched: Istio's matchers are typed `san_type: URI` for SPIFFE identities.
 */
import { inspectCertificate } from './certificate-info.ts';

export type SanMatcher = { readonly exact: string } | { readonly prefix: string };

export function trustDomainMatchers(trustDomains: readonly string[]): SanMatcher[] {
  return trustDomains.map((td) => ({ prefix: `spiffe://${td}/` }));
}

export function secureNamingMatchers(spiffeIds: readonly string[]): SanMatcher[] {
  return spiffeIds.map((id) => ({ exact: id }));
}

/** Undefined when a URI SAN of the leaf in `certPem` matches one of `matchers`; else the mismatch. */
export function sanMismatch(certPem: string, matchers: readonly SanMatcher[]): Error | undefined {
  const uris = inspectCertificate(certPem).uriSans;
  const matches = (uri: string, m: SanMatcher): boolean => ('exact' in m ? uri === m.exact : uri.startsWith(m.prefix));
  if (uris.some((uri) => matchers.some((m) => matches(uri, m)))) return undefined;
  const wanted = matchers.map((m) => ('exact' in m ? m.exact : `${m.prefix}*`)).join(' or ');
  return new Error(`URI SAN [${uris.join(', ') || 'none'}] does not match ${wanted || 'any matcher (none given)'}`);
}
