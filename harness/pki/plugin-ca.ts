/**
 * Istio's plug-in CA files (the `cacerts` secret, mounted at /etc/cacerts in istiod):
 *
 *   root-cert.pem   the root certificate(s) workloads trust
 *   ca-cert.pem     the signing (intermediate) CA certificate
 *   ca-key.pem      its private key
 *   cert-chain.pem  the signing certificate's chain: ca-cert first, up to the root
 *
 * readPluginCa checks them the way a person would want before a run starts: every file there and
 * parseable, the key belonging to ca-cert.pem, ca-cert.pem a CA that is valid now, and the chain
 * leading to a root in root-cert.pem. Each problem names its file and says what to do.
 */
import { X509Certificate as NodeX509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { writeAtomically } from '../util/write-atomically.ts';
import { inspectCertificate, splitPemCertificates } from './certificate-info.ts';
import { describeKey, signingParamsFor, spkiDer } from './key-algorithm.ts';

export const PLUGIN_CA_FILES = {
  rootCert: 'root-cert.pem',
  caCert: 'ca-cert.pem',
  caKey: 'ca-key.pem',
  certChain: 'cert-chain.pem',
} as const;

export interface PluginCaMaterial {
  /** PEM of the signing certificate (first certificate of ca-cert.pem). */
  readonly caCertPem: string;
  readonly caKey: KeyObject;
  /** cert-chain.pem, one PEM per certificate, ca-cert first. */
  readonly certChain: readonly string[];
  /** root-cert.pem, one PEM per root. */
  readonly roots: readonly string[];
}

const HINT = 'make a fresh CA with `meshproof pki init --out DIR`, or see Istio\'s plug-in CA task (tools/certs/Makefile.selfsigned.mk)';

export async function readPluginCa(dir: string, now: Date = new Date()): Promise<PluginCaMaterial> {
  const paths = {
    rootCert: join(dir, PLUGIN_CA_FILES.rootCert),
    caCert: join(dir, PLUGIN_CA_FILES.caCert),
    caKey: join(dir, PLUGIN_CA_FILES.caKey),
    certChain: join(dir, PLUGIN_CA_FILES.certChain),
  };
  try {
    if (!(await stat(dir)).isDirectory()) throw invalid(dir, 'is not a directory; expected a plug-in CA directory');
  } catch (error) {
    if (error instanceof MeshproofError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw invalid(dir, `${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (error as Error).message})`}; expected a directory holding ${Object.values(PLUGIN_CA_FILES).join(', ')}`);
  }
  const missing: string[] = [];
  const texts: Partial<Record<keyof typeof paths, string>> = {};
  for (const [name, path] of Object.entries(paths) as [keyof typeof paths, string][]) {
    try {
      texts[name] = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      missing.push(code === 'ENOENT' ? path : `${path} (${code ?? (error as Error).message})`);
    }
  }
  if (missing.length > 0) {
    throw invalid(missing[0]!, `missing or unreadable: ${missing.join(', ')}; a plug-in CA directory holds ${Object.values(PLUGIN_CA_FILES).join(', ')}`);
  }

  const caCerts = certificatesIn(texts.caCert!, paths.caCert);
  const roots = certificatesIn(texts.rootCert!, paths.rootCert);
  const certChain = certificatesIn(texts.certChain!, paths.certChain);
  const caCertPem = caCerts[0]!;
  const caKey = privateKeyIn(texts.caKey!, paths.caKey);

  const caInfo = inspectCertificate(caCertPem);
  const caNode = new NodeX509Certificate(caCertPem);
  if (!spkiDer(caNode.publicKey).equals(spkiDer(caKey))) {
    throw invalid(paths.caKey, `the key (${describeKey(caKey)}) does not belong to the certificate in ${paths.caCert} (subject '${caInfo.subject}', public key ${describeKey(caNode.publicKey)})`);
  }
  if (signingParamsFor(caKey) === undefined) {
    throw invalid(paths.caKey, `the CA key is ${describeKey(caKey)}; meshproof signs with RSA or ECDSA P-256/P-384 keys`);
  }
  if (!caInfo.isCa || (caInfo.keyUsages.length > 0 && !caInfo.keyUsages.includes('keyCertSign'))) {
    throw invalid(paths.caCert, `'${caInfo.subject}' is not a CA certificate (basicConstraints CA:${caInfo.isCa ? 'TRUE' : 'FALSE'}, keyUsage ${caInfo.keyUsages.join('|') || 'absent'}); it cannot sign workload certificates`);
  }
  checkValidity(caCertPem, paths.caCert, now);
  for (const root of roots) checkValidity(root, paths.rootCert, now);

  const chainFirst = new NodeX509Certificate(certChain[0]!);
  if (chainFirst.fingerprint256 !== caNode.fingerprint256) {
    throw invalid(paths.certChain, `the first certificate ('${chainFirst.subject.replace(/\n/g, ', ')}') is not the one in ${paths.caCert}; cert-chain.pem starts with ca-cert.pem`);
  }
  checkChainReachesRoot(certChain, roots, paths);
  return { caCertPem, caKey, certChain, roots };
}

/** Writes the four plug-in CA files; ca-key.pem with mode 0600. Each file is replaced atomically. */
export async function writePluginCa(dir: string, files: { rootCertPem: string; caCertPem: string; caKeyPem: string; certChainPem: string }): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomically(join(dir, PLUGIN_CA_FILES.rootCert), files.rootCertPem, 0o644);
  await writeAtomically(join(dir, PLUGIN_CA_FILES.caCert), files.caCertPem, 0o644);
  await writeAtomically(join(dir, PLUGIN_CA_FILES.caKey), files.caKeyPem, 0o600);
  await writeAtomically(join(dir, PLUGIN_CA_FILES.certChain), files.certChainPem, 0o644);
}

function certificatesIn(text: string, path: string): string[] {
  const pems = splitPemCertificates(text);
  if (pems.length === 0) throw invalid(path, 'holds no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks)');
  pems.forEach((pem, index) => {
    try {
      new NodeX509Certificate(pem);
    } catch (error) {
      throw invalid(path, `certificate #${index + 1} cannot be parsed: ${(error as Error).message}`);
    }
  });
  return pems;
}

