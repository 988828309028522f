/**
 * Test certificates made by the openssl CLI (independent of meshproof's own PKI): a CA, and
 * leaves for a server and a client with SPIFFE URI SANs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOpenssl } from '../../pki/openssl-cli.ts';

export interface TestCerts {
  readonly caPem: string;
  readonly server: { readonly certPem: string; readonly keyPem: string; readonly uri: string };
  readonly client: { readonly certPem: string; readonly keyPem: string; readonly uri: string };
}

export async function makeTestCerts(): Promise<TestCerts> {
  const dir = mkdtempSync(join(tmpdir(), 'openssl-certs-'));
  const run = async (...args: string[]): Promise<void> => {
    const result = await runOpenssl(args, { cwd: dir });
    if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=test-ca', '-days', '1',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const leaf = async (name: string, uri: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=critical,URI:${uri}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
    await run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/O=test');
    await run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
    return { certPem: readFileSync(join(dir, `${name}.pem`), 'utf8'), keyPem: readFileSync(join(dir, `${name}.key`), 'utf8'), uri };
  };
  return {
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    server: await leaf('server', 'spiffe://cluster.local/ns/test/sa/server'),
    client: await leaf('client', 'spiffe://cluster.local/ns/test/sa/client'),
  };
}
