/**
 * env.call, with the evidence made safe for the report.
 *
 * Workaround (tell the traffic module's owner): Node 24's X509Certificate.subject is undefined for
 * a certificate with an empty subject, which is what workload certificates have (the identity is
 * the URI SAN). The traffic layer copies it into PeerCertificate.subject (typed string), and the
 * report's evidence sanitizer then throws on it, which ends the whole run without a report. Until
 * the traffic layer fills in '', every call the security suites make goes through here.
 */
import type { CallEvidence, MeshCall, MeshEnvironment, Observation } from '../../harness/index.ts';

export async function callLive(env: MeshEnvironment, from: string, call: MeshCall): Promise<CallEvidence> {
  return withCertificateSubjects(await env.call(from, call));
}

/** The evidence with every presented certificate's subject a string (empty when the certificate has none). */
export function withCertificateSubjects(evidence: CallEvidence): CallEvidence {
  const tls = evidence.observation.tls;
  if (tls === undefined || tls.peerChain.every((c) => typeof c.subject === 'string' && typeof c.issuer === 'string')) return evidence;
  const observation: Observation = {
    ...evidence.observation,
    tls: { ...tls, peerChain: tls.peerChain.map((c) => ({ ...c, subject: c.subject ?? '', issuer: c.issuer ?? '' })) },
  };
  return { ...evidence, observation };
}