function privateKeyIn(text: string, path: string): KeyObject {
  if (/ENCRYPTED/.test(text)) throw invalid(path, 'the private key is encrypted; istiod and meshproof read unencrypted PEM keys (decrypt it with `openssl pkey -in ca-key.pem -out ca-key.pem`)');
  try {
    return createPrivateKey(text);
  } catch (error) {
    throw invalid(path, `holds no readable PEM private key (PKCS#1, PKCS#8 or SEC1): ${(error as Error).message}`);
  }
}

function checkValidity(pem: string, path: string, now: Date): void {
  const info = inspectCertificate(pem);
  if (now.getTime() > info.notAfter.getTime()) {
    throw invalid(path, `'${info.subject}' expired at ${info.notAfter.toISOString()} (now ${now.toISOString()}); certificates it signs would not verify`);
  }
  if (now.getTime() < info.notBefore.getTime()) {
    throw invalid(path, `'${info.subject}' is not valid before ${info.notBefore.toISOString()} (now ${now.toISOString()})`);
  }
}

function checkChainReachesRoot(chain: readonly string[], roots: readonly string[], paths: { certChain: string; rootCert: string }): void {
  const rootCerts = roots.map((pem) => new NodeX509Certificate(pem));
  const rootPrints = new Set(rootCerts.map((r) => r.fingerprint256));
  for (let i = 0; i < chain.length; i++) {
    const cert = new NodeX509Certificate(chain[i]!);
    if (rootPrints.has(cert.fingerprint256)) return;
    const signedByRoot = rootCerts.some((root) => cert.checkIssued(root) && cert.verify(root.publicKey));
    if (signedByRoot) return;
    const next = chain[i + 1];
    if (next === undefined) break;
    const parent = new NodeX509Certificate(next);
    if (!(cert.checkIssued(parent) && cert.verify(parent.publicKey))) {
      throw invalid(paths.certChain, `certificate #${i + 1} ('${cert.subject.replace(/\n/g, ', ')}') is not signed by certificate #${i + 2} ('${parent.subject.replace(/\n/g, ', ')}')`);
    }
  }
  throw invalid(paths.certChain, `the chain does not lead to a root in ${paths.rootCert}: no certificate in it is, or is signed by, one of its ${roots.length} root(s)`);
}

function invalid(path: string, problem: string): MeshproofError {
  return new MeshproofError(ErrorCode.PkiInvalid, problem, { location: { file: path }, hint: HINT });
}
