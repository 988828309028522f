/**
 * What a live call shows about a request's fate, read at both ends, and the check that it is
 * what the oracle says Istio does.
 *
 * The observed decision is the report's vocabulary (AuthzMatrixCell): `allow` (the app received
 * the request and answered it), `deny` (403 `RBAC: access denied` and the app never saw it),
 * `reject` (no HTTP at all: reset or TLS handshake failure, app never saw it), `unauthenticated`
 * (401 from the sidecar's jwt_authn, app never saw it), `bad-request`
 * (400 from the sidecar, app never saw it), `other` (anything else, e.g. the app saw a request
 * whose client was then reset).
 *
 * Probes carry a tag header (PROBE_HEADER) so that "the app saw it" means this request, even when
 * other traffic reaches the same app during the call (steady traffic in the migration case).
 */
import { RBAC_DENIED_BODY, describeObservation, isRbacDenial, type AuthzMatrixCell, type CallEvidence, type Check, type Decision, type DecisionOutcome } from '../../harness/index.ts';
import type { EchoReport } from '../../harness/index.ts';

export type LiveDecision = AuthzMatrixCell['observed'];
export type ExpectedDecision = AuthzMatrixCell['expected'];

/** Request header naming a probe; the echo app reports it back. */
export const PROBE_HEADER = 'x-meshproof-probe';

/** The oracle's outcome in the report's words; undefined when the oracle cannot decide (CUSTOM, Envoy metadata). */
export function expectedDecisionOf(outcome: DecisionOutcome): ExpectedDecision | undefined {
  switch (outcome) {
    case 'allowed':
      return 'allow';
    case 'denied':
      return 'deny';
    case 'bad-request':
      return 'bad-request';
    case 'unauthenticated':
      return 'unauthenticated';
    case 'connection-reset':
    case 'handshake-failed':
      return 'reject';
    case 'not-supported':
      return undefined;
  }
}

/** Requests the destination apps received during the call that carry `tag` (all of them without a tag); undefined when that end was not observed. */
export function taggedRequests(evidence: CallEvidence, tag?: string): readonly EchoReport[] | undefined {
  if (evidence.serverSaw === undefined) return undefined;
  if (tag === undefined) return evidence.serverSaw;
  return evidence.serverSaw.filter((r) => headerValue(r.headers, PROBE_HEADER) === tag);
}

/** What the call shows, from both ends. `other` whenever the two ends do not tell one story. */
export function observedDecision(evidence: CallEvidence, tag?: string): LiveDecision {
  const seen = taggedRequests(evidence, tag);
  if (seen === undefined) return 'other';
  const o = evidence.observation;
  if (seen.length > 0) return o.outcome === 'response' && o.status === 200 ? 'allow' : 'other';
  if (o.outcome === 'reset' || o.outcome === 'tls-error') return 'reject';
  if (o.outcome !== 'response') return 'other';
  if (isRbacDenial(o)) return 'deny';
  if (o.status === 400) return 'bad-request';
  // jwt_authn: 401, or 403 for an audience it does not allow (its body is jwt_verify_lib's status, not RBAC's).
  if (o.status === 401 || (o.status === 403 && (o.body ?? '').startsWith('Audiences in Jwt'))) return 'unauthenticated';
  return 'other';
}

/**
 * observedDecision, read against what the oracle expects: on a TCP port authorization's denial is
 * the network RBAC filter closing the connection (no byte, the app never sees it), which the
 * client cannot tell from any other close, so there a close with the app untouched is the denial.
 */
export function observedAgainst(decision: Decision, evidence: CallEvidence, tag?: string): LiveDecision {
  const observed = observedDecision(evidence, tag);
  return observed === 'reject' && evidence.observation.outcome === 'reset' && decision.outcome === 'denied' && decision.expect.client === 'reset' ? 'deny' : observed;
}

const DESCRIBE: Readonly<Record<ExpectedDecision, string>> = {
  allow: 'allowed (the app receives it)',
  deny: `denied (403 ${RBAC_DENIED_BODY}, the app never sees it)`,
  reject: 'rejected before HTTP (reset or handshake failure, the app never sees it)',
  'bad-request': 'refused as a bad request (400, the app never sees it)',
  unauthenticated: "refused for its JWT (401, or 403 for its audience, from the sidecar's jwt_authn; the app never sees it)",
};

/**
 * The call did what `decision` says, at both ends:
 * - the observed decision is the expected one;
 * - allowed: the app received the path the oracle says it forwards (normalized, query kept) and
 *   the peer identity it vouches for (none for plaintext);
 * - denied: the destination sidecar's access log names the same RBAC policy as the oracle
 *   (`rbac_access_denied_matched_policy[...]`), when the oracle names one;
 * - rejected for want of a filter chain: the destination sidecar logged the flag the oracle gives (`NR`).
 */
