/**
 * The mesh CA: a root and an intermediate that sign workload certificates the way istiod does.
 *
 * It is created per run (MeshCa.create) or loaded from Istio's plug-in CA files (MeshCa.load), and
 * works in-process: no openssl, no subprocess. Workloads get certificates through the CSR flow
 * (sign): the agent sends a CSR and its service-account credential; the CA checks the credential,
 * checks that the CSR asks for exactly the identity the credential names, and signs that identity.
 *
 * Reading chosen [derived]: current istiod signs the identities of the authenticated caller and
 * does not look at the CSR's SANs (genCertTemplateFromCSR takes subjectIDs from the caller). The
 * issue for this module asks the CA to refuse a CSR whose SAN differs from the credential, as
 * earlier Citadel did; we refuse such a CSR and, as istiod does, put only the credential's
 * identity into the certificate.
 */
import { X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { publish } from '../events.ts';
import { CLOCK_SKEW_GRACE_MS, CertSigner } from './cert-signer.ts';
import { inspectCertificate, summarizeCertificate } from './certificate-info.ts';
import { createCsr, parseCsr } from './csr.ts';
import { formatDuration } from '../model/duration.ts';
import { DEFAULT_KEY_ALGORITHM, generateKeyPair, privateKeyPem, type KeyAlgorithm } from './key-algorithm.ts';
import { readPluginCa, writePluginCa } from './plugin-ca.ts';
import { ServiceAccountTokens } from './service-account-token.ts';
import { DEFAULT_TRUST_DOMAIN } from '../model/mesh-config.ts';
import { formatRef, spiffeUri, validateIdentity, type SpiffeIdentity, type WorkloadRef } from './spiffe.ts';
import { WorkloadCredentials } from './workload-credentials.ts';
import './pki-events.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Istio's DEFAULT_WORKLOAD_CERT_TTL and MAX_WORKLOAD_CERT_TTL. */
export const DEFAULT_WORKLOAD_TTL_MS = 24 * HOUR;
export const MAX_WORKLOAD_TTL_MS = 90 * DAY;
/** Istio's CITADEL_SELF_SIGNED_CA_CERT_TTL (3650d) for the root; Istio's Makefile gives intermediates 730d. */
export const DEFAULT_ROOT_TTL_MS = 3650 * DAY;
export const DEFAULT_INTERMEDIATE_TTL_MS = 730 * DAY;

export interface MeshCaSettings {
  /** meshConfig.trustDomain; the plug-in files do not record it, as in Istio. Default `cluster.local`. */
  readonly trustDomain?: string;
  /** Workload certificate lifetime when a request names none. Default 24h. */
  readonly defaultWorkloadTtlMs?: number;
  /** Longest lifetime a request may ask for. Default 90 days. */
  readonly maxWorkloadTtlMs?: number;
  /** Key algorithm for workload keys made by issue(). Default ecdsa-p256. */
  readonly workloadKeyAlgorithm?: KeyAlgorithm;
  /** The CA's clock (tests). Default Date.now. */
  readonly now?: () => number;
}

export interface CreateMeshCaOptions extends MeshCaSettings {
  /** Key algorithm of the root and intermediate. Default ecdsa-p256. */
  readonly caKeyAlgorithm?: KeyAlgorithm;
  readonly rootTtlMs?: number;
  readonly intermediateTtlMs?: number;
  /** Subject names; default `CN=Root CA, O=<trust domain>` and `CN=Intermediate CA, O=<trust domain>`. */
  readonly rootSubject?: string;
  readonly intermediateSubject?: string;
}

/** What an agent sends the CA. */
export interface SignRequest {
  /** PEM PKCS#10 request whose URI SAN is the identity asked for. */
  readonly csrPem: string;
  /** The service-account credential (mintCredential). */
  readonly credential: string;
  /** Requested lifetime; default the CA's defaultWorkloadTtlMs. */
  readonly ttlMs?: number;
}

export interface SignedCertificate {
  readonly identity: SpiffeIdentity;
  /** Leaf, then intermediates. */
  readonly certChainPem: string;
  readonly rootCertPem: string;
}

export interface IssueOptions {
  readonly ttlMs?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
}

/** The CA's signer and clock, for the attacker kit only (not exported from harness/index.ts). */
export interface CaInternals {
  readonly signer: CertSigner;
  readonly now: () => number;
}
const internals = new WeakMap<MeshCa, CaInternals>();
export function caInternals(ca: MeshCa): CaInternals {
  return internals.get(ca)!;
}

export class MeshCa {
  readonly trustDomain: string;
  /** root-cert.pem: the root(s) workloads trust. */
  readonly rootCertPem: string;
  /** ca-cert.pem: the signing certificate. */
  readonly caCertPem: string;
  /** cert-chain.pem: the signing certificate's chain up to and including the root. */
  readonly certChainPem: string;
  /** The intermediates a workload presents after its leaf (cert-chain.pem without roots). */
  readonly intermediatesPem: string;
  readonly defaultWorkloadTtlMs: number;
  readonly maxWorkloadTtlMs: number;
  readonly workloadKeyAlgorithm: KeyAlgorithm;
  readonly #caKeyPem: string;
  readonly #signer: CertSigner;
  readonly #tokens: ServiceAccountTokens;
  readonly #now: () => number;

  private constructor(signer: CertSigner, caKey: KeyObject, chain: readonly string[], roots: readonly string[], settings: MeshCaSettings) {
    this.trustDomain = settings.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    validateIdentity({ trustDomain: this.trustDomain, namespace: 'default', serviceAccount: 'default' }, 'trust domain');
    this.#now = settings.now ?? Date.now;
    this.#signer = signer;
    this.#caKeyPem = privateKeyPem(caKey);
    this.#tokens = new ServiceAccountTokens(this.#now);
    this.rootCertPem = roots.join('');
    this.caCertPem = chain[0]!;
    this.certChainPem = chain.join('');
    const rootPrints = new Set(roots.map((r) => new NodeX509Certificate(r).fingerprint256));
    this.intermediatesPem = chain.filter((pem) => !rootPrints.has(new NodeX509Certificate(pem).fingerprint256) && !inspectCertificate(pem).selfSigned).join('');
    this.defaultWorkloadTtlMs = settings.defaultWorkloadTtlMs ?? DEFAULT_WORKLOAD_TTL_MS;
    this.maxWorkloadTtlMs = settings.maxWorkloadTtlMs ?? MAX_WORKLOAD_TTL_MS;
    this.workloadKeyAlgorithm = settings.workloadKeyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
    internals.set(this, { signer, now: this.#now });
  }

  /** A fresh root and intermediate (intermediate pathLen 0), for one run. The root key is not kept. */
  static async create(options: CreateMeshCaOptions = {}): Promise<MeshCa> {
    const now = options.now ?? Date.now;
    const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    const algorithm = options.caKeyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
    const start = new Date(now() - CLOCK_SKEW_GRACE_MS);
    const rootKeys = await generateKeyPair(algorithm);
    const root = await CertSigner.selfSigned(rootKeys.privateKey, {
      publicKey: rootKeys.publicKey,
      subject: options.rootSubject ?? `CN=Root CA, O=${trustDomain}`,
      notBefore: start,
      notAfter: new Date(now() + (options.rootTtlMs ?? DEFAULT_ROOT_TTL_MS)),
      ca: {},
    });
    const intermediateKeys = await generateKeyPair(algorithm);
    const intermediatePem = await root.sign({
      publicKey: intermediateKeys.publicKey,
      subject: options.intermediateSubject ?? `CN=Intermediate CA, O=${trustDomain}`,
      notBefore: start,
      notAfter: new Date(now() + (options.intermediateTtlMs ?? DEFAULT_INTERMEDIATE_TTL_MS)),
      ca: { pathLength: 0 },
    });
    const signer = await CertSigner.create(intermediatePem, intermediateKeys.privateKey);
    const rootPem = `${root.certPem}\n`;
    return new MeshCa(signer, intermediateKeys.privateKey, [intermediatePem, rootPem], [rootPem], { ...options, trustDomain });
  }

  /**
   * Loads Istio plug-in CA files from `dir` (root-cert.pem, ca-cert.pem, ca-key.pem,
   * cert-chain.pem). Throws MESHPROOF_ERR_PKI_INVALID naming the file when one is missing,
   * unreadable, expired, not a CA, or when the key does not belong to ca-cert.pem.
   */
  static async load(dir: string, settings: MeshCaSettings = {}): Promise<MeshCa> {
    const material = await readPluginCa(dir, new Date((settings.now ?? Date.now)()));
    const signer = await CertSigner.create(material.caCertPem, material.caKey);
    return new MeshCa(signer, material.caKey, material.certChain, material.roots, settings);
  }

  /** Writes the plug-in CA files into `dir` (ca-key.pem with mode 0600), loadable by MeshCa.load or istiod. */
  async writePluginFiles(dir: string): Promise<void> {
    await writePluginCa(dir, { rootCertPem: this.rootCertPem, caCertPem: this.caCertPem, caKeyPem: this.#caKeyPem, certChainPem: this.certChainPem });
  }

  /** The full identity of `ref` in this mesh; throws MESHPROOF_ERR_BAD_ARGUMENT for invalid names. */
  identityOf(ref: WorkloadRef): SpiffeIdentity {
    return validateIdentity({ trustDomain: this.trustDomain, namespace: ref.namespace, serviceAccount: ref.serviceAccount });
  }

  /** `spiffe://<trust domain>/ns/<ns>/sa/<sa>`. */
  spiffeUriOf(ref: WorkloadRef): string {
    return spiffeUri(this.identityOf(ref));
  }

  /** SHA-256 fingerprint of the (first) root. */
  get rootFingerprint256(): string {
    return new NodeX509Certificate(this.rootCertPem).fingerprint256;
  }

  /** A service-account credential for `ref`, as the kubelet would project for a pod running as it. */
  async mintCredential(ref: WorkloadRef, ttlMs?: number): Promise<string> {
    this.identityOf(ref);
    return this.#tokens.mint({ namespace: ref.namespace, serviceAccount: ref.serviceAccount }, ttlMs);
  }

  /**
   * Signs a workload CSR. Throws MESHPROOF_ERR_CSR_REJECTED when the credential is not valid, the
   * CSR's signature does not verify, the CSR asks for any identity other than the one the credential
   * names, or the lifetime asked for is longer than the CA allows.
   */
  async sign(request: SignRequest): Promise<SignedCertificate> {
    const ref = await this.#tokens.verify(request.credential);
    const identity = this.identityOf(ref);
    const granted = spiffeUri(identity);
    const csr = await parseCsr(request.csrPem);
    const asked = [...csr.uriSans, ...csr.otherSans];
    if (asked.length !== 1 || asked[0] !== granted) {
      throw new MeshproofError(
        ErrorCode.CsrRejected,
        `the CSR asks for [${asked.join(', ') || 'no identity'}] but the credential is for service account ${formatRef(ref)}, whose identity is ${granted}`,
        { hint: 'a workload may only request a certificate for the service account it runs as' },
      );
    }
    const ttlMs = request.ttlMs ?? this.defaultWorkloadTtlMs;
    if (!(ttlMs > 0) || ttlMs > this.maxWorkloadTtlMs) {
      throw new MeshproofError(ErrorCode.CsrRejected, `requested TTL ${formatDuration(ttlMs)} is not allowed: it must be more than 0 and at most the CA's max workload TTL ${formatDuration(this.maxWorkloadTtlMs)}`);
    }
    this.#assertCaValid();
    const now = this.#now();
    const leafPem = await this.#signer.sign({
      publicKey: csr.publicKey,
      uriSans: [granted],
      notBefore: new Date(now - CLOCK_SKEW_GRACE_MS),
      // X.509 times have whole seconds; round up so a TTL of a few seconds is not cut short.
      notAfter: new Date(Math.ceil((now + ttlMs) / 1_000) * 1_000),
    });
    const info = summarizeCertificate(leafPem);
    publish('pki:issued', {
      identity: granted,
      fingerprint256: info.fingerprint256,
      serialNumber: info.serialNumber,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
    });
    return { identity, certChainPem: leafPem + this.intermediatesPem, rootCertPem: this.rootCertPem };
  }

  /**
   * The whole agent flow for `ref`: credential, fresh key, CSR, signature. Returns what the
   * workload's sidecar needs (and what a suite passes to the traffic layer).
   */
  async issue(ref: WorkloadRef, options: IssueOptions = {}): Promise<WorkloadCredentials> {
    const uri = this.spiffeUriOf(ref);
    const credential = await this.mintCredential(ref);
    const { privateKey, csrPem } = await createCsr(uri, options.keyAlgorithm ?? this.workloadKeyAlgorithm);
    const signed = await this.sign({ csrPem, credential, ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }) });
    return new WorkloadCredentials({ certChainPem: signed.certChainPem, keyPem: privateKeyPem(privateKey), rootCertPem: signed.rootCertPem }, signed.identity);
  }

  #assertCaValid(): void {
    const now = this.#now();
    const ca = this.#signer.cert;
    if (now > ca.notAfter.getTime() || now < ca.notBefore.getTime()) {
      throw new MeshproofError(ErrorCode.PkiInvalid, `the signing CA certificate '${ca.subject}' is valid from ${ca.notBefore.toISOString()} to ${ca.notAfter.toISOString()}, not now (${new Date(now).toISOString()})`);
    }
  }

  /** Shows the CA by fingerprints; never the key. */
  toJSON(): Record<string, unknown> {
    return {
      trustDomain: this.trustDomain,
      rootFingerprint256: this.rootFingerprint256,
      caFingerprint256: new NodeX509Certificate(this.caCertPem).fingerprint256,
    };
  }
}
