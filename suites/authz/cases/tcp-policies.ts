/**
 * ledger-service's TCP ports (istio-semantics.md §2): the network RBAC filter decides per
 * connection, from the peer's principal and the destination port only. A denied connection is
 * closed with no byte and the app sees nothing; plaintext (PERMISSIVE `legacy`) has no principal,
 * so a principals rule never lets it in. HTTP-only fields on TCP: an ALLOW rule using one is
 * dropped (reporting's GET rule lets nobody in), a DENY rule only loses the field (auditor's
 * "DELETE" rule denies every connection of auditor's).
 */
import { Feature } from '../../../harness/index.ts';
import { specTableCase, type SpecRow } from '../../shared/spec-table.ts';

export const LEDGER = 'legacy/ledger-service';
const MANIFESTS: readonly string[] = ['cases/ledger-tcp-authorization.yaml'];

const ROWS: readonly SpecRow[] = [
  { from: 'order-client', port: 9000, method: 'GET', path: '/ledger', expect: 'allow', why: 'ALLOW principals order-service-sa, ports [9000]' },
  { from: 'product-client', port: 9000, method: 'GET', path: '/ledger', expect: 'deny', why: 'DENY principals product-service-sa on 9000 beats the ALLOW that names it too' },
  { from: 'plaintext', port: 9000, method: 'GET', path: '/ledger', expect: 'deny', why: 'plaintext has no principal: the principals rule never matches, and an ALLOW policy is in force' },
  { from: 'order-client', port: 9001, method: 'GET', path: '/ledger', expect: 'deny', why: 'the ALLOW rule for order-service-sa names ports [9000] only' },
  { from: 'identity:legacy/reporting', port: 9001, method: 'GET', path: '/ledger', expect: 'deny', why: 'its ALLOW rule uses methods, an HTTP-only field: dropped on a TCP chain' },
  { from: 'identity:legacy/auditor', port: 9001, method: 'GET', path: '/ledger', expect: 'deny', why: 'the DENY rule loses methods [DELETE] on TCP and denies every auditor connection, ALLOW notwithstanding' },
  { from: 'identity:legacy/auditor', port: 9000, method: 'GET', path: '/ledger', expect: 'deny', why: 'the broadened DENY rule has no port: it holds on 9000 too' },
];

export const tcpPoliciesCase = specTableCase({
  shortName: 'tcp-port-authorization',
  description:
    'ledger-service (PERMISSIVE, two TCP ports): ALLOW and DENY on principals and ports decide each connection (a denied one is closed with no byte, unseen by the app); plaintext never matches principals; an ALLOW rule with an HTTP-only field is dropped, a DENY rule loses only that field.',
  features: [Feature.AuthzAllow, Feature.AuthzDeny, Feature.AuthzTcp, Feature.MtlsPermissive],
  manifests: MANIFESTS,
  to: LEDGER,
  rows: ROWS,
  what: 'TCP authorization',
});
