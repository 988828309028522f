/**
 * Turns a call's evidence (CallEvidence, which holds PEM text and possibly keys) into what the
 * report shows (EvidenceReport), with no secrets:
 *   - certificates appear by SHA-256 fingerprint, subject, URI SANs and expiry, never as PEM;
 *   - private keys, CA bundles and client chains in the request's TLS options are dropped;
 *   - every string that reaches the report (bodies, headers, error messages, log fields) is
 *     scrubbed of PEM blocks, plain or URL-encoded (as in x-forwarded-client-cert `Cert="…"`),
 *     including blocks a truncation cut short;
 *   - credential headers (authorization, cookie, …) keep their scheme and lose their value.
 * Bodies are cut to their first 2 KiB after scrubbing, so a cut never leaves half a PEM block.
 */
import { createHash } from 'node:crypto';
import type { CallEvidence } from '../traffic/evidence.ts';
import { inspectCertificate } from '../pki/certificate-info.ts';
import type { AccessLogEntry, ClientTls, PeerCertificate } from '../traffic/types.ts';
import type { CertificateRef, EvidenceReport } from './schema.ts';

export const BODY_LIMIT = 2048;

/** Headers whose values are credentials. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);

/** A PEM block, or its start when the text ends before `-----END`. */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]{1,64})-----[\s\S]*?(?:-----END \1-----|$)/g;
/** The same, URL-encoded (spaces as %20 or +, newlines as %0A). */
const PEM_BLOCK_URLENCODED = /-----BEGIN(?:%20|\+)([A-Z0-9%+]{1,96})-----[\s\S]*?(?:-----END(?:%20|\+)\1-----|$)/gi;

/** Replaces PEM blocks (plain or URL-encoded) with a marker naming what was removed. */
export function scrubPem(text: string): string {
  if (!text.includes('-----BEGIN')) return text;
  return text
    .replace(PEM_BLOCK, (_m, label: string) => `[${label.toLowerCase()} removed from the report]`)
    .replace(PEM_BLOCK_URLENCODED, (_m, label: string) => `[${decodeURIComponent(label.replace(/\+/g, ' ')).toLowerCase()} removed from the report]`);
}

function scrubHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (CREDENTIAL_HEADERS.has(name.toLowerCase())) {
      const scheme = /^([A-Za-z][A-Za-z0-9-]*) /.exec(value)?.[1];
      out[name] = `${scheme === undefined ? '' : `${scheme} `}[credential removed from the report, ${value.length} characters]`;
    } else {
      out[name] = scrubPem(value);
    }
  }
  return out;
}

export function certificateRefOfPeer(cert: PeerCertificate): CertificateRef {
  return { fingerprint256: cert.fingerprint256, subject: scrubPem(cert.subject), uriSans: cert.uriSans.map(scrubPem), validTo: cert.validTo };
}

/** The client certificate of a call's TLS options, by fingerprint; the key and CA are never read. */
export function clientCertificateRef(tls: ClientTls | undefined): CertificateRef | undefined {
  const chain = tls?.certChainPem;
  if (chain === undefined) return undefined;
  try {
    const info = inspectCertificate(chain);
    return { fingerprint256: info.fingerprint256, subject: info.subject, uriSans: info.uriSans, validTo: info.notAfter.toISOString() };
  } catch (error) {
    // Attacker-kit material may be deliberately malformed: name it by a hash of its text.
    const digest = createHash('sha256').update(chain).digest('hex').toUpperCase().match(/../g)?.join(':') ?? '';
    return { fingerprint256: digest, subject: `(not a parseable certificate: ${scrubPem(error instanceof Error ? error.message : String(error))})`, uriSans: [] };
  }
}

function tlsVersions(tls: ClientTls | undefined): string | undefined {
  if (tls?.minVersion === undefined && tls?.maxVersion === undefined) return undefined;
  return `${tls.minVersion ?? 'any'}–${tls.maxVersion ?? 'any'}`;
}

/**
 * The fields of AccessLogEntry: what report.schema.json describes. A proxy's log line may carry
 * more (Envoy's upstreamCluster, connectionTerminationDetails, …); the report keeps its own shape.
 */
const ACCESS_LOG_FIELDS: ReadonlySet<string> = new Set<keyof AccessLogEntry>([
  'time', 'direction', 'pod', 'downstreamAddress', 'downstreamPrincipal', 'method', 'path', 'authority', 'status', 'responseFlags', 'responseCodeDetails', 'upstreamHost', 'connectionSecurity', 'auditHint', 'durationMs',
]);

function scrubAccessLog(entry: AccessLogEntry): AccessLogEntry {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) if (ACCESS_LOG_FIELDS.has(key)) out[key] = typeof value === 'string' ? scrubPem(value) : value;
  return out as unknown as AccessLogEntry;
}

function truncateBody(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  const clean = scrubPem(body);
  return clean.length <= BODY_LIMIT ? clean : `${clean.slice(0, BODY_LIMIT)}… [${clean.length - BODY_LIMIT} more characters]`;
}

export function sanitizeEvidence(evidence: CallEvidence): EvidenceReport {
  const { observation } = evidence;
  const request = observation.request;
  const clientCertificate = clientCertificateRef(request.tls);
  const versions = tlsVersions(request.tls);
  const requestHeaders = scrubHeaders(request.headers);
  const responseHeaders = scrubHeaders(observation.headers);
  const body = truncateBody(observation.body);
  const tls = observation.tls;
  return {
    label: scrubPem(evidence.label),
    from: scrubPem(evidence.from),
    to: scrubPem(evidence.to),
    request: {
      protocol: request.protocol,
      host: request.host,
      port: request.port,
      ...(request.method === undefined ? {} : { method: scrubPem(request.method) }),
      ...(request.path === undefined ? {} : { path: scrubPem(request.path) }),
      ...(requestHeaders === undefined ? {} : { headers: requestHeaders }),
      ...(clientCertificate === undefined ? {} : { clientCertificate }),
      ...(versions === undefined ? {} : { tlsVersions: versions }),
    },
    client: {
      outcome: observation.outcome,
      ...(observation.status === undefined ? {} : { status: observation.status }),
      ...(responseHeaders === undefined ? {} : { headers: responseHeaders }),
      ...(body === undefined ? {} : { body }),
      ...(observation.error === undefined ? {} : { error: { code: scrubPem(observation.error.code), message: scrubPem(observation.error.message) } }),
      ...(tls === undefined
        ? {}
        : {
            tls: {
              ...(tls.protocol === undefined ? {} : { protocol: tls.protocol }),
              ...(tls.cipher === undefined ? {} : { cipher: tls.cipher }),
              ...(tls.alert === undefined ? {} : { alert: scrubPem(tls.alert) }),
              serverChain: tls.peerChain.map(certificateRefOfPeer),
            },
          }),
      durationMs: observation.durationMs,
    },
    server: {
      observed: evidence.serverSaw !== undefined,
      received: (evidence.serverSaw ?? []).map((r) => ({
        pod: r.pod,
        method: scrubPem(r.method),
        path: scrubPem(r.path),
        ...(r.peerIdentity === undefined ? {} : { peerIdentity: scrubPem(r.peerIdentity) }),
      })),
    },
    accessLog: (evidence.accessLog ?? []).map(scrubAccessLog),
  };
}
