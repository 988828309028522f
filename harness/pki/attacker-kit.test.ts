import { expect } from 'chai';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { BAD_CERT_KINDS, makeAttackerKit, makeBadCertificate, type BadCertKind, type BadCertificate, type RejectingCheck } from './attacker-kit.ts';
import { inspectCertificate } from './certificate-info.ts';
import { MeshCa } from './mesh-ca.ts';
import { sanMismatch, secureNamingMatchers, trustDomainMatchers } from './san-match.ts';
import type { CertificateBundle } from './certificate-bundle.ts';
import type { WorkloadCredentials } from './workload-credentials.ts';
import { opensslVerify } from './testing/openssl.ts';

const target = { namespace: 'prod', serviceAccount: 'payment' };
const targetUri = 'spiffe://cluster.local/ns/prod/sa/payment';

type OpensslResult = 'OK' | { readonly code: number; readonly depth: number; readonly message: string };

interface Row {
  readonly kind: BadCertKind;
  readonly rejectedBy: RejectingCheck;
  /** `openssl verify -CAfile root-cert.pem -untrusted cert-chain.pem -purpose sslclient leaf`: what a TLS peer trusting the root checks. */
  readonly peer: OpensslResult;
  /** The seed's form: `openssl verify -CAfile <(cat ca-cert.pem root-cert.pem) leaf`. */
  readonly seed: OpensslResult;
  /** A node:tls server trusting root-cert.pem and requiring a client certificate: handshake error code, or accepted. */
  readonly handshake: string;
}

