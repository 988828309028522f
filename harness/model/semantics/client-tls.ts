/**
 * A DestinationRule's client TLS settings, as Istio validates them (agent/validation.go ValidateTLS).
 */
import type { ClientTlsSettings } from '../resources.ts';
import type { FieldPath } from '../source-map.ts';
import type { IssueCollector } from './checks.ts';

const CONFIGMAP_URI = 'configmap://';

const set = (v: string | undefined): boolean => v !== undefined && v !== null && v !== '';

export function validateClientTls(c: IssueCollector, at: FieldPath, namespace: string, tls: ClientTlsSettings | undefined): void {
  if (tls === undefined || tls === null) return;
  const credential = tls.credentialName;
  if (credential !== undefined && credential.startsWith(CONFIGMAP_URI)) {
    const [ns, name] = credential.slice(CONFIGMAP_URI.length).split('/');
    const where = [...at, 'credentialName'];
    if (name === undefined) c.error(where, `invalid configmap:// credentialName: invalid resource name ${JSON.stringify(credential)}. Expected namespace and name`);
    else if (ns === '') c.error(where, `invalid configmap:// credentialName: invalid resource name ${JSON.stringify(credential)}. Expected namespace`);
    else if (name === '') c.error(where, `invalid configmap:// credentialName: invalid resource name ${JSON.stringify(credential)}. Expected name`);
    else if (ns !== namespace) c.error(where, `invalid configmap:// credentialName: namespace must match the configuration namespace ${JSON.stringify(namespace)}`);
  }
  if (tls.insecureSkipVerify === true) {
    const where = [...at, 'insecureSkipVerify'];
    // SIMPLE can take the CA from caCertificates or credentialName; MUTUAL's credentialName may hold only the client cert.
    if (tls.mode === 'SIMPLE' && (set(tls.caCertificates) || set(credential) || tls.subjectAltNames !== undefined)) {
      c.error(where, 'cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true', 'insecureSkipVerify turns verification off: drop the CA and SANs, or drop insecureSkipVerify');
    }
    if (tls.mode === 'MUTUAL' && (set(tls.caCertificates) || tls.subjectAltNames !== undefined)) {
      c.error(where, 'cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true', 'insecureSkipVerify turns verification off: drop the CA and SANs, or drop insecureSkipVerify');
    }
  }
  if ((tls.mode === 'SIMPLE' || tls.mode === 'MUTUAL') && set(credential)) {
    if (set(tls.clientCertificate) || set(tls.caCertificates) || set(tls.privateKey) || set(tls.caCrl)) {
      c.error([...at, 'credentialName'], 'cannot specify client certificates or CA certificate or CA CRL If credentialName is set');
    }
    return;
  }
  if (tls.mode === 'MUTUAL') {
    if (!set(tls.clientCertificate)) c.error([...at, 'clientCertificate'], 'client certificate required for mutual tls');
    if (!set(tls.privateKey)) c.error([...at, 'privateKey'], 'private key required for mutual tls');
  }
}