export function matchesDecision(decision: Decision, options: { readonly tag?: string } = {}): Check {
  return (evidence) => {
    const expected = expectedDecisionOf(decision.outcome);
    if (expected === undefined) return new Error(`the oracle cannot decide this request (${decision.reason}), so nothing can be checked`);
    const seen = taggedRequests(evidence, options.tag);
    if (seen === undefined) return new Error(`expected ${DESCRIBE[expected]}, but the server end was not observed`);
    const observed = observedAgainst(decision, evidence, options.tag);
    const onTcp = decision.expect.client === 'connected' || (decision.outcome === 'denied' && decision.expect.client === 'reset');
    if (observed !== expected) {
      const appSaw = seen.length === 0 ? 'the app saw nothing' : `the app saw ${seen.map((r) => `${r.method} ${r.path}`).join(', ')}`;
      const what = onTcp && expected === 'deny' ? 'denied (the TCP connection closed with no byte, the app never sees it)' : DESCRIBE[expected];
      return new Error(`expected ${what} because ${decision.reason}; got ${describeObservation(evidence.observation)} and ${appSaw}`);
    }
    const inbound = (evidence.accessLog ?? []).filter((line) => line.direction === 'inbound');
    switch (expected) {
      case 'allow': {
        const report = seen[0]!;
        const path = decision.expect.forwardedPath;
        if (path !== undefined && report.path !== path) return new Error(`allowed as expected, but the app received path ${report.path}, not the normalized ${path}`);
        // A TCP proxy passes bytes: no sidecar element in x-forwarded-client-cert vouches for the caller.
        if (onTcp) return report.peerIdentity === undefined ? undefined : new Error(`allowed as expected, but the app was told the caller is ${report.peerIdentity} over a TCP proxy, which vouches for no one`);
        if (report.peerIdentity !== decision.peer) return new Error(`allowed as expected, but the app was told the caller is ${report.peerIdentity ?? '(no identity)'}, not ${decision.peer ?? '(no identity)'}`);
        return undefined;
      }
      case 'deny': {
        const details = decision.expect.responseCodeDetails;
        if (details === undefined) return undefined;
        if (inbound.length === 0) return new Error(`denied as expected, but the destination sidecar logged no line for it (expected response_code_details ${details})`);
        const logged = inbound.map((l) => l.responseCodeDetails ?? '-');
        return logged.includes(details) ? undefined : new Error(`denied as expected, but by ${logged.join(' | ')}, not ${details}`);
      }
      case 'reject': {
        const flag = decision.expect.responseFlags;
        if (flag === undefined) return undefined;
        if (inbound.length === 0) return new Error(`rejected as expected, but the destination sidecar logged no line for it (expected response flag ${flag})`);
        const flags = inbound.map((l) => l.responseFlags);
        return flags.some((f) => f.split(',').includes(flag)) ? undefined : new Error(`rejected as expected, but the destination sidecar logged flags [${flags.join(' | ')}], not ${flag}`);
      }
      case 'unauthenticated': {
        const body = decision.expect.body;
        const o = evidence.observation;
        if (o.outcome === 'response' && decision.expect.status !== undefined && o.status !== decision.expect.status) return new Error(`refused for its JWT as expected, but with status ${o.status}, not ${decision.expect.status}`);
        if (body !== undefined && o.outcome === 'response' && (o.request.method ?? 'GET').toUpperCase() !== 'HEAD' && o.body !== body) return new Error(`refused with 401 as expected, but the body says ${JSON.stringify(o.body)}, not ${JSON.stringify(body)}`);
        const details = decision.expect.responseCodeDetails;
        if (details === undefined || inbound.length === 0) return details === undefined ? undefined : new Error(`refused with 401 as expected, but the destination sidecar logged no line for it (expected response_code_details ${details})`);
        const logged = inbound.map((l) => l.responseCodeDetails ?? '-');
        return logged.includes(details) ? undefined : new Error(`refused with 401 as expected, but the destination sidecar logged ${logged.join(' | ')}, not ${details}`);
      }
      case 'bad-request':
        return undefined;
    }
  };
}

/** Short words for a table cell: `OK`, `403`, `reset`, `handshake rejected: <alert>`, `400`, or the raw observation. */
export function describeLive(evidence: CallEvidence, tag?: string): string {
  const observed = observedDecision(evidence, tag);
  const o = evidence.observation;
  switch (observed) {
    case 'allow':
      return 'OK';
    case 'deny':
      return '403';
    case 'bad-request':
      return '400';
    case 'unauthenticated':
      return '401';
    case 'reject':
      if (o.outcome === 'tls-error') return `handshake rejected: ${o.tls?.alert ?? o.error?.message ?? 'no reason given'}`;
      return o.request.protocol === 'https' || o.request.protocol === 'tls-handshake' ? 'TLS closed by the server (no HTTP response)' : 'reset';
    case 'other':
      return describeObservation(o);
  }
}

/** The oracle's expectation in the same words. */
export function describeExpected(decision: Decision): string {
  switch (decision.outcome) {
    case 'allowed':
      return 'OK';
    case 'denied':
      return '403';
    case 'bad-request':
      return '400';
    case 'unauthenticated':
      return '401';
    case 'connection-reset':
      return 'reset';
    case 'handshake-failed':
      return 'handshake rejected';
    case 'not-supported':
      return 'not decidable';
  }
}

/** The `Hash=` (hex SHA-256 of the client certificate) of the last element of an x-forwarded-client-cert header: this hop's client. */
export function clientCertificateHash(xfcc: string | undefined): string | undefined {
  if (xfcc === undefined) return undefined;
  const hashes = [...xfcc.matchAll(/(?:^|[;,])\s*Hash=([0-9A-Fa-f]+)/g)].map((m) => m[1]!.toLowerCase());
  return hashes.at(-1);
}

function headerValue(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const found = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
  return found?.[1];
}
