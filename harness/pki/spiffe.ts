/**
 * SPIFFE workload identities as Istio writes them (istio/istio pkg/spiffe/spiffe.go):
 * `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`. The string forms come from the
 * model (harness/model/identity.ts); this file adds what issuing needs: the service account a
 * workload runs as, and name validation before a name goes into a certificate.
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import { SPIFFE_PREFIX, parseIdentity, spiffeId, type ParsedIdentity } from '../model/identity.ts';

/** A Kubernetes service account: what a workload runs as. */
export interface WorkloadRef {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** A workload identity in a trust domain. */
export type SpiffeIdentity = ParsedIdentity;

export function spiffeUri(identity: SpiffeIdentity): string {
  return spiffeId(identity.trustDomain, identity.namespace, identity.serviceAccount);
}

/** The identity in an Istio-shaped SPIFFE URI (with its `spiffe://`), or undefined for any other URI. */
export function parseSpiffeUri(uri: string): SpiffeIdentity | undefined {
  return uri.startsWith(SPIFFE_PREFIX) ? parseIdentity(uri) : undefined;
}

/** `prod/payment`, for messages. */
export function formatRef(ref: WorkloadRef): string {
  return `${ref.namespace}/${ref.serviceAccount}`;
}

// Kubernetes: namespaces are DNS-1123 labels, service accounts DNS-1123 subdomains.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// SPIFFE ID spec: a trust domain holds lower-case letters, digits, '.', '-' and '_'.
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

/** Throws MESHPROOF_ERR_BAD_ARGUMENT naming `where` (a flag or field) when a part is not valid. */
export function validateIdentity(identity: SpiffeIdentity, where = 'identity'): SpiffeIdentity {
  if (!TRUST_DOMAIN.test(identity.trustDomain) || identity.trustDomain.length > 255) {
    throw badPart(where, 'trust domain', identity.trustDomain, "lower-case letters, digits, '.', '-' and '_' (SPIFFE trust domain), e.g. cluster.local");
  }
  if (!DNS_LABEL.test(identity.namespace) || identity.namespace.length > 63) {
    throw badPart(where, 'namespace', identity.namespace, "a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters");
  }
  if (!DNS_SUBDOMAIN.test(identity.serviceAccount) || identity.serviceAccount.length > 253) {
    throw badPart(where, 'service account', identity.serviceAccount, "a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most 253 characters");
  }
  return identity;
}

function badPart(where: string, part: string, value: string, expected: string): MeshproofError {
  return new MeshproofError(ErrorCode.BadArgument, `${where}: ${part} '${value}' is not valid: expected ${expected}`);
}
