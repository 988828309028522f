/**
 * `meshproof pki`: the mesh CA from the command line.
 *
 *   pki init  --out DIR                 a new root + intermediate as Istio plug-in CA files
 *   pki issue --ca DIR --ns --sa --out  a workload's cert-chain.pem, key.pem, root-cert.pem
 *   pki bad   --ca DIR --kind --out     one certificate of the attacker kit, with its key
 *   pki jwt   --issuer URL --out DIR    a test JWKS, its signing key, and a token of every kind
 *
 * Output names certificates by SHA-256 fingerprint and never prints a key. Bad CA files, flags or
 * names exit 2 with the file and the problem.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { parseDuration } from '../../model/duration.ts';
import { BAD_CERT_KINDS, isBadCertKind, makeBadCertificate } from '../../pki/attacker-kit.ts';
import type { CertificateBundle } from '../../pki/certificate-bundle.ts';
import { JWT_TOKEN_KINDS, JwtIssuer } from '../../pki/jwt-issuer.ts';
import { KEY_ALGORITHMS, isKeyAlgorithm, type KeyAlgorithm } from '../../pki/key-algorithm.ts';
import { MeshCa } from '../../pki/mesh-ca.ts';
import { PLUGIN_CA_FILES } from '../../pki/plugin-ca.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../model/mesh-config.ts';
import { WORKLOAD_FILES, writeWorkloadFiles } from '../../pki/workload-files.ts';

interface CommonOptions {
  readonly trustDomain: string;
  readonly keyAlgorithm: string;
  readonly json?: boolean;
}

const TRUST_DOMAIN_HELP = "the mesh trust domain (meshConfig.trustDomain); the CA files do not record it, as in Istio";
const KEY_HELP = `key algorithm: ${KEY_ALGORITHMS.join(' or ')} (Istio's default is RSA 2048; ECDSA P-256 issues ~8x faster, see npm run bench:pki)`;

export function register(program: Command): void {
  const pki = program.command('pki').description("the mesh CA: make Istio plug-in CA files, issue workload certificates, make the attacker kit's bad certificates");

  pki
    .command('init')
    .description('create a root and an intermediate CA and write them as Istio plug-in CA files (root-cert.pem, ca-cert.pem, ca-key.pem, cert-chain.pem)')
    .requiredOption('--out <dir>', 'folder to write the CA files into (created with mode 0700; ca-key.pem gets 0600)')
    .option('--trust-domain <td>', TRUST_DOMAIN_HELP, DEFAULT_TRUST_DOMAIN)
    .option('--key-algorithm <alg>', KEY_HELP, 'ecdsa-p256')
    .option('--force', 'replace CA files that already exist in --out')
    .option('--json', 'print the result as JSON')
    .action(async (options: CommonOptions & { out: string; force?: boolean }) => {
      const existing = Object.values(PLUGIN_CA_FILES).map((name) => join(options.out, name)).filter((path) => existsSync(path));
      if (existing.length > 0 && options.force !== true) {
        throw new MeshproofError(ErrorCode.BadArgument, `--out: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}`, {
          hint: 'choose another folder, or pass --force to replace the CA (certificates it issued will no longer verify)',
        });
      }
      const ca = await MeshCa.create({ trustDomain: options.trustDomain, caKeyAlgorithm: keyAlgorithm(options.keyAlgorithm) });
      await ca.writePluginFiles(options.out);
      print(options, { dir: options.out, files: Object.values(PLUGIN_CA_FILES), ...ca.toJSON() }, [
        `wrote ${Object.values(PLUGIN_CA_FILES).join(', ')} to ${options.out}`,
        `trust domain  ${ca.trustDomain}`,
        `root          ${ca.rootFingerprint256}`,
        `intermediate  ${ca.toJSON()['caFingerprint256'] as string}`,
      ]);
    });

  pki
    .command('issue')
    .description("issue a workload certificate through the CSR flow and write the sidecar's files (cert-chain.pem, key.pem, root-cert.pem)")
    .requiredOption('--ca <dir>', 'plug-in CA folder (root-cert.pem, ca-cert.pem, ca-key.pem, cert-chain.pem), e.g. from `pki init`')
    .requiredOption('--ns <namespace>', "the workload's namespace")
    .requiredOption('--sa <service-account>', "the workload's service account")
    .requiredOption('--out <dir>', 'folder for the workload files (key.pem gets mode 0600)')
    .option('--ttl <duration>', 'certificate lifetime, e.g. 24h, 1h, 90s (Istio default 24h; at most 2160h, i.e. 90 days)', '24h')
    .option('--trust-domain <td>', TRUST_DOMAIN_HELP, DEFAULT_TRUST_DOMAIN)
    .option('--key-algorithm <alg>', KEY_HELP, 'ecdsa-p256')
    .option('--json', 'print the result as JSON')
    .action(async (options: CommonOptions & { ca: string; ns: string; sa: string; out: string; ttl: string }) => {
      const ttlMs = ttl(options.ttl);
      const ca = await MeshCa.load(options.ca, { trustDomain: options.trustDomain });
      const creds = await ca.issue({ namespace: options.ns, serviceAccount: options.sa }, { ttlMs, keyAlgorithm: keyAlgorithm(options.keyAlgorithm) });
      await writeWorkloadFiles(options.out, creds);
      printBundle(options, options.out, creds, [`identity      ${creds.spiffeId}`]);
    });

  pki
    .command('bad')
    .description("write one certificate of the attacker kit, aimed at a target identity, with its key (as cert-chain.pem, key.pem, root-cert.pem)")
    .requiredOption('--ca <dir>', 'plug-in CA folder of the mesh under test')
    .requiredOption('--kind <kind>', `one of: ${BAD_CERT_KINDS.join(', ')}`)
    .requiredOption('--out <dir>', 'folder for the files (key.pem gets mode 0600)')
    .option('--ns <namespace>', 'namespace of the target identity', 'default')
    .option('--sa <service-account>', 'service account of the target identity', 'default')
    .option('--impostor-sa <service-account>', 'impersonation: the service account the attacker really holds (same namespace)', 'impostor')
    .option('--foreign-trust-domain <td>', 'foreign-trust-domain: the trust domain to claim', 'evil.example')
    .option('--trust-domain <td>', TRUST_DOMAIN_HELP, DEFAULT_TRUST_DOMAIN)
    .option('--key-algorithm <alg>', KEY_HELP, 'ecdsa-p256')
    .option('--json', 'print the result as JSON')
    .action(async (options: CommonOptions & { ca: string; kind: string; out: string; ns: string; sa: string; impostorSa: string; foreignTrustDomain: string }) => {
      if (!isBadCertKind(options.kind)) {
        throw new MeshproofError(ErrorCode.BadArgument, `--kind: '${options.kind}' is not a kind of bad certificate`, { hint: `use one of: ${BAD_CERT_KINDS.join(', ')}` });
      }
      const ca = await MeshCa.load(options.ca, { trustDomain: options.trustDomain });
      const bad = await makeBadCertificate(ca, options.kind, { namespace: options.ns, serviceAccount: options.sa }, {
        impostor: { namespace: options.ns, serviceAccount: options.impostorSa },
        foreignTrustDomain: options.foreignTrustDomain,
        keyAlgorithm: keyAlgorithm(options.keyAlgorithm),
      });
      await writeWorkloadFiles(options.out, bad);
      printBundle(options, options.out, bad, [`kind          ${bad.kind}`, `must fail     the ${bad.rejectedBy} check: ${bad.reason}`]);
    });

  pki
    .command('jwt')
    .description('mint a test JWT issuer: jwks.json (for a RequestAuthentication), signing-key.json, and one token of every kind (valid, expired, not-yet-valid, wrong-issuer, wrong-audience, bad-signature)')
    .requiredOption('--issuer <iss>', "the tokens' iss, and the issuer the RequestAuthentication names (e.g. https://auth.example.com)")
    .requiredOption('--out <dir>', 'folder for jwks.json, signing-key.json (mode 0600) and tokens/<kind>.jwt')
    .option('--sub <subject>', 'the subject (request principal = <iss>/<sub>)', 'alice')
    .option('--aud <audience...>', 'audiences of the tokens (wrong-audience uses another)')
    .option('--azp <party>', 'authorized party (request.auth.presenter)')
    .option('--claim <name=value...>', 'extra claims; a value with commas becomes a list (groups=admins,dev)')
    .option('--algorithm <alg>', 'RS256 or ES256', 'RS256')
    .option('--key <file>', 'sign with this private JWK (e.g. an earlier signing-key.json) instead of a new key')
    .option('--ttl <duration>', 'lifetime of the valid token', '1h')
    .option('--json', 'print the result as JSON')
    .action(async (options: { issuer: string; out: string; sub: string; aud?: string[]; azp?: string; claim?: string[]; algorithm: string; key?: string; ttl: string; json?: boolean }) => {
      if (options.algorithm !== 'RS256' && options.algorithm !== 'ES256') throw new MeshproofError(ErrorCode.BadArgument, `--algorithm: '${options.algorithm}' is not supported`, { hint: 'use RS256 or ES256' });
      const issuerOptions = { issuer: options.issuer, algorithm: options.algorithm } as const;
      const issuer = options.key === undefined ? await JwtIssuer.create(issuerOptions) : await JwtIssuer.fromPrivateJwk(issuerOptions, readJwk(options.key));
      const extra: Record<string, unknown> = {};
      for (const c of options.claim ?? []) {
        const eq = c.indexOf('=');
        if (eq <= 0) throw new MeshproofError(ErrorCode.BadArgument, `--claim: '${c}' is not name=value`, { hint: 'e.g. --claim groups=admins,dev --claim scope="stock:read stock:write"' });
        const value = c.slice(eq + 1);
        extra[c.slice(0, eq)] = value.includes(',') ? value.split(',') : value;
      }
      const tokens = await issuer.mintAll({ sub: options.sub, ...(options.aud === undefined ? {} : { aud: options.aud.length === 1 ? options.aud[0]! : options.aud }), ...(options.azp === undefined ? {} : { azp: options.azp }), extra, ttlSeconds: Math.round(ttl(options.ttl) / 1000) });
      mkdirSync(join(options.out, 'tokens'), { recursive: true, mode: 0o700 });
      writeFileSync(join(options.out, 'jwks.json'), `${issuer.jwks()}\n`);
      writeFileSync(join(options.out, 'signing-key.json'), `${JSON.stringify(issuer.privateJwk())}\n`, { mode: 0o600 });
      for (const kind of JWT_TOKEN_KINDS) writeFileSync(join(options.out, 'tokens', `${kind}.jwt`), `${tokens[kind]}\n`);
      print(options, { dir: options.out, issuer: issuer.issuer, kid: issuer.kid, algorithm: issuer.algorithm, jwks: JSON.parse(issuer.jwks()) as unknown, tokens }, [
        `wrote jwks.json, signing-key.json and tokens/{${JWT_TOKEN_KINDS.join(',')}}.jwt to ${options.out}`,
        `issuer        ${issuer.issuer} (kid ${issuer.kid}, ${issuer.algorithm})`,
        `principal     ${issuer.issuer}/${options.sub}`,
        `use           jwks: the contents of jwks.json (or a jwksUri that the topology maps to it); explain --jwt ${join(options.out, 'tokens', 'valid.jwt')}`,
      ]);
    });
}

function readJwk(file: string): Parameters<typeof JwtIssuer.fromPrivateJwk>[1] {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof JwtIssuer.fromPrivateJwk>[1];
  } catch (cause) {
    throw new MeshproofError(ErrorCode.BadArgument, `--key: cannot read a JWK from '${file}'`, { cause, hint: 'pass a signing-key.json that pki jwt wrote' });
  }
}

function ttl(value: string): number {
  const ms = parseDuration(value);
  if (ms !== undefined && ms > 0) return ms;
  throw new MeshproofError(ErrorCode.BadArgument, `--ttl: '${value}' is not a positive duration`, { hint: 'write it as Istio does: 24h, 1h30m, 90s, 500ms (days as hours: 90d is 2160h)' });
}

function keyAlgorithm(value: string): KeyAlgorithm {
  if (isKeyAlgorithm(value)) return value;
  throw new MeshproofError(ErrorCode.BadArgument, `--key-algorithm: '${value}' is not supported`, { hint: `use one of: ${KEY_ALGORITHMS.join(', ')}` });
}

function printBundle(options: CommonOptions, dir: string, bundle: CertificateBundle, lines: readonly string[]): void {
  print(options, { dir, files: Object.values(WORKLOAD_FILES), ...bundle.toJSON() }, [
    `wrote ${Object.values(WORKLOAD_FILES).join(', ')} to ${dir}`,
    ...lines,
    `certificate   ${bundle.fingerprint256}`,
    `uri SANs      ${bundle.uriSans.join(', ') || '(none)'}`,
    `valid         ${bundle.notBefore.toISOString()} .. ${bundle.notAfter.toISOString()}`,
  ]);
}

function print(options: { json?: boolean }, json: Record<string, unknown>, lines: readonly string[]): void {
  process.stdout.write(options.json === true ? `${JSON.stringify(json, null, 2)}\n` : `${lines.join('\n')}\n`);
}
