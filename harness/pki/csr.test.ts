import { expect } from 'chai';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { inspectCertificate } from './certificate-info.ts';
import { createCsr, parseCsr } from './csr.ts';
import { generateKeyPair } from './key-algorithm.ts';
import { MeshCa } from './mesh-ca.ts';
import { x509 } from './x509.ts';

const paymentUri = 'spiffe://cluster.local/ns/prod/sa/payment';
const order = { namespace: 'prod', serviceAccount: 'order' };
const payment = { namespace: 'prod', serviceAccount: 'payment' };

async function rejection(promise: Promise<unknown>): Promise<MeshproofError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the CA to refuse').to.be.instanceOf(MeshproofError);
  expect((error as MeshproofError).code).to.equal(ErrorCode.CsrRejected);
  return error as MeshproofError;
}

describe('the CSR flow', function () {
  let ca: MeshCa;
  before(async function () {
    ca = await MeshCa.create();
  });

  it('signs a CSR for the identity the credential names, with that identity only', async function () {
    const { csrPem } = await createCsr(paymentUri, 'ecdsa-p256');
    const signed = await ca.sign({ csrPem, credential: await ca.mintCredential(payment) });
    expect(signed.identity).to.deep.equal({ trustDomain: 'cluster.local', ...payment });
    expect(inspectCertificate(signed.certChainPem).uriSans).to.deep.equal([paymentUri]);
  });

  it("refuses a CSR for sa/payment presented with sa/order's credential, saying both", async function () {
    const { csrPem } = await createCsr(paymentUri, 'ecdsa-p256');
    const error = await rejection(ca.sign({ csrPem, credential: await ca.mintCredential(order) }));
    expect(error.message).to.equal(
      'the CSR asks for [spiffe://cluster.local/ns/prod/sa/payment] but the credential is for service account prod/order, whose identity is spiffe://cluster.local/ns/prod/sa/order',
    );
  });

  it('refuses a CSR for the right identity in another trust domain, or with an extra name', async function () {
    const foreign = await createCsr('spiffe://evil.example/ns/prod/sa/payment', 'ecdsa-p256');
    await rejection(ca.sign({ csrPem: foreign.csrPem, credential: await ca.mintCredential(payment) }));

    const keys = await generateKeyPair('ecdsa-p256');
    const params = { name: 'ECDSA', namedCurve: 'P-256' };
    const extra = await x509.Pkcs10CertificateRequestGenerator.create({
      keys: { privateKey: await keys.privateKey.toCryptoKey(params, false, ['sign']), publicKey: await keys.publicKey.toCryptoKey(params, true, ['verify']) },
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: paymentUri }, { type: 'dns', value: 'payment.prod.svc' }], true)],
    });
    const error = await rejection(ca.sign({ csrPem: extra.toString('pem'), credential: await ca.mintCredential(payment) }));
    expect(error.message).to.contain('dns:payment.prod.svc');
  });

  it('refuses a credential minted by another CA, and an expired one', async function () {
    const { csrPem } = await createCsr(paymentUri, 'ecdsa-p256');
    const other = await MeshCa.create();
    const forged = await rejection(ca.sign({ csrPem, credential: await other.mintCredential(payment) }));
    expect(forged.message).to.contain('not minted by this CA');

    let now = Date.now();
    const clocked = await MeshCa.create({ now: () => now });
    const credential = await clocked.mintCredential(payment, 60_000);
    now += 61_000;
    const expired = await rejection(clocked.sign({ csrPem, credential }));
    expect(expired.message).to.contain('expired');
    now -= 61_000;
    expect((await clocked.sign({ csrPem, credential })).identity.serviceAccount).to.equal('payment');
  });

  it('refuses a CSR whose signature does not verify (no proof of possession)', async function () {
    const { csrPem } = await createCsr(paymentUri, 'ecdsa-p256');
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    // The CSR's signature is its last bytes; change one (the DER stays well-formed).
    der[der.length - 1] = der[der.length - 1]! ^ 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const error = await rejection(ca.sign({ csrPem: tampered, credential: await ca.mintCredential(payment) }));
    expect(error.message).to.contain('does not verify');
    await rejection(parseCsr('not a csr'));
  });
});
