/**
 * The certificates attackers bring, each aimed at one target identity.
 *
 * Every kind comes with its key (an attacker holds the key of what it presents, so a handshake can
 * complete up to the check that must refuse it) and with the check that must refuse it:
 *
 * | kind                 | what it is                                                       | refused by     |
 * |----------------------|------------------------------------------------------------------|----------------|
 * | rogue-ca             | the target's identity, from another CA that copies the mesh CA's names | chain    |
 * | expired              | the target's identity from the mesh CA, notAfter an hour ago     | validity       |
 * | not-yet-valid        | the target's identity from the mesh CA, notBefore an hour ahead  | validity       |
 * | foreign-trust-domain | the target's ns/sa under another trust domain, from the mesh CA   | trust-domain   |
 * | no-uri-san           | from the mesh CA, a DNS name but no SPIFFE URI                   | trust-domain   |
 * | impersonation        | a valid mesh certificate for another service account             | secure-naming  |
 * | missing-intermediate | the target's identity from the mesh CA, chain without the intermediate | chain    |
 * | ca-as-leaf           | a CA certificate (CA:TRUE, keyCertSign+cRLSign, no extKeyUsage) with the target's URI, under the mesh intermediate | key-usage |
 *
 * Three kinds are sound chains from the mesh CA by design (foreign-trust-domain, no-uri-san,
 * impersonation): chain verification accepts them and only the identity checks catch them.
 * A CA certificate as a leaf also builds a sound chain; what refuses it in TLS is its key usage
 * (OpenSSL's TLS purpose check requires digitalSignature of an end-entity certificate), not
 * its CA flag. The server side
 * checks the SAN prefix `spiffe://<trust domain>/` (Istio's MatchSubjectAltNames on inbound),
 * the client side checks the exact identity of the destination's service account (secure naming).
 */
import { CertificateBundle } from './certificate-bundle.ts';
import { CLOCK_SKEW_GRACE_MS, type CertificateSpec } from './cert-signer.ts';
import { inspectCertificate } from './certificate-info.ts';
import { DEFAULT_KEY_ALGORITHM, generateKeyPair, privateKeyPem, type KeyAlgorithm, type KeyPair } from './key-algorithm.ts';
import { MeshCa, caInternals } from './mesh-ca.ts';
import { spiffeUri, type SpiffeIdentity, type WorkloadRef } from './spiffe.ts';

export const BadCertKind = {
  RogueCa: 'rogue-ca',
  Expired: 'expired',
  NotYetValid: 'not-yet-valid',
  ForeignTrustDomain: 'foreign-trust-domain',
  NoUriSan: 'no-uri-san',
  Impersonation: 'impersonation',
  MissingIntermediate: 'missing-intermediate',
  CaAsLeaf: 'ca-as-leaf',
} as const;

export type BadCertKind = (typeof BadCertKind)[keyof typeof BadCertKind];

export const BAD_CERT_KINDS: readonly BadCertKind[] = Object.values(BadCertKind);

export function isBadCertKind(value: string): value is BadCertKind {
  return (BAD_CERT_KINDS as readonly string[]).includes(value);
}

/** The check that must refuse a bad certificate. */
export type RejectingCheck =
  /** Chain building to the mesh root fails (unknown issuer, missing intermediate). */
  | 'chain'
  /** The certificate is outside its validity period. */
  | 'validity'
  /** The key usage does not allow TLS authentication (a CA certificate presented as a leaf). */
  | 'key-usage'
  /** The URI SAN is not under `spiffe://<mesh trust domain>/` (or there is none). */
  | 'trust-domain'
  /** A valid mesh identity, but not the one expected for the peer. */
  | 'secure-naming';

export interface BadCertOptions {
  /** impersonation: the service account the attacker really holds. Default: the target's namespace, `impostor`. */
  readonly impostor?: WorkloadRef;
  /** foreign-trust-domain: default `evil.example`. */
  readonly foreignTrustDomain?: string;
  /** Key of the bad leaf. Default the CA's workload key algorithm. */
  readonly keyAlgorithm?: KeyAlgorithm;
}

export class BadCertificate extends CertificateBundle {
  readonly kind: BadCertKind;
  /** The identity the attacker is after. */
  readonly target: SpiffeIdentity;
  readonly rejectedBy: RejectingCheck;
  /** Why it must be refused, in a sentence. */
  readonly reason: string;

  constructor(bundle: CertificateBundle, kind: BadCertKind, target: SpiffeIdentity, rejectedBy: RejectingCheck, reason: string) {
    super(bundle);
    this.kind = kind;
    this.target = target;
    this.rejectedBy = rejectedBy;
    this.reason = reason;
  }

  override toJSON(): Record<string, unknown> {
    return { kind: this.kind, target: spiffeUri(this.target), rejectedBy: this.rejectedBy, reason: this.reason, ...super.toJSON() };
  }
}

const HOUR = 3_600_000;

