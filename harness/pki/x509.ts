/**
 * The one door to @peculiar/x509 in the harness.
 *
 * @peculiar/x509 builds and parses X.509 certificates and PKCS#10 requests over WebCrypto. It
 * needs a Reflect metadata polyfill (its dependency tsyringe checks for one at import), and a
 * WebCrypto provider: we give it node:crypto's, so every key it sees is a node:crypto key.
 * Importing the library only through this file keeps both set-ups in one place.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
