/** SPIFFE identities as Istio writes them (istio-semantics.md §6). */

export const SPIFFE_PREFIX = 'spiffe://';

/** `spiffe://cluster.local/ns/prod/sa/order`. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `${SPIFFE_PREFIX}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The principal form policies use (no `spiffe://`): `cluster.local/ns/prod/sa/order`. */
export function principalOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Strips `spiffe://` if present. */
export function toPrincipal(identity: string): string {
  return identity.startsWith(SPIFFE_PREFIX) ? identity.slice(SPIFFE_PREFIX.length) : identity;
}

export interface ParsedIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Parses `[spiffe://]td/ns/x/sa/y`; undefined for anything else. */
export function parseIdentity(identity: string): ParsedIdentity | undefined {
  const parts = toPrincipal(identity).split('/');
  if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa') return undefined;
  const [trustDomain, , namespace, , serviceAccount] = parts as [string, string, string, string, string];
  if (trustDomain === '' || namespace === '' || serviceAccount === '') return undefined;
  return { trustDomain, namespace, serviceAccount };
}