/** One bad certificate of `kind` aimed at `target`, made with (or, for rogue-ca, beside) `ca`. */
export async function makeBadCertificate(ca: MeshCa, kind: BadCertKind, target: WorkloadRef, options: BadCertOptions = {}): Promise<BadCertificate> {
  const identity = ca.identityOf(target);
  const uri = spiffeUri(identity);
  const { signer, now } = caInternals(ca);
  const keys = await generateKeyPair(options.keyAlgorithm ?? ca.workloadKeyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  const t = now();
  const current = { notBefore: new Date(t - CLOCK_SKEW_GRACE_MS), notAfter: new Date(t + 24 * HOUR) };
  const meshLeaf = async (spec: Omit<CertificateSpec, 'publicKey'>, chain: 'with-intermediates' | 'leaf-only' = 'with-intermediates'): Promise<CertificateBundle> => {
    const leaf = await signer.sign({ ...spec, publicKey: keys.publicKey });
    return bundle(keys, leaf + (chain === 'leaf-only' ? '' : ca.intermediatesPem), ca.rootCertPem);
  };
  const make = (b: CertificateBundle, check: RejectingCheck, reason: string): BadCertificate => new BadCertificate(b, kind, identity, check, reason);

  switch (kind) {
    case 'rogue-ca': {
      const rogue = await MeshCa.create({
        trustDomain: identity.trustDomain,
        rootSubject: inspectCertificate(ca.rootCertPem).subject,
        intermediateSubject: inspectCertificate(ca.caCertPem).subject,
        now,
      });
      const leaf = await caInternals(rogue).signer.sign({ ...current, publicKey: keys.publicKey, uriSans: [uri] });
      return make(bundle(keys, leaf + rogue.intermediatesPem, rogue.rootCertPem), 'chain', `${uri} signed by a rogue CA whose names copy the mesh CA's; its chain ends at a root the mesh does not trust`);
    }
    case 'expired':
      return make(await meshLeaf({ uriSans: [uri], notBefore: new Date(t - 25 * HOUR), notAfter: new Date(t - HOUR) }), 'validity', `${uri} from the mesh CA, expired an hour ago`);
    case 'not-yet-valid':
      return make(await meshLeaf({ uriSans: [uri], notBefore: new Date(t + HOUR), notAfter: new Date(t + 25 * HOUR) }), 'validity', `${uri} from the mesh CA, valid only from an hour from now`);
    case 'foreign-trust-domain': {
      const foreign = spiffeUri({ ...identity, trustDomain: options.foreignTrustDomain ?? 'evil.example' });
      return make(await meshLeaf({ ...current, uriSans: [foreign] }), 'trust-domain', `${foreign} is signed by the mesh CA but is not under spiffe://${identity.trustDomain}/`);
    }
    case 'no-uri-san': {
      const dns = `${identity.serviceAccount}.${identity.namespace}.svc.cluster.local`;
      return make(await meshLeaf({ ...current, subject: `CN=${dns}`, dnsSans: [dns], sanCritical: false }), 'trust-domain', `signed by the mesh CA for DNS name ${dns}, with no SPIFFE URI SAN: it carries no mesh identity`);
    }
    case 'impersonation': {
      const impostor = ca.identityOf(options.impostor ?? { namespace: identity.namespace, serviceAccount: 'impostor' });
      const impostorUri = spiffeUri(impostor);
      return make(await meshLeaf({ ...current, uriSans: [impostorUri] }), 'secure-naming', `a valid mesh certificate for ${impostorUri}, presented where ${uri} is expected`);
    }
    case 'missing-intermediate':
      return make(await meshLeaf({ ...current, uriSans: [uri] }, 'leaf-only'), 'chain', `${uri} from the mesh CA, but the chain presented lacks the intermediate, so it cannot be built up to the root`);
    case 'ca-as-leaf':
      return make(
        await meshLeaf({ ...current, subject: `CN=${identity.serviceAccount}.${identity.namespace} CA`, uriSans: [uri], ca: {} }),
        'key-usage',
        `a CA certificate (CA:TRUE, keyUsage keyCertSign|cRLSign) with ${uri}, under the mesh intermediate, used as a leaf: its key usage does not allow digitalSignature, which TLS requires of a leaf`,
      );
  }
}

/** Every kind, aimed at one target. */
export async function makeAttackerKit(ca: MeshCa, target: WorkloadRef, options: BadCertOptions = {}): Promise<Map<BadCertKind, BadCertificate>> {
  const kit = new Map<BadCertKind, BadCertificate>();
  for (const kind of BAD_CERT_KINDS) kit.set(kind, await makeBadCertificate(ca, kind, target, options));
  return kit;
}

function bundle(keys: KeyPair, certChainPem: string, rootCertPem: string): CertificateBundle {
  return new CertificateBundle({ certChainPem, keyPem: privateKeyPem(keys.privateKey), rootCertPem });
}
