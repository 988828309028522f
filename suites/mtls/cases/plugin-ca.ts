/**
 * The plug-in CA chain, checked the way seed note 003 does it, with the host's own openssl
 * against a live sidecar: `openssl s_client -showcerts` to payment-service's pod, then
 * `openssl verify -CAfile <(cat ca-cert.pem root-cert.pem) proxy-cert-1.pem`. The CA of this run
 * was loaded from Istio plug-in CA files (root-cert.pem, ca-cert.pem, ca-key.pem,
 * cert-chain.pem), so the chain must lead from the workload certificate through ca-cert.pem to
 * root-cert.pem; and a root that is not the plug-in root must not verify it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Feature, MeshCa, PLUGIN_CA_FILES, fingerprint256, inspectCertificate, runOpenssl, splitPemCertificates, workloadPod, type ConformanceCase } from '../../../harness/index.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { BASE_MANIFESTS, ORDER_CLIENT } from './common.ts';

const OPENSSL_TIMEOUT_MS = 10_000;

export const pluginCaCase: ConformanceCase<SecurityEnv> = {
  shortName: 'plugin-ca-chain-verifies',
  description:
    "openssl s_client -showcerts to payment-service's sidecar shows a workload certificate for spiffe://cluster.local/ns/prod-namespace/sa/payment-service-sa issued by the plug-in ca-cert.pem; openssl verify with ca-cert.pem and root-cert.pem says OK; with another root it fails.",
  area: 'mtls',
  features: [Feature.IdentityPluginCa, Feature.MtlsStrict],
  manifests: BASE_MANIFESTS,
  async test(ctx) {
    const env = ctx.env;
    await env.use(BASE_MANIFESTS);
    const pod = env.mesh.pod(workloadPod({ name: 'payment-service', namespace: 'prod-namespace' }, 0));
    const expectedIdentity = pod.participant.workload!.spiffeId;
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-openssl-'));
    try {
      const caCert = join(env.pluginCaDir, PLUGIN_CA_FILES.caCert);
      const rootCert = join(env.pluginCaDir, PLUGIN_CA_FILES.rootCert);
      // STRICT asks for a client certificate: present order-service's, as its sidecar would.
      const client = env.mesh.credentialsOf(ORDER_CLIENT);
      writeFileSync(join(dir, 'client-cert.pem'), client.certChainPem);
      writeFileSync(join(dir, 'client-key.pem'), client.keyPem, { mode: 0o600 });

      const shown = await runOpenssl(['s_client', '-connect', `${pod.pod.ip}:8080`, '-showcerts', '-cert', join(dir, 'client-cert.pem'), '-key', join(dir, 'client-key.pem'), '-CAfile', rootCert], { timeoutMs: OPENSSL_TIMEOUT_MS });
      const chain = splitPemCertificates(shown.stdout);
      ctx.verify(`openssl s_client -showcerts to ${pod.pod.ip}:8080 shows the sidecar's chain`, chain.length >= 2 ? undefined : new Error(`it showed ${chain.length} certificate(s); exit ${shown.code}: ${shown.stderr.trim().split('\n').slice(-2).join(' ')}`));
      ctx.verify('openssl s_client verified the chain against root-cert.pem', /Verify return code: 0 \(ok\)/.test(shown.stdout) ? undefined : new Error(`it said: ${/Verify return code: .*/.exec(shown.stdout)?.[0] ?? 'no verify result'}`));
      const [leaf, intermediate, ...rest] = chain;
      if (leaf === undefined || intermediate === undefined) return;
      writeFileSync(join(dir, 'proxy-cert-1.pem'), leaf);
      const leafInfo = inspectCertificate(leaf);
      ctx.verify(`the workload certificate names ${expectedIdentity}`, leafInfo.uriSans.includes(expectedIdentity) ? undefined : new Error(`it names [${leafInfo.uriSans.join(', ')}]`));
      const caPem = await readFile(caCert, 'utf8');
      ctx.verify(`the second certificate shown is the plug-in ca-cert.pem`, fingerprint256(intermediate) === fingerprint256(caPem) ? undefined : new Error(`it is ${inspectCertificate(intermediate).subject} (${fingerprint256(intermediate)}), ca-cert.pem is ${fingerprint256(caPem)}`));
      const root = rest.find((pem) => inspectCertificate(pem).selfSigned);
      if (root === undefined) {
        ctx.finding("The sidecar presents its workload certificate and the intermediate (ca-cert.pem), not the root: clients verify with root-cert.pem. Seed note 003's s_client output (depth=2 Root CA, 'self signed certificate in certificate chain') shows an Istio sidecar sending the root as well, which TLS does not need.");
      } else {
        const rootPem = await readFile(rootCert, 'utf8');
        ctx.verify('the root shown is the plug-in root-cert.pem', fingerprint256(root) === fingerprint256(rootPem) ? undefined : new Error(`it is ${fingerprint256(root)}, root-cert.pem is ${fingerprint256(rootPem)}`));
      }

      // The seed's check: openssl verify -CAfile <(cat ca-cert.pem root-cert.pem) proxy-cert-1.pem
      writeFileSync(join(dir, 'ca-and-root.pem'), caPem + (await readFile(rootCert, 'utf8')));
      const verified = await runOpenssl(['verify', '-CAfile', join(dir, 'ca-and-root.pem'), join(dir, 'proxy-cert-1.pem')], { timeoutMs: OPENSSL_TIMEOUT_MS });
      ctx.verify('openssl verify -CAfile <(cat ca-cert.pem root-cert.pem) proxy-cert-1.pem says OK', verified.code === 0 && /proxy-cert-1\.pem: OK/.test(verified.stdout) ? undefined : new Error(`exit ${verified.code}: ${(verified.stdout + verified.stderr).trim()}`));

      // And the check is not vacuous: another CA's root does not verify it.
      const other = await MeshCa.create();
      writeFileSync(join(dir, 'other-root.pem'), other.rootCertPem);
      const refused = await runOpenssl(['verify', '-CAfile', join(dir, 'other-root.pem'), '-untrusted', caCert, join(dir, 'proxy-cert-1.pem')], { timeoutMs: OPENSSL_TIMEOUT_MS });
      ctx.verify('openssl verify with a root other than root-cert.pem fails', refused.code !== 0 ? undefined : new Error(`it said: ${refused.stdout.trim()}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
