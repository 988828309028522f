/**
 * How fast the mesh CA issues workload certificates, per key algorithm.
 *
 * The issue's target: 100 workload certificates in under 2 s on the project machine. Each issue()
 * is the whole agent flow: service-account credential, fresh key, CSR, CSR check, signature.
 * Run: sh scripts/node.sh bench/pki.bench.ts   (figures are printed, never asserted)
 */
import { cpus } from 'node:os';
import { generateKeyPair, type KeyAlgorithm } from '../harness/pki/key-algorithm.ts';
import { MeshCa } from '../harness/pki/mesh-ca.ts';

const COUNT = 100;
const payment = { namespace: 'prod', serviceAccount: 'payment' };

async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function sequential(n: number, make: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i++) await make(i);
}

interface Row {
  readonly what: string;
  readonly ms: number;
}

const rows: Row[] = [];
const report = (what: string, ms: number): void => {
  rows.push({ what, ms });
  process.stdout.write(`  ${what.padEnd(62)} ${ms.toFixed(0).padStart(6)} ms  (${(ms / COUNT).toFixed(2)} ms each)\n`);
};

process.stdout.write(`meshproof pki bench: ${COUNT} of each, Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}\n`);

for (const algorithm of ['ecdsa-p256', 'rsa-2048'] as const satisfies readonly KeyAlgorithm[]) {
  await sequential(5, () => generateKeyPair(algorithm)); // warm up
  report(`key generation only, ${algorithm}, one after another`, await time(() => sequential(COUNT, () => generateKeyPair(algorithm))));
}

for (const [caAlg, workloadAlg] of [
  ['ecdsa-p256', 'ecdsa-p256'],
  ['ecdsa-p256', 'rsa-2048'],
  ['rsa-2048', 'rsa-2048'],
] as const) {
  const ca = await MeshCa.create({ caKeyAlgorithm: caAlg });
  await sequential(5, () => ca.issue(payment, { keyAlgorithm: workloadAlg })); // warm up
  report(`issue(), CA ${caAlg}, workload keys ${workloadAlg}, one after another`, await time(() => sequential(COUNT, () => ca.issue(payment, { keyAlgorithm: workloadAlg }))));
  report(
    `issue(), CA ${caAlg}, workload keys ${workloadAlg}, all at once`,
    await time(() => Promise.all(Array.from({ length: COUNT }, () => ca.issue(payment, { keyAlgorithm: workloadAlg })))),
  );
}

const target = rows.find((row) => row.what.startsWith('issue(), CA ecdsa-p256, workload keys ecdsa-p256, one after another'));
if (target !== undefined) {
  process.stdout.write(`default (ECDSA P-256) issues ${COUNT} certificates in ${target.ms.toFixed(0)} ms: ${target.ms < 2_000 ? 'within' : 'NOT within'} the 2 s target\n`);
}
