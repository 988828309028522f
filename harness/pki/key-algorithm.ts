/**
 * Workload and CA key algorithms, and the node:crypto keys behind them.
 *
 * Istio's agent makes RSA 2048 keys by default (WORKLOAD_RSA_KEY_SIZE) and ECDSA P-256 keys when
 * ECC_SIGNATURE_ALGORITHM=ECDSA. meshproof defaults to ECDSA P-256 because a run issues many
 * short-lived certificates: on the project machine an RSA 2048 key took 80-90 ms to make and a
 * P-256 key about 0.1 ms, so 100 certificates take ~1.3 s with P-256 keys and ~11 s with RSA keys
 * (npm run bench:pki). RSA stays one option away.
 */
import { createPublicKey, generateKeyPair as generateNodeKeyPair, type KeyObject, type webcrypto } from 'node:crypto';
import { promisify } from 'node:util';

export const KeyAlgorithm = {
  EcdsaP256: 'ecdsa-p256',
  Rsa2048: 'rsa-2048',
} as const;

export type KeyAlgorithm = (typeof KeyAlgorithm)[keyof typeof KeyAlgorithm];

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = Object.values(KeyAlgorithm);

export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = KeyAlgorithm.EcdsaP256;

export function isKeyAlgorithm(value: string): value is KeyAlgorithm {
  return (KEY_ALGORITHMS as readonly string[]).includes(value);
}

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const generate = promisify(generateNodeKeyPair);

export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<KeyPair> {
  switch (algorithm) {
    case 'ecdsa-p256':
      return generate('ec', { namedCurve: 'prime256v1' });
    case 'rsa-2048':
      return generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  }
}

/** WebCrypto parameters for signing with a key: the hash follows the key's strength, as Go's x509 does. */
export interface SigningParams {
  /** For KeyObject.toCryptoKey. */
  readonly importParams: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
  /** For the signature itself. */
  readonly signParams: webcrypto.Algorithm | webcrypto.EcdsaParams;
}

/** Undefined for key types the CA cannot sign with (the caller names the file in its error). */
export function signingParamsFor(key: KeyObject): SigningParams | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const hash = 'SHA-256';
    return { importParams: { name: 'RSASSA-PKCS1-v1_5', hash }, signParams: { name: 'RSASSA-PKCS1-v1_5', hash } } as SigningParams;
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = details?.namedCurve;
    if (curve === 'prime256v1') return { importParams: { name: 'ECDSA', namedCurve: 'P-256' }, signParams: { name: 'ECDSA', hash: 'SHA-256' } } as SigningParams;
    if (curve === 'secp384r1') return { importParams: { name: 'ECDSA', namedCurve: 'P-384' }, signParams: { name: 'ECDSA', hash: 'SHA-384' } } as SigningParams;
  }
  return undefined;
}

/** `rsa 2048`, `ec prime256v1`, … for messages. */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return `rsa ${details?.modulusLength ?? '?'}`;
  if (key.asymmetricKeyType === 'ec') return `ec ${details?.namedCurve ?? '?'}`;
  return key.asymmetricKeyType ?? key.type;
}

export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return KeyAlgorithm.EcdsaP256;
  if (key.asymmetricKeyType === 'rsa' && details?.modulusLength === 2048) return KeyAlgorithm.Rsa2048;
  return undefined;
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), which OpenSSL, BoringSSL and node:tls all read. */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** DER SubjectPublicKeyInfo of a public or private key, for comparing keys. */
export function spkiDer(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}
