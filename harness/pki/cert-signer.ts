/**
 * Signs certificates with one CA key: the X.509 shapes istiod produces, in one place.
 *
 * Workload leaves follow istio/istio security/pkg/pki/util/generate_cert.go
 * (genCertTemplateFromCSR): empty subject, a random 128-bit serial, notBefore backdated by
 * ClockSkewGracePeriod (2 min) for clock skew between CA and workloads, keyUsage
 * digitalSignature|keyEncipherment, extKeyUsage serverAuth+clientAuth, basicConstraints CA:FALSE,
 * and the identity as a URI SAN in a critical SubjectAltName extension (san.go). Go's x509 marks
 * basicConstraints and keyUsage critical and sets the authority key id from the issuer's subject
 * key id; we do the same, so openssl sees what it would see from istiod.
 */
import { randomBytes, type KeyObject, type webcrypto } from 'node:crypto';
import { signingParamsFor, spkiDer, type SigningParams } from './key-algorithm.ts';
import { x509 } from './x509.ts';

/** Istio's ClockSkewGracePeriod: leaves are valid from 2 minutes before they are signed. */
export const CLOCK_SKEW_GRACE_MS = 2 * 60_000;

export interface CertificateSpec {
  /** The key the certificate certifies. */
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Distinguished name, e.g. `O=cluster.local, CN=Root CA`; workload leaves have none. */
  readonly subject?: string;
  readonly uriSans?: readonly string[];
  readonly dnsSans?: readonly string[];
  /** Istio marks the SAN extension critical; the attacker kit may not. Default true. */
  readonly sanCritical?: boolean;
  /** A CA certificate: CA:TRUE, keyCertSign|cRLSign, a subject key id, no extKeyUsage. */
  readonly ca?: { readonly pathLength?: number };
}

export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  // A positive INTEGER in its shortest DER form: first byte 0x01..0x7f.
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export class CertSigner {
  /** The signing (issuing) certificate. */
  readonly cert: x509.X509Certificate;
  readonly #key: webcrypto.CryptoKey;
  readonly #params: SigningParams;
  readonly #keyId: string;

  private constructor(cert: x509.X509Certificate, key: webcrypto.CryptoKey, params: SigningParams, keyId: string) {
    this.cert = cert;
    this.#key = key;
    this.#params = params;
    this.#keyId = keyId;
  }

  /**
   * A signer for an existing CA certificate and its key. The caller has checked that they belong
   * together and that the key type is one signingParamsFor knows (see plugin-ca.ts).
   */
  static async create(certPem: string, privateKey: KeyObject): Promise<CertSigner> {
    const cert = new x509.X509Certificate(certPem);
    const params = requireParams(privateKey);
    const key = await privateKey.toCryptoKey(params.importParams, false, ['sign']);
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    const keyId = ski?.keyId ?? (await x509.SubjectKeyIdentifierExtension.create(spkiDer(privateKey))).keyId;
    return new CertSigner(cert, key, params, keyId);
  }

  /** A self-signed CA certificate (a root) for a fresh key pair. */
  static async selfSigned(privateKey: KeyObject, spec: CertificateSpec): Promise<CertSigner> {
    const params = requireParams(privateKey);
    const key = await privateKey.toCryptoKey(params.importParams, false, ['sign']);
    const keyId = (await x509.SubjectKeyIdentifierExtension.create(spkiDer(privateKey))).keyId;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialNumber(),
      subject: spec.subject ?? '',
      issuer: spec.subject ?? '',
      notBefore: spec.notBefore,
      notAfter: spec.notAfter,
      publicKey: spkiDer(spec.publicKey),
      signingKey: key,
      signingAlgorithm: params.signParams,
      extensions: extensionsFor(spec, keyId, undefined),
    });
    return new CertSigner(cert, key, params, keyId);
  }

  get certPem(): string {
    return this.cert.toString('pem');
  }

  /** Signs `spec` with this CA's key; returns the certificate's PEM. */
  async sign(spec: CertificateSpec): Promise<string> {
    const subjectKeyId = spec.ca === undefined ? undefined : (await x509.SubjectKeyIdentifierExtension.create(spkiDer(spec.publicKey))).keyId;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialNumber(),
      subject: spec.subject ?? '',
      issuer: this.cert.subjectName,
      notBefore: spec.notBefore,
      notAfter: spec.notAfter,
      publicKey: spkiDer(spec.publicKey),
      signingKey: this.#key,
      signingAlgorithm: this.#params.signParams,
      extensions: extensionsFor(spec, subjectKeyId, this.#keyId),
    });
    return `${cert.toString('pem')}\n`;
  }
}

function requireParams(privateKey: KeyObject): SigningParams {
  const params = signingParamsFor(privateKey);
  if (params === undefined) throw new TypeError(`cannot sign with a ${privateKey.asymmetricKeyType ?? 'unknown'} key`);
  return params;
}

function extensionsFor(spec: CertificateSpec, subjectKeyId: string | undefined, authorityKeyId: string | undefined): x509.Extension[] {
  const extensions: x509.Extension[] = [];
  if (spec.ca !== undefined) {
    extensions.push(new x509.BasicConstraintsExtension(true, spec.ca.pathLength, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true));
  } else {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true));
    extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false));
  }
  if (subjectKeyId !== undefined) extensions.push(new x509.SubjectKeyIdentifierExtension(subjectKeyId));
  if (authorityKeyId !== undefined) extensions.push(new x509.AuthorityKeyIdentifierExtension(authorityKeyId));
  const names = [...(spec.uriSans ?? []).map((value) => ({ type: 'url' as const, value })), ...(spec.dnsSans ?? []).map((value) => ({ type: 'dns' as const, value }))];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, spec.sanCritical ?? true));
  return extensions;
}
