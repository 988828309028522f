/**
 * Evidence for one call, from both ends: what the client saw, what the app behind the sidecar
 * received because of it, and what the sidecars logged. Checks read only this.
 */
import type { AccessLogEntry, EchoReport, Observation } from './types.ts';

export interface CallEvidence {
  /** Reads as a table row: `order-service POST /pay/1 → payment-service:8080`. */
  readonly label: string;
  /** Who called: a pod, or a named client such as `plaintext-client`. */
  readonly from: string;
  /** Whom: a service or pod, with port. */
  readonly to: string;
  /** The client's end of the call. */
  readonly observation: Observation;
  /**
   * The server's end: every request the destination app(s) received during the call. Undefined
   * when the server end was not observed; a check that needs it then fails rather than guess.
   */
  readonly serverSaw?: readonly EchoReport[];
  /** Sidecar access-log lines written for this call (client and server sidecars). */
  readonly accessLog?: readonly AccessLogEntry[];
}

/** `status 200 from payment-0`, `reset (ECONNRESET)`, `tls-error (tlsv13 alert certificate required)`. */
export function describeObservation(observation: Observation): string {
  switch (observation.outcome) {
    case 'response': {
      const from = observation.echo === undefined ? '' : ` from ${observation.echo.pod}`;
      return `status ${observation.status}${from}`;
    }
    case 'tls-error':
      return `tls-error (${observation.tls?.alert ?? observation.error?.message ?? 'no reason'})`;
    case 'connected':
      return 'connected';
    default:
      return `${observation.outcome} (${observation.error?.code ?? 'no code'})`;
  }
}
