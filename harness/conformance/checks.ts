/**
 * Checks: small pure functions from evidence to an error (or undefined when the check holds),
 * in the manner of Istio's echo `check` package. Combine them with and()/or(); turn a failed one
 * into a test failure only through expectCall() (expect-call.ts), which adds the call's context.
 *
 * Each message says what was expected and what was found.
 */
import type { EchoReport, Observation } from '../traffic/types.ts';
import { describeObservation, type CallEvidence } from '../traffic/evidence.ts';

export type Check = (evidence: CallEvidence) => Error | undefined;

/** The body Envoy's RBAC filter sends with a 403 (19 bytes). */
export const RBAC_DENIED_BODY = 'RBAC: access denied';

const fail = (message: string): Error => new Error(message);

export function status(code: number): Check {
  return ({ observation }) =>
    observation.outcome === 'response' && observation.status === code ? undefined : fail(`expected status ${code}, got ${describeObservation(observation)}`);
}

/** The request reached the app: 200 with the echo app's answer. */
export function allowed(): Check {
  return ({ observation }) => {
    if (observation.outcome !== 'response' || observation.status !== 200) return fail(`expected allowed (200 from the app), got ${describeObservation(observation)}`);
    if (observation.echo === undefined) return fail('expected allowed (200 from the app), got a 200 that the echo app did not write');
    return undefined;
  };
}

/**
 * The one definition of "denied by RBAC" as a client sees it: 403 with Envoy's RBAC body, or with
 * no body when the request was HEAD (a response to HEAD has none, so the body cannot be there to see).
 */
export function isRbacDenial(observation: Observation): boolean {
  if (observation.outcome !== 'response' || observation.status !== 403) return false;
  const head = (observation.request.method ?? 'GET').toUpperCase() === 'HEAD';
  return observation.body === RBAC_DENIED_BODY || (head && (observation.body ?? '') === '');
}

/** Denied by authorization: isRbacDenial. */
export function denied403(): Check {
  return ({ observation }) => {
    if (observation.outcome !== 'response' || observation.status !== 403) return fail(`expected denied (403 ${RBAC_DENIED_BODY}), got ${describeObservation(observation)}`);
    if (!isRbacDenial(observation)) return fail(`expected body '${RBAC_DENIED_BODY}' with the 403, got '${(observation.body ?? '').slice(0, 80)}'`);
    return undefined;
  };
}

/** The connection was closed or reset with no response (plaintext on a STRICT port). */
export function reset(): Check {
  return ({ observation }) => (observation.outcome === 'reset' ? undefined : fail(`expected the connection reset with no response, got ${describeObservation(observation)}`));
}

/**
 * A raw TCP probe's connection was closed (or reset) before the peer sent a single byte: no
 * filter chain took it. An HTTP answer (`HTTP/1.1 400`, `426 Upgrade Required`) means the bytes
 * reached an HTTP stack; a connection held open means something is still waiting to read them.
 */
export function closedWithNoBytes(): Check {
  return ({ observation }) => {
    if (observation.outcome === 'reset') return undefined;
    if (observation.outcome === 'connected' && observation.body !== undefined && observation.body.length > 0) {
      const first = observation.body.split('\r\n', 1)[0]!.slice(0, 80);
      return fail(`expected the connection closed with no byte of answer, the peer answered '${first}'${/^HTTP\//.test(first) ? ': plaintext reached an HTTP stack' : ''}`);
    }
    if (observation.outcome === 'timeout') return fail(`expected the connection closed with no byte of answer, it stayed open with no answer for ${observation.durationMs} ms`);
    return fail(`expected the connection closed with no byte of answer, got ${describeObservation(observation)}`);
  };
}

export function refused(): Check {
  return ({ observation }) => (observation.outcome === 'refused' ? undefined : fail(`expected the connection refused, got ${describeObservation(observation)}`));
}

export function timedOut(): Check {
  return ({ observation }) => (observation.outcome === 'timeout' ? undefined : fail(`expected no answer (timeout), got ${describeObservation(observation)}`));
}

/** The TLS handshake failed; with a pattern, the alert or reason must match it. */
export function tlsAlert(pattern?: RegExp): Check {
  return ({ observation }) => {
    if (observation.outcome !== 'tls-error') return fail(`expected the TLS handshake rejected${pattern === undefined ? '' : ` (${pattern.source})`}, got ${describeObservation(observation)}`);
    const reason = observation.tls?.alert ?? observation.error?.message ?? '';
    if (pattern !== undefined && !pattern.test(reason)) return fail(`expected a TLS alert matching /${pattern.source}/, got '${reason}'`);
    return undefined;
  };
}

/** The call never produced an HTTP response: a handshake failure or a reset, whichever the TLS stack reports. */
export function rejectedBeforeHttp(): Check {
  return or(tlsAlert(), reset());
}

