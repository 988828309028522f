import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { lstat, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshCa } from './mesh-ca.ts';
import { readWorkloadFiles, writeWorkloadFiles } from './workload-files.ts';
import type { WorkloadCredentials } from './workload-credentials.ts';

const payment = { namespace: 'prod', serviceAccount: 'payment' };

function keyMatches(fields: { certChainPem: string; keyPem: string }): boolean {
  return new X509Certificate(fields.certChainPem).checkPrivateKey(createPrivateKey(fields.keyPem));
}

describe('workload files', function () {
  this.timeout(20_000);
  let dir: string;
  let ca: MeshCa;
  before(async function () {
    ca = await MeshCa.create();
  });
  beforeEach(async function () {
    dir = join(await mkdtemp(join(tmpdir(), 'meshproof-wl-test-')), 'certs');
  });
  afterEach(async function () {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it("are Istio's file-mounted names, key.pem 0600 in a 0700 folder, readable as plain paths", async function () {
    const creds = await ca.issue(payment);
    await writeWorkloadFiles(dir, creds);
    expect((await stat(dir)).mode & 0o777).to.equal(0o700);
    expect((await stat(join(dir, 'key.pem'))).mode & 0o777).to.equal(0o600);
    expect(await readFile(join(dir, 'cert-chain.pem'), 'utf8')).to.equal(creds.certChainPem);
    expect(await readFile(join(dir, 'key.pem'), 'utf8')).to.equal(creds.keyPem);
    expect(await readFile(join(dir, 'root-cert.pem'), 'utf8')).to.equal(ca.rootCertPem);
    expect((await lstat(join(dir, 'cert-chain.pem'))).isSymbolicLink()).to.equal(true);
  });

  it('are replaced as one: a reader during 30 rotations always gets a key that belongs to its certificate', async function () {
    const versions: WorkloadCredentials[] = [];
    for (let i = 0; i < 30; i++) versions.push(await ca.issue(payment));
    await writeWorkloadFiles(dir, versions[0]!);
    const fingerprints = new Set(versions.map((v) => v.fingerprint256));
    let done = false;
    const seen = new Set<string>();
    const reader = (async () => {
      let reads = 0;
      while (!done) {
        const files = await readWorkloadFiles(dir);
        expect(keyMatches(files), `read #${reads}`).to.equal(true);
        seen.add(new X509Certificate(files.certChainPem).fingerprint256);
        reads += 1;
      }
      return reads;
    })();
    for (const creds of versions.slice(1)) await writeWorkloadFiles(dir, creds);
    done = true;
    const reads = await reader;
    expect(reads).to.be.greaterThan(1);
    for (const print of seen) expect(fingerprints.has(print)).to.equal(true);
    expect((await readWorkloadFiles(dir)).certChainPem).to.equal(versions[29]!.certChainPem);
    // Only the current version and the one before it stay on disk.
    expect((await readdir(dir)).filter((name) => name.startsWith('..') && name !== '..data')).to.have.length(2);
  });

  it('show a reader of the plain paths the new files after a rewrite', async function () {
    const first = await ca.issue(payment);
    const second = await ca.issue(payment);
    await writeWorkloadFiles(dir, first);
    await writeWorkloadFiles(dir, second);
    const files = { certChainPem: await readFile(join(dir, 'cert-chain.pem'), 'utf8'), keyPem: await readFile(join(dir, 'key.pem'), 'utf8') };
    expect(files.certChainPem).to.equal(second.certChainPem);
    expect(keyMatches(files)).to.equal(true);
    expect(keyMatches({ certChainPem: first.certChainPem, keyPem: files.keyPem })).to.equal(false);
  });
});
