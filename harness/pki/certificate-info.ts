/**
 * What a certificate says, read in-process: identities, validity, CA flags, fingerprint.
 *
 * Reports name certificates by SHA-256 fingerprint in node:tls's format (`AB:CD:…`), the same
 * string the traffic layer records for a peer's certificate, so the two can be matched.
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { x509 } from './x509.ts';

export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  /** Hexadecimal, as @peculiar/x509 and openssl print it. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** Whether the SubjectAltName extension is marked critical (Istio marks it so); undefined without one. */
  readonly sanCritical: boolean | undefined;
  /** basicConstraints CA:TRUE. */
  readonly isCa: boolean;
  /** keyUsage names (`digitalSignature`, `keyCertSign`, …); empty without the extension. */
  readonly keyUsages: readonly string[];
  /** extendedKeyUsage OIDs, e.g. 1.3.6.1.5.5.7.3.1 (serverAuth). */
  readonly extendedKeyUsages: readonly string[];
  readonly selfSigned: boolean;
  readonly fingerprint256: string;
}

export const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The CERTIFICATE blocks of a PEM text, in order, each ending with a newline. */
export function splitPemCertificates(pem: string): string[] {
  return [...pem.matchAll(PEM_CERTIFICATE)].map((m) => `${m[0]}\n`);
}

/**
 * The few fields the hot path needs (issuing, reports), read by node:crypto's native parser:
 * several times faster than inspectCertificate, which parses every extension in JavaScript.
 */
export interface CertificateSummary {
  readonly fingerprint256: string;
  /** Lower-case hexadecimal, as inspectCertificate gives it. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly uriSans: readonly string[];
}

export function summarizeCertificate(pem: string): CertificateSummary {
  const cert = new NodeX509Certificate(pem);
  return {
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.validFromDate,
    notAfter: cert.validToDate,
    uriSans: uriSansOf(cert.subjectAltName),
  };
}

/** URI entries of node:crypto's subjectAltName text (`URI:spiffe://…, DNS:…`; quoted when escaped). */
function uriSansOf(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined) return [];
  const entries = subjectAltName.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
  return entries
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4))
    .map((value) => (value.startsWith('"') ? (JSON.parse(value) as string) : value));
}

/** SHA-256 fingerprint of the first certificate in `pem`, `AB:CD:…` as node:tls prints it. */
export function fingerprint256(pem: string): string {
  return new NodeX509Certificate(pem).fingerprint256;
}

const KEY_USAGE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
];

/** Reads the first certificate of `pem`. Throws the parser's error on text that is not a certificate. */
export function inspectCertificate(pem: string): CertificateInfo {
  const first = splitPemCertificates(pem)[0] ?? pem;
  const cert = new x509.X509Certificate(first);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    uriSans: names.filter((n) => n.type === 'url').map((n) => n.value),
    dnsSans: names.filter((n) => n.type === 'dns').map((n) => n.value),
    sanCritical: san?.critical,
    isCa: basic?.ca ?? false,
    keyUsages: keyUsage === null ? [] : KEY_USAGE_NAMES.filter(([flag]) => (keyUsage.usages & flag) !== 0).map(([, name]) => name),
    extendedKeyUsages: eku === null ? [] : eku.usages.map(String),
    selfSigned: cert.subject === cert.issuer,
    fingerprint256: new NodeX509Certificate(first).fingerprint256,
  };
}