const noIssuer = 'unable to get local issuer certificate';
const table: readonly Row[] = [
  { kind: 'rogue-ca', rejectedBy: 'chain', peer: { code: 20, depth: 1, message: noIssuer }, seed: { code: 20, depth: 0, message: noIssuer }, handshake: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' },
  { kind: 'expired', rejectedBy: 'validity', peer: { code: 10, depth: 0, message: 'certificate has expired' }, seed: { code: 10, depth: 0, message: 'certificate has expired' }, handshake: 'CERT_HAS_EXPIRED' },
  { kind: 'not-yet-valid', rejectedBy: 'validity', peer: { code: 9, depth: 0, message: 'certificate is not yet valid' }, seed: { code: 9, depth: 0, message: 'certificate is not yet valid' }, handshake: 'CERT_NOT_YET_VALID' },
  { kind: 'foreign-trust-domain', rejectedBy: 'trust-domain', peer: 'OK', seed: 'OK', handshake: 'accepted' },
  { kind: 'no-uri-san', rejectedBy: 'trust-domain', peer: 'OK', seed: 'OK', handshake: 'accepted' },
  { kind: 'impersonation', rejectedBy: 'secure-naming', peer: 'OK', seed: 'OK', handshake: 'accepted' },
  // The seed's form puts the intermediate in the trust store, so the missing intermediate is not missed there.
  // In a handshake OpenSSL names a lone leaf it cannot place 'unable to verify the first certificate' (21).
  { kind: 'missing-intermediate', rejectedBy: 'chain', peer: { code: 20, depth: 0, message: noIssuer }, seed: 'OK', handshake: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
  // openssl without a purpose accepts a CA certificate as a leaf; the TLS purpose check does not.
  { kind: 'ca-as-leaf', rejectedBy: 'key-usage', peer: { code: 26, depth: 0, message: 'unsuitable certificate purpose' }, seed: 'OK', handshake: 'INVALID_PURPOSE' },
];

function summary(verdict: { ok: boolean; error?: { code: number; depth: number; message: string } }): OpensslResult {
  return verdict.ok ? 'OK' : (verdict.error ?? { code: -1, depth: -1, message: 'no error line' });
}

/** The identity checks Istio configures: inbound SAN prefix of the trust domain, outbound exact identity. */
function identityVerdict(bundle: CertificateBundle): { trustDomain: Error | undefined; secureNaming: Error | undefined } {
  return {
    trustDomain: sanMismatch(bundle.leafPem, trustDomainMatchers(['cluster.local'])),
    secureNaming: sanMismatch(bundle.leafPem, secureNamingMatchers([targetUri])),
  };
}

describe('attacker kit', function () {
  this.timeout(30_000);
  let ca: MeshCa;
  let genuine: WorkloadCredentials;
  let kit: Map<BadCertKind, BadCertificate>;
  before(async function () {
    ca = await MeshCa.create();
    genuine = await ca.issue(target);
    kit = await makeAttackerKit(ca, target);
  });

  it('has one row per kind in this table', function () {
    expect(table.map((row) => row.kind)).to.deep.equal([...BAD_CERT_KINDS]);
    expect([...kit.keys()]).to.deep.equal([...BAD_CERT_KINDS]);
  });

  it('control: the genuine certificate passes every check the bad ones fail', async function () {
    expect(summary(await opensslVerify({ trusted: genuine.rootCertPem, untrusted: genuine.certChainPem, leaf: genuine.leafPem, purpose: 'sslclient' }))).to.equal('OK');
    expect(identityVerdict(genuine)).to.deep.equal({ trustDomain: undefined, secureNaming: undefined });
  });

  for (const row of table) {
    describe(row.kind, function () {
      it(`is refused by the ${row.rejectedBy} check, and holds a key that matches its leaf`, function () {
        const bad = kit.get(row.kind)!;
        expect(bad.rejectedBy).to.equal(row.rejectedBy);
        expect(bad.target).to.deep.equal({ trustDomain: 'cluster.local', ...target });
        expect(new X509Certificate(bad.leafPem).checkPrivateKey(createPrivateKey(bad.keyPem))).to.equal(true);
      });

      it(`openssl verify against root-cert.pem as a TLS peer: ${JSON.stringify(row.peer)}`, async function () {
        const bad = kit.get(row.kind)!;
        expect(summary(await opensslVerify({ trusted: ca.rootCertPem, untrusted: bad.certChainPem, leaf: bad.leafPem, purpose: 'sslclient' }))).to.deep.equal(row.peer);
      });

      it(`openssl verify in the seed's form (ca-cert.pem + root-cert.pem): ${JSON.stringify(row.seed)}`, async function () {
        const bad = kit.get(row.kind)!;
        expect(summary(await opensslVerify({ trusted: ca.caCertPem + ca.rootCertPem, leaf: bad.leafPem }))).to.deep.equal(row.seed);
      });

      if (row.peer === 'OK') {
        it(`passes chain verification by design, and the ${row.rejectedBy} identity check catches it`, function () {
          const bad = kit.get(row.kind)!;
          const verdict = identityVerdict(bad);
          // Server side: the SAN must be under spiffe://cluster.local/. Client side: exactly the target.
          expect(verdict.secureNaming, 'secure naming').to.be.instanceOf(Error);
          if (row.rejectedBy === 'trust-domain') expect(verdict.trustDomain, 'trust domain').to.be.instanceOf(Error);
          else expect(verdict.trustDomain, 'an impostor from this mesh passes the trust-domain check').to.equal(undefined);
        });
      }
    });
  }

  it("a node:tls server trusting root-cert.pem (OpenSSL's TLS checks) refuses the chain-level kinds and lets the identity-level kinds through to the SAN checks", async function () {
    const results = new Map<string, string>();
    // rejectUnauthorized: false so the server reports OpenSSL's verdict on each client instead of only dropping it.
    const server = createServer({ cert: genuine.certChainPem, key: genuine.keyPem, ca: ca.rootCertPem, requestCert: true, rejectUnauthorized: false });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      for (const row of table) {
        const bad = kit.get(row.kind)!;
        const verdict = once(server, 'secureConnection').then(([value]) => {
          const socket = value as TLSSocket;
          expect(socket.getPeerX509Certificate()?.fingerprint256).to.equal(bad.fingerprint256);
          socket.destroy();
          return socket.authorized ? 'accepted' : String(socket.authorizationError);
        });
        const client = connect({ port, host: '127.0.0.1', cert: bad.certChainPem, key: bad.keyPem, ca: ca.rootCertPem, checkServerIdentity: () => undefined });
        client.on('error', () => undefined);
        results.set(row.kind, await verdict);
        client.destroy();
      }
    } finally {
      server.close();
    }
    expect(Object.fromEntries(results)).to.deep.equal(Object.fromEntries(table.map((row) => [row.kind, row.handshake])));
  });

  it('aims impersonation at a chosen impostor and foreign-trust-domain at a chosen trust domain', async function () {
    const impostor = await makeBadCertificate(ca, 'impersonation', target, { impostor: { namespace: 'prod', serviceAccount: 'order' } });
    expect(inspectCertificate(impostor.leafPem).uriSans).to.deep.equal(['spiffe://cluster.local/ns/prod/sa/order']);
    const foreign = await makeBadCertificate(ca, 'foreign-trust-domain', target, { foreignTrustDomain: 'other.mesh' });
    expect(foreign.uriSans).to.deep.equal(['spiffe://other.mesh/ns/prod/sa/payment']);
    expect(JSON.stringify(foreign)).to.not.contain('PRIVATE KEY');
  });
});

describe('sanMismatch', function () {
  it('matches trust domains by prefix with the trailing slash, and identities exactly', async function () {
    const ca = await MeshCa.create({ trustDomain: 'cluster.local.evil' });
    const lookalike = await ca.issue(target);
    expect(sanMismatch(lookalike.leafPem, trustDomainMatchers(['cluster.local']))?.message).to.equal(
      'URI SAN [spiffe://cluster.local.evil/ns/prod/sa/payment] does not match spiffe://cluster.local/*',
    );
    expect(sanMismatch(lookalike.leafPem, trustDomainMatchers(['cluster.local', 'cluster.local.evil']))).to.equal(undefined);
    expect(sanMismatch(lookalike.leafPem, secureNamingMatchers(['spiffe://cluster.local.evil/ns/prod/sa/pay']))).to.be.instanceOf(Error);
    expect(sanMismatch(lookalike.leafPem, [])?.message).to.contain('none given');
  });
});
