/**
 * The PeerAuthentication mode a port enforces, read from two live calls: plaintext from a pod
 * without a sidecar, and TLS with a valid mesh certificate.
 */
import type { LiveDecision } from './live-decision.ts';

export type PortMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** The mode the two observations show, or a sentence saying why they fit none. */
export function observedMode(plaintext: LiveDecision, validTls: LiveDecision): PortMode | `no mode (plaintext ${LiveDecision}, mTLS ${LiveDecision})` {
  if (plaintext === 'allow' && validTls === 'allow') return 'PERMISSIVE';
  if (plaintext === 'reject' && validTls === 'allow') return 'STRICT';
  if (plaintext === 'allow' && validTls === 'reject') return 'DISABLE';
  return `no mode (plaintext ${plaintext}, mTLS ${validTls})`;
}