/** Answered by one of these pods. */
export function servedBy(...pods: readonly string[]): Check {
  return ({ observation }) => {
    const pod = observation.echo?.pod;
    return pod !== undefined && pods.includes(pod) ? undefined : fail(`expected an answer from ${pods.join(' or ')}, got ${pod === undefined ? describeObservation(observation) : `one from ${pod}`}`);
  };
}

/** The app was told (x-forwarded-client-cert) that the caller is this SPIFFE id; undefined = no identity. */
export function peerIdentity(expected: string | undefined): Check {
  return ({ observation }) => {
    if (observation.echo === undefined) return fail(`expected the app to report peer identity ${expected ?? '(none)'}, got ${describeObservation(observation)}`);
    const seen = observation.echo.peerIdentity;
    return seen === expected ? undefined : fail(`expected peer identity ${expected ?? '(none)'}, the app saw ${seen ?? '(none)'}`);
  };
}

/** The server's certificate named this identity (what secure naming verifies). */
export function serverIdentity(expected: string): Check {
  return ({ observation }) => {
    const uris = observation.tls?.peerChain[0]?.uriSans ?? [];
    return uris.includes(expected) ? undefined : fail(`expected the server certificate to name ${expected}, it named [${uris.join(', ') || 'nothing'}]`);
  };
}

/** The app behind the sidecar received nothing during the call. Fails when the server end was not observed. */
export function appNeverSaw(): Check {
  return ({ serverSaw }) => {
    if (serverSaw === undefined) return fail('expected the app to have received nothing, but its end was not observed');
    return serverSaw.length === 0 ? undefined : fail(`expected the app to have received nothing, it received ${serverSaw.map(describeReport).join(', ')}`);
  };
}

/**
 * No x-forwarded-client-cert the app received names this identity: a header a client wrote
 * itself never reaches the app as if a sidecar had vouched for it.
 */
export function xfccNeverNames(identity: string): Check {
  return ({ serverSaw }) => {
    if (serverSaw === undefined) return fail(`expected the app's records to name no ${identity} in x-forwarded-client-cert, but its end was not observed`);
    const naming = serverSaw.map((r) => r.headers['x-forwarded-client-cert']).filter((x): x is string => x !== undefined && x.includes(identity));
    return naming.length === 0 ? undefined : fail(`expected no x-forwarded-client-cert naming ${identity} to reach the app, it received '${naming[0]!.slice(0, 300)}'`);
  };
}

/** The app received the request, with this path (as the app saw it, after normalization). */
export function appSaw(path?: string): Check {
  return ({ serverSaw }) => {
    if (serverSaw === undefined) return fail(`expected the app to have received ${path ?? 'the request'}, but its end was not observed`);
    if (serverSaw.length === 0) return fail(`expected the app to have received ${path ?? 'the request'}, it received nothing`);
    if (path !== undefined && !serverSaw.some((r) => r.path === path)) return fail(`expected the app to have received ${path}, it received ${serverSaw.map(describeReport).join(', ')}`);
    return undefined;
  };
}

/** Some access-log line of the call carries this response flag (`UO`, `UH`, `NR`, …). */
export function responseFlag(flag: string): Check {
  return ({ accessLog }) => {
    if (accessLog === undefined || accessLog.length === 0) return fail(`expected response flag ${flag}, but no access-log line was captured`);
    const flags = accessLog.map((line) => line.responseFlags);
    return flags.some((f) => f.split(',').includes(flag)) ? undefined : fail(`expected response flag ${flag}, the access log shows [${flags.join(' | ')}]`);
  };
}

export function header(name: string, value: string): Check {
  return ({ observation }) => {
    const seen = observation.headers?.[name.toLowerCase()];
    return seen === value ? undefined : fail(`expected response header ${name}: ${value}, got ${seen === undefined ? 'none' : `'${seen}'`}`);
  };
}

export function bodyContains(text: string): Check {
  return ({ observation }) => ((observation.body ?? '').includes(text) ? undefined : fail(`expected the body to contain '${text}', got '${(observation.body ?? '').slice(0, 80)}'`));
}

/** Every check must hold; reports every failure, not only the first. */
export function and(...checks: readonly Check[]): Check {
  return (evidence) => {
    const errors = checks.map((check) => check(evidence)).filter((e): e is Error => e !== undefined);
    return errors.length === 0 ? undefined : fail(errors.map((e) => e.message).join('; and '));
  };
}

/** At least one check must hold; when none does, says why each failed. */
export function or(...checks: readonly Check[]): Check {
  return (evidence) => {
    const errors: Error[] = [];
    for (const check of checks) {
      const error = check(evidence);
      if (error === undefined) return undefined;
      errors.push(error);
    }
    return fail(`none held: ${errors.map((e) => e.message).join('; or ')}`);
  };
}

function describeReport(report: EchoReport): string {
  return `${report.method} ${report.path}`;
}
