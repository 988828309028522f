import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { subscribe } from '../events.ts';
import { CLOCK_SKEW_GRACE_MS } from './cert-signer.ts';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, fingerprint256, inspectCertificate, splitPemCertificates } from './certificate-info.ts';
import { KEY_ALGORITHMS } from './key-algorithm.ts';
import { MeshCa } from './mesh-ca.ts';
import { PLUGIN_CA_FILES } from './plugin-ca.ts';
import { openssl, opensslVerify } from './testing/openssl.ts';

const payment = { namespace: 'prod', serviceAccount: 'payment' };
const YEAR = 365 * 24 * 3_600_000;

describe('MeshCa', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'meshproof-pki-test-'));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("issues a workload certificate the way istiod does: critical SPIFFE URI SAN, 24h, server+client auth, leaf then intermediate", async function () {
    const ca = await MeshCa.create();
    const before = Date.now();
    const creds = await ca.issue(payment);
    const leaf = inspectCertificate(creds.certChainPem);
    expect(creds.spiffeId).to.equal('spiffe://cluster.local/ns/prod/sa/payment');
    expect(leaf.uriSans).to.deep.equal(['spiffe://cluster.local/ns/prod/sa/payment']);
    expect(leaf.sanCritical).to.equal(true);
    expect(leaf.subject).to.equal('');
    expect(leaf.isCa).to.equal(false);
    expect(leaf.keyUsages).to.deep.equal(['digitalSignature', 'keyEncipherment']);
    expect(leaf.extendedKeyUsages).to.have.members([EKU_SERVER_AUTH, EKU_CLIENT_AUTH]);
    // 24h from signing (rounded up to a whole second), valid from 2 minutes before (clock skew).
    expect(leaf.notAfter.getTime() - before).to.be.within(24 * 3_600_000 - 1_000, 24 * 3_600_000 + 2_000);
    expect(before - leaf.notBefore.getTime()).to.be.within(CLOCK_SKEW_GRACE_MS - 1_000, CLOCK_SKEW_GRACE_MS + 2_000);
    const chain = splitPemCertificates(creds.certChainPem);
    expect(chain).to.have.length(2);
    expect(fingerprint256(chain[1]!)).to.equal(fingerprint256(ca.caCertPem));
    expect(new X509Certificate(chain[0]!).checkPrivateKey(createPrivateKey(creds.keyPem))).to.equal(true);
  });

  for (const keyAlgorithm of KEY_ALGORITHMS) {
    it(`issues ${keyAlgorithm} certificates that the real openssl verifies against the root`, async function () {
      const ca = await MeshCa.create({ caKeyAlgorithm: keyAlgorithm });
      const creds = await ca.issue(payment, { keyAlgorithm });
      // The seed's plug-in CA walkthrough: openssl verify -CAfile <(cat ca-cert.pem root-cert.pem) leaf.pem
      const seedForm = await opensslVerify({ trusted: ca.caCertPem + ca.rootCertPem, leaf: creds.leafPem });
      expect(seedForm.ok, seedForm.output).to.equal(true);
      // As a TLS peer does: trust root-cert.pem only, build the chain from what was presented.
      for (const purpose of ['sslclient', 'sslserver'] as const) {
        const peer = await opensslVerify({ trusted: creds.rootCertPem, untrusted: creds.certChainPem, leaf: creds.leafPem, purpose, x509Strict: true });
        expect(peer.ok, peer.output).to.equal(true);
      }
      // The same check fails against another mesh's root.
      const other = await MeshCa.create();
      const foreign = await opensslVerify({ trusted: other.rootCertPem, untrusted: creds.certChainPem, leaf: creds.leafPem });
      expect(foreign.ok).to.equal(false);
      expect(foreign.error?.message).to.equal('unable to get local issuer certificate');
    });
  }

  it('uses the configured trust domain and TTL, down to seconds, and refuses a TTL above the maximum', async function () {
    const ca = await MeshCa.create({ trustDomain: 'corp.example', maxWorkloadTtlMs: 48 * 3_600_000 });
    const before = Date.now();
    const creds = await ca.issue(payment, { ttlMs: 5_000 });
    expect(creds.uriSans).to.deep.equal(['spiffe://corp.example/ns/prod/sa/payment']);
    expect(creds.notAfter.getTime() - before).to.be.within(4_000, 7_000);
    const refused = await ca.issue(payment, { ttlMs: 49 * 3_600_000 }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(MeshproofError).with.property('code', ErrorCode.CsrRejected);
    expect((refused as Error).message).to.contain('requested TTL 176400s').and.contain('max workload TTL 172800s');
  });

  it('refuses names that are not Kubernetes names', async function () {
    const ca = await MeshCa.create();
    const error = await ca.issue({ namespace: 'Prod', serviceAccount: 'payment' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(MeshproofError).with.property('code', ErrorCode.BadArgument);
    expect((error as Error).message).to.contain("namespace 'Prod'");
  });

  it('writes the plug-in CA files (ca-key.pem 0600) and loads them back to issue verifiable certificates', async function () {
    const ca = await MeshCa.create();
    await ca.writePluginFiles(dir);
    expect((await stat(join(dir, PLUGIN_CA_FILES.caKey))).mode & 0o777).to.equal(0o600);
    const loaded = await MeshCa.load(dir);
    expect(loaded.rootFingerprint256).to.equal(ca.rootFingerprint256);
    const creds = await loaded.issue(payment);
    const caCert = await readFile(join(dir, PLUGIN_CA_FILES.caCert), 'utf8');
    const rootCert = await readFile(join(dir, PLUGIN_CA_FILES.rootCert), 'utf8');
    const verdict = await opensslVerify({ trusted: caCert + rootCert, leaf: creds.leafPem });
    expect(verdict.ok, verdict.output).to.equal(true);
  });

  it("loads a CA made by openssl the way Istio's Makefile.selfsigned.mk does (RSA, PKCS#1 keys) and issues from it", async function () {
    await writeFile(join(dir, 'ext.cnf'), '[ext]\nbasicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,keyCertSign\nsubjectAltName=DNS:istiod.istio-system.svc\n');
    await openssl(['genrsa', '-traditional', '-out', 'root-key.pem', '2048'], dir);
    await openssl(['req', '-x509', '-new', '-key', 'root-key.pem', '-sha256', '-days', '3650', '-subj', '/O=Istio/CN=Root CA', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'root-cert.pem'], dir);
    await openssl(['genrsa', '-traditional', '-out', 'ca-key.pem', '2048'], dir);
    await openssl(['req', '-new', '-key', 'ca-key.pem', '-subj', '/O=Istio/CN=Intermediate CA/L=cluster1', '-out', 'ca.csr'], dir);
    await openssl(['x509', '-req', '-in', 'ca.csr', '-CA', 'root-cert.pem', '-CAkey', 'root-key.pem', '-CAcreateserial', '-days', '730', '-sha256', '-extfile', 'ext.cnf', '-extensions', 'ext', '-out', 'ca-cert.pem'], dir);
    await writeFile(join(dir, 'cert-chain.pem'), (await readFile(join(dir, 'ca-cert.pem'), 'utf8')) + (await readFile(join(dir, 'root-cert.pem'), 'utf8')));
    expect(await readFile(join(dir, 'ca-key.pem'), 'utf8')).to.contain('BEGIN RSA PRIVATE KEY');

    const ca = await MeshCa.load(dir);
    const creds = await ca.issue(payment);
    expect(inspectCertificate(creds.leafPem).issuer).to.contain('CN=Intermediate CA');
    const verdict = await opensslVerify({ trusted: creds.rootCertPem, untrusted: creds.certChainPem, leaf: creds.leafPem, purpose: 'sslserver' });
    expect(verdict.ok, verdict.output).to.equal(true);
  });

  describe('refuses unusable plug-in CA files, naming the file and the problem', function () {
    async function loadError(target: string): Promise<MeshproofError> {
      const error = await MeshCa.load(target).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(MeshproofError);
      expect((error as MeshproofError).code).to.equal(ErrorCode.PkiInvalid);
      return error as MeshproofError;
    }

    it('a missing file', async function () {
      await (await MeshCa.create()).writePluginFiles(dir);
      await rm(join(dir, PLUGIN_CA_FILES.caKey));
      const error = await loadError(dir);
      expect(error.location?.file).to.equal(join(dir, 'ca-key.pem'));
      expect(error.message).to.contain('missing');
    });

    it('a key that does not belong to ca-cert.pem', async function () {
      await (await MeshCa.create()).writePluginFiles(dir);
      const other = join(dir, 'other');
      await (await MeshCa.create()).writePluginFiles(other);
      await copyFile(join(other, PLUGIN_CA_FILES.caKey), join(dir, PLUGIN_CA_FILES.caKey));
      const error = await loadError(dir);
      expect(error.location?.file).to.equal(join(dir, 'ca-key.pem'));
      expect(error.message).to.contain('does not belong to the certificate in');
    });

    it('an expired CA certificate', async function () {
      const old = await MeshCa.create({ now: () => Date.now() - 3 * YEAR, intermediateTtlMs: YEAR });
      await old.writePluginFiles(dir);
      const error = await loadError(dir);
      expect(error.location?.file).to.equal(join(dir, 'ca-cert.pem'));
      expect(error.message).to.match(/'CN=Intermediate CA, O=cluster.local' expired at \d{4}-/);
    });

    it('a ca-cert.pem that is not a CA, and text that is not PEM', async function () {
      const ca = await MeshCa.create();
      await ca.writePluginFiles(dir);
      const leaf = await ca.issue(payment);
      await writeFile(join(dir, PLUGIN_CA_FILES.caCert), leaf.leafPem);
      await writeFile(join(dir, PLUGIN_CA_FILES.caKey), leaf.keyPem);
      const notCa = await loadError(dir);
      expect(notCa.location?.file).to.equal(join(dir, 'ca-cert.pem'));
      expect(notCa.message).to.contain('is not a CA certificate');
      await writeFile(join(dir, PLUGIN_CA_FILES.rootCert), 'not a certificate\n');
      const notPem = await loadError(dir);
      expect(notPem.location?.file).to.equal(join(dir, 'root-cert.pem'));
      expect(notPem.message).to.contain('holds no PEM certificate');
    });

    it('a cert-chain.pem that does not lead to root-cert.pem', async function () {
      await (await MeshCa.create()).writePluginFiles(dir);
      await writeFile(join(dir, PLUGIN_CA_FILES.rootCert), (await MeshCa.create()).rootCertPem);
      const error = await loadError(dir);
      expect(error.location?.file).to.equal(join(dir, 'cert-chain.pem'));
      expect(error.message).to.contain('does not lead to a root in');
    });
  });

  it('publishes pki:issued naming the certificate by fingerprint, and never shows the key in JSON or inspect output', async function () {
    const ca = await MeshCa.create();
    const events: unknown[] = [];
    const unsubscribe = subscribe('pki:issued', (event) => events.push(event));
    const creds = await ca.issue(payment).finally(unsubscribe);
    expect(events).to.deep.equal([
      {
        identity: creds.spiffeId,
        fingerprint256: creds.fingerprint256,
        serialNumber: creds.serialNumber,
        notBefore: creds.notBefore.toISOString(),
        notAfter: creds.notAfter.toISOString(),
      },
    ]);
    expect(creds.keyPem).to.contain('PRIVATE KEY');
    for (const shown of [JSON.stringify(creds), inspect(creds), JSON.stringify(ca), inspect(ca), JSON.stringify(events)]) {
      expect(shown).to.not.contain('PRIVATE KEY');
    }
    expect(JSON.stringify(creds)).to.contain(creds.fingerprint256);
  });
});
