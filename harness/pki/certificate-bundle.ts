/**
 * What a workload (or an attacker) holds: a chain, its key, and the roots it trusts, as PEM text.
 *
 * The key never leaves by accident: JSON.stringify and console.log/util.inspect show the
 * certificate by fingerprint and omit the key. Code that needs the key reads `keyPem` on purpose.
 */
import { inspect } from 'node:util';
import type { ClientTls } from '../traffic/types.ts';
import { fingerprint256, splitPemCertificates, summarizeCertificate } from './certificate-info.ts';

export interface CertificateBundleFields {
  /** Leaf first, then the intermediates up to (not including) the root: `cert-chain.pem`. */
  readonly certChainPem: string;
  /** PKCS#8 private key of the leaf: `key.pem`. */
  readonly keyPem: string;
  /** The roots the holder trusts: `root-cert.pem`. */
  readonly rootCertPem: string;
}

export class CertificateBundle implements CertificateBundleFields {
  readonly certChainPem: string;
  readonly keyPem: string;
  readonly rootCertPem: string;
  /** SHA-256 fingerprint of the leaf, `AB:CD:…`. */
  readonly fingerprint256: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** URI SANs of the leaf. */
  readonly uriSans: readonly string[];

  constructor(fields: CertificateBundleFields) {
    this.certChainPem = fields.certChainPem;
    this.keyPem = fields.keyPem;
    this.rootCertPem = fields.rootCertPem;
    const leaf = summarizeCertificate(fields.certChainPem);
    this.fingerprint256 = leaf.fingerprint256;
    this.serialNumber = leaf.serialNumber;
    this.notBefore = leaf.notBefore;
    this.notAfter = leaf.notAfter;
    this.uriSans = leaf.uriSans;
  }

  /** The leaf certificate alone. */
  get leafPem(): string {
    return splitPemCertificates(this.certChainPem)[0] ?? '';
  }

  /** Fingerprints of the chain, leaf first. */
  get chainFingerprints(): string[] {
    return splitPemCertificates(this.certChainPem).map(fingerprint256);
  }

  /** Client TLS for the traffic layer: present this chain and key, trust these roots. */
  clientTls(overrides: Partial<ClientTls> = {}): ClientTls {
    return { certChainPem: this.certChainPem, keyPem: this.keyPem, caPem: this.rootCertPem, ...overrides };
  }

  /** For reports and logs: names the certificate, never the key. */
  toJSON(): Record<string, unknown> {
    return {
      fingerprint256: this.fingerprint256,
      serialNumber: this.serialNumber,
      uriSans: this.uriSans,
      notBefore: this.notBefore.toISOString(),
      notAfter: this.notAfter.toISOString(),
      chain: this.chainFingerprints,
      rootFingerprints: splitPemCertificates(this.rootCertPem).map(fingerprint256),
    };
  }

  [inspect.custom](): string {
    return `${this.constructor.name} ${JSON.stringify(this.toJSON())}`;
  }
}
