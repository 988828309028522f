/**
 * PKCS#10 certificate signing requests: made by a workload's agent, read by the CA.
 *
 * istio-agent makes a fresh key and a CSR whose critical SubjectAltName carries the workload's
 * SPIFFE URI (security/pkg/pki/util/generate_csr.go); the CSR is signed with that key, which
 * proves the requester holds it.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { generateKeyPair, signingParamsFor, type KeyAlgorithm } from './key-algorithm.ts';
import { x509 } from './x509.ts';

export interface WorkloadCsr {
  readonly privateKey: KeyObject;
  readonly csrPem: string;
}

/** A new key of `algorithm` and a CSR for `spiffeUri`, signed with it. */
export async function createCsr(spiffeUri: string, algorithm: KeyAlgorithm): Promise<WorkloadCsr> {
  const { privateKey, publicKey } = await generateKeyPair(algorithm);
  const params = signingParamsFor(privateKey)!;
  const keys = {
    privateKey: await privateKey.toCryptoKey(params.importParams, false, ['sign']),
    publicKey: await publicKey.toCryptoKey(params.importParams, true, ['verify']),
  };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: params.signParams,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeUri }], true)],
  });
  return { privateKey, csrPem: csr.toString('pem') };
}

export interface ParsedCsr {
  readonly publicKey: KeyObject;
  /** URI SANs the CSR asks for. */
  readonly uriSans: readonly string[];
  /** Every other SAN it asks for (`dns:…`, `ip:…`), which the CA does not sign. */
  readonly otherSans: readonly string[];
}

/**
 * Reads a CSR and checks its self-signature. Throws MESHPROOF_ERR_CSR_REJECTED when the text is
 * not a CSR or its signature does not verify with its own key (no proof of possession).
 */
export async function parseCsr(csrPem: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (error) {
    throw new MeshproofError(ErrorCode.CsrRejected, `the request is not a PEM PKCS#10 certificate signing request: ${(error as Error).message}`, { cause: error });
  }
  let valid = false;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw new MeshproofError(ErrorCode.CsrRejected, 'the CSR signature does not verify with the public key it carries (no proof of possession of the key)');
  const san = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  return {
    publicKey: createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' }),
    uriSans: names.filter((n) => n.type === 'url').map((n) => n.value),
    otherSans: names.filter((n) => n.type !== 'url').map((n) => `${n.type}:${n.value}`),
  };
}
