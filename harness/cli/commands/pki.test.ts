import { expect } from 'chai';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../errors.ts';
import { MeshCa } from '../../pki/mesh-ca.ts';
import { opensslVerify } from '../../pki/testing/openssl.ts';
import { main } from '../main.ts';

const YEAR = 365 * 24 * 3_600_000;

describe('meshproof pki', function () {
  this.timeout(20_000);
  let dir: string;
  let stdout: string;
  let stderr: string;
  const writeErr = process.stderr.write.bind(process.stderr);
  const writeOut = process.stdout.write.bind(process.stdout);

  async function run(...argv: string[]): Promise<number> {
    stdout = '';
    stderr = '';
    process.stdout.write = ((chunk: string) => {
      stdout += chunk;
      return true;
    }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => {
      stderr += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      return await main(argv);
    } finally {
      process.stdout.write = writeOut;
      process.stderr.write = writeErr;
      process.exitCode = undefined;
    }
  }

  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'meshproof-cli-pki-'));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it('init, then issue: files that openssl verifies, output naming the certificate by fingerprint and never the key', async function () {
    const ca = join(dir, 'ca');
    const out = join(dir, 'payment');
    expect(await run('pki', 'init', '--out', ca, '--trust-domain', 'corp.example'), stderr).to.equal(ExitCode.Ok);
    expect((await stat(join(ca, 'ca-key.pem'))).mode & 0o777).to.equal(0o600);
    expect(await run('pki', 'issue', '--ca', ca, '--ns', 'prod', '--sa', 'payment', '--ttl', '90s', '--trust-domain', 'corp.example', '--out', out, '--json'), stderr).to.equal(ExitCode.Ok);
    const result = JSON.parse(stdout) as { identity: string; fingerprint256: string; notBefore: string; notAfter: string };
    expect(result.identity).to.equal('spiffe://corp.example/ns/prod/sa/payment');
    expect(new Date(result.notAfter).getTime() - Date.now()).to.be.within(85_000, 92_000);
    expect(stdout).to.not.contain('PRIVATE KEY');
    expect((await stat(join(out, 'key.pem'))).mode & 0o777).to.equal(0o600);
    const chain = await readFile(join(out, 'cert-chain.pem'), 'utf8');
    const seedForm = await opensslVerify({ trusted: (await readFile(join(ca, 'ca-cert.pem'), 'utf8')) + (await readFile(join(ca, 'root-cert.pem'), 'utf8')), leaf: chain });
    expect(seedForm.ok, seedForm.output).to.equal(true);
    expect(await run('pki', 'issue', '--ca', ca, '--ns', 'prod', '--sa', 'payment', '--out', out)).to.equal(ExitCode.Ok);
    expect(stdout).to.match(/certificate +([0-9A-F]{2}:){31}[0-9A-F]{2}\n/);
  });

  it('init will not replace an existing CA unless --force', async function () {
    const ca = join(dir, 'ca');
    expect(await run('pki', 'init', '--out', ca)).to.equal(ExitCode.Ok);
    const first = await readFile(join(ca, 'root-cert.pem'), 'utf8');
    expect(await run('pki', 'init', '--out', ca)).to.equal(ExitCode.BadInput);
    expect(stderr).to.contain(`${join(ca, 'ca-key.pem')}`).and.contain('--force');
    expect(await readFile(join(ca, 'root-cert.pem'), 'utf8')).to.equal(first);
    expect(await run('pki', 'init', '--out', ca, '--force')).to.equal(ExitCode.Ok);
    expect(await readFile(join(ca, 'root-cert.pem'), 'utf8')).to.not.equal(first);
  });

  describe('exits 2 naming the file and the problem for a bad CA', function () {
    it('a missing CA file', async function () {
      const ca = join(dir, 'ca');
      await (await MeshCa.create()).writePluginFiles(ca);
      await rm(join(ca, 'cert-chain.pem'));
      expect(await run('pki', 'issue', '--ca', ca, '--ns', 'prod', '--sa', 'payment', '--out', join(dir, 'x'))).to.equal(ExitCode.BadInput);
      expect(stderr).to.contain(`error: ${join(ca, 'cert-chain.pem')}: missing or unreadable`);
      expect(stderr).to.contain('code: MESHPROOF_ERR_PKI_INVALID');
    });

    it('a CA directory that does not exist', async function () {
      expect(await run('pki', 'issue', '--ca', join(dir, 'nowhere'), '--ns', 'prod', '--sa', 'payment', '--out', join(dir, 'x'))).to.equal(ExitCode.BadInput);
      expect(stderr).to.contain(`error: ${join(dir, 'nowhere')}: does not exist`);
    });

    it('a key that does not match its certificate', async function () {
      const ca = join(dir, 'ca');
      await (await MeshCa.create()).writePluginFiles(ca);
      await (await MeshCa.create()).writePluginFiles(join(dir, 'other'));
      await copyFile(join(dir, 'other', 'ca-key.pem'), join(ca, 'ca-key.pem'));
      expect(await run('pki', 'bad', '--ca', ca, '--kind', 'expired', '--out', join(dir, 'x'))).to.equal(ExitCode.BadInput);
      expect(stderr).to.contain(`error: ${join(ca, 'ca-key.pem')}: the key (ec prime256v1) does not belong to the certificate in ${join(ca, 'ca-cert.pem')}`);
    });

    it('an expired CA', async function () {
      const ca = join(dir, 'ca');
      await (await MeshCa.create({ now: () => Date.now() - 3 * YEAR, intermediateTtlMs: YEAR })).writePluginFiles(ca);
      expect(await run('pki', 'issue', '--ca', ca, '--ns', 'prod', '--sa', 'payment', '--out', join(dir, 'x'))).to.equal(ExitCode.BadInput);
      expect(stderr).to.match(new RegExp(`error: ${join(ca, 'ca-cert.pem')}: 'CN=Intermediate CA, O=cluster.local' expired at `));
    });
  });

  it('exits 2 for a bad --ttl, --kind, --key-algorithm, name, or a missing option', async function () {
    const ca = join(dir, 'ca');
    expect(await run('pki', 'init', '--out', ca)).to.equal(ExitCode.Ok);
    const issue = ['pki', 'issue', '--ca', ca, '--ns', 'prod', '--sa', 'payment', '--out', join(dir, 'x')];
    expect(await run(...issue, '--ttl', '5')).to.equal(ExitCode.BadInput);
    expect(stderr).to.contain("--ttl: '5' is not a positive duration");
    expect(await run(...issue, '--key-algorithm', 'dsa')).to.equal(ExitCode.BadInput);
    expect(stderr).to.contain("--key-algorithm: 'dsa' is not supported");
    expect(await run('pki', 'issue', '--ca', ca, '--ns', 'Prod', '--sa', 'payment', '--out', join(dir, 'x'))).to.equal(ExitCode.BadInput);
    expect(stderr).to.contain("namespace 'Prod' is not valid");
    expect(await run('pki', 'bad', '--ca', ca, '--kind', 'forged', '--out', join(dir, 'x'))).to.equal(ExitCode.BadInput);
    expect(stderr).to.contain("--kind: 'forged' is not a kind of bad certificate").and.contain('rogue-ca, expired');
    expect(await run('pki', 'issue', '--ca', ca, '--ns', 'prod', '--out', join(dir, 'x'))).to.equal(ExitCode.BadInput);
    expect(stderr).to.contain("required option '--sa <service-account>' not specified");
  });

  it('bad writes the kind aimed at the target, which openssl refuses for its reason', async function () {
    const ca = join(dir, 'ca');
    const out = join(dir, 'expired');
    expect(await run('pki', 'init', '--out', ca)).to.equal(ExitCode.Ok);
    expect(await run('pki', 'bad', '--ca', ca, '--kind', 'expired', '--ns', 'prod', '--sa', 'payment', '--out', out, '--json'), stderr).to.equal(ExitCode.Ok);
    const result = JSON.parse(stdout) as { kind: string; target: string; rejectedBy: string };
    expect(result).to.include({ kind: 'expired', target: 'spiffe://cluster.local/ns/prod/sa/payment', rejectedBy: 'validity' });
    const verdict = await opensslVerify({ trusted: await readFile(join(ca, 'root-cert.pem'), 'utf8'), untrusted: await readFile(join(out, 'cert-chain.pem'), 'utf8'), leaf: await readFile(join(out, 'cert-chain.pem'), 'utf8') });
    expect(verdict.error?.message).to.equal('certificate has expired');
  });
});
