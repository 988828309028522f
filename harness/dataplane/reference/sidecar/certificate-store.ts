/**
 * The sidecar's workload certificate, key and roots, as a TLS server context that follows the
 * files: when the PKI writes a new version (the `..data` switch), the next handshake uses it.
 * Connections already open keep theirs and are never dropped, as with Envoy's SDS updates. A new
 * version that does not load (key not matching the certificate, bad PEM) is refused and the old
 * one stays.
 */
import { X509Certificate } from 'node:crypto';
import { constants } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { readWorkloadFiles } from '../../../pki/workload-files.ts';
import type { SidecarMesh } from '../config.ts';

export interface LoadedCertificates {
  readonly context: SecureContext;
  readonly leaf: X509Certificate;
  /** First URI SAN of the leaf: this sidecar's identity (XFCC `By=`). */
  readonly localUri: string;
  readonly chainPem: string;
  readonly rootPem: string;
  readonly loadedAt: string;
}

export class CertificateStore {
  readonly dir: string;
  #tls: Pick<SidecarMesh, 'minTlsVersion' | 'cipherSuites'>;
  #current: LoadedCertificates;
  #loads = 1;

  private constructor(dir: string, tls: Pick<SidecarMesh, 'minTlsVersion' | 'cipherSuites'>, first: LoadedCertificates) {
    this.dir = dir;
    this.#tls = tls;
    this.#current = first;
  }

  static async load(dir: string, tls: Pick<SidecarMesh, 'minTlsVersion' | 'cipherSuites'>): Promise<CertificateStore> {
    return new CertificateStore(dir, tls, await loadFrom(dir, tls));
  }

  get current(): LoadedCertificates {
    return this.#current;
  }

  /**
   * New TLS settings (floor, cipher suites) for the next handshakes, with the same certificate;
   * connections already open keep theirs. Resolves false when nothing changed.
   */
  async retune(tls: Pick<SidecarMesh, 'minTlsVersion' | 'cipherSuites'>): Promise<boolean> {
    if (tls.minTlsVersion === this.#tls.minTlsVersion && tls.cipherSuites.join(':') === this.#tls.cipherSuites.join(':')) return false;
    const next = build(await readWorkloadFiles(this.dir), tls);
    this.#tls = tls;
    this.#current = next;
    return true;
  }

  /** How many versions have been loaded (1 after start). */
  get loads(): number {
    return this.#loads;
  }

  /**
   * Reads the files again. Resolves true when a new certificate was loaded, false when nothing
   * changed; rejects (keeping the current one) when the new files do not load.
   */
  async reload(): Promise<boolean> {
    const files = await readWorkloadFiles(this.dir);
    const c = this.#current;
    if (files.certChainPem === c.chainPem && files.rootCertPem === c.rootPem) return false;
    this.#current = build(files, this.#tls);
    this.#loads += 1;
    return true;
  }
}

/** BoringSSL's TLS 1.3 cipher suites in its order of preference (with AES hardware). */
const TLS13_SUITES_AS_ENVOY = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;

const OLD_VERSIONS: ReadonlySet<string> = new Set(['TLSv1', 'TLSv1.1']);

async function loadFrom(dir: string, tls: Pick<SidecarMesh, 'minTlsVersion' | 'cipherSuites'>): Promise<LoadedCertificates> {
  return build(await readWorkloadFiles(dir), tls);
}

function build(files: { certChainPem: string; keyPem: string; rootCertPem: string }, tls: Pick<SidecarMesh, 'minTlsVersion' | 'cipherSuites'>): LoadedCertificates {
  // createSecureContext refuses a key that does not belong to the certificate.
  const context = createSecureContext({
    cert: files.certChainPem,
    key: files.keyPem,
    ca: files.rootCertPem,
    minVersion: tls.minTlsVersion,
    maxVersion: 'TLSv1.3',
    // Istio's suites for TLS ≤ 1.2; for TLS 1.3 Envoy's (BoringSSL's) order, which prefers AES-128
    // where OpenSSL's default prefers AES-256: both sidecars then negotiate the same suite.
    // OpenSSL 3 refuses TLS 1.0 and 1.1 at its default security level: a floor below 1.2 lowers it.
    ciphers: [...TLS13_SUITES_AS_ENVOY, ...tls.cipherSuites, ...(OLD_VERSIONS.has(tls.minTlsVersion) ? ['@SECLEVEL=0'] : [])].join(':'),
    // No session resumption: every connection presents (and has verified) its certificate.
    secureOptions: constants.SSL_OP_NO_TICKET,
  });
  const leaf = new X509Certificate(files.certChainPem);
  const localUri = uriSans(leaf)[0] ?? '';
  return { context, leaf, localUri, chainPem: files.certChainPem, rootPem: files.rootCertPem, loadedAt: new Date().toISOString() };
}

/** URI SANs of a certificate, in order. */
export function uriSans(cert: X509Certificate): string[] {
  return sans(cert, 'URI:');
}

export function dnsSans(cert: X509Certificate): string[] {
  return sans(cert, 'DNS:');
}

function sans(cert: X509Certificate, prefix: string): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith(prefix))
    .map((entry) => entry.slice(prefix.length));
}
