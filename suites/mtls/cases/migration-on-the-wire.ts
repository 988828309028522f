/**
 * The migration to STRICT (seed note 002), seen from the pod network: prod-namespace's policy
 * `default` goes from PERMISSIVE to STRICT on running pods while order-service and the sidecar-less
 * legacy-client both call payment-service without pause, every request with its own canary.
 * The capture shows the moment plaintext stops: legacy-client's requests are answered readably
 * before the change and get nothing back once every sidecar enforces STRICT; order-service's
 * requests cross the network only inside TLS before, during and after.
 */
import { Feature, findNeedle, type ConformanceCase, type ExperimentJournal, type WireCapture } from '../../../harness/index.ts';
import { settle } from '../../shared/case-support.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { SteadyTraffic, type SteadyResult } from '../../shared/steady-traffic.ts';
import { canaryOf, judgeOnWire, withCanary, type JudgedWireProbe } from '../../shared/wire-probe.ts';
import { LEGACY_CLIENT, ORDER_CLIENT, ORDER_SA, PAYMENT, PROD_STRICT } from './common.ts';
import { requireWire, settleWire } from './on-the-wire.ts';

const PERMISSIVE = 'cases/prod-namespace-permissive.yaml';
/** Requests of each steady stream wanted before the change and after it. */
const EACH_SIDE = 6;
const SERVICE = 'payment-service.prod-namespace:80';

export const migrationWireCase: ConformanceCase<SecurityEnv> = {
  shortName: 'migration-on-the-wire',
  description:
    "prod-namespace's PeerAuthentication `default` goes from PERMISSIVE to STRICT on running pods under steady traffic, seen from the pod network: legacy-client's plaintext requests to payment-service are answered readably before the change and get no reply once every sidecar enforces STRICT (the journal gives the moment the last readable answer crossed the network); order-service's requests are inside TLS throughout.",
  area: 'mtls',
  features: [Feature.MtlsMigration, Feature.MtlsStrict, Feature.MtlsPermissive],
  manifests: [PERMISSIVE, PROD_STRICT],
  async test(ctx) {
    const env = ctx.env;
    const wire = await requireWire(ctx);
    await env.use([PERMISSIVE]);
    const inMesh = SteadyTraffic.start(env.prober, () => withCanary({ source: { kind: 'participant', name: ORDER_CLIENT }, to: PAYMENT, method: 'POST', path: '/pay/steady' }, env.canaries.next()));
    const plain = SteadyTraffic.start(env.prober, () => withCanary({ source: { kind: 'participant', name: LEGACY_CLIENT }, to: PAYMENT, method: 'POST', path: '/pay/steady' }, env.canaries.next()));
    const t0 = Math.min(inMesh.startedAt, plain.startedAt);
    let change = { from: 0, to: 0 };
    let results: { inMesh: readonly SteadyResult[]; plain: readonly SteadyResult[] };
    try {
      await Promise.all([inMesh.atLeast(EACH_SIDE), plain.atLeast(EACH_SIDE)]);
      const from = Date.now();
      await env.use([PROD_STRICT]);
      change = { from, to: Date.now() };
      await Promise.all([inMesh.atLeast(inMesh.count + EACH_SIDE), plain.atLeast(plain.count + EACH_SIDE)]);
    } finally {
      results = { inMesh: await inMesh.stop(), plain: await plain.stop() };
    }
    const stopped = await wire.blindReason();
    if (stopped !== undefined) ctx.skip(`the capture of the pod network stopped during the case: ${stopped}`);
    const capture = await wire.read();
    const minTls = env.mesh.mesh.mesh.minTlsVersion;
    const at = (stream: SteadyTraffic, r: SteadyResult) => ({ from: stream.startedAt + r.atMs, to: stream.startedAt + r.doneMs });
    const judge = (stream: SteadyTraffic, r: SteadyResult, expect: 'mtls' | 'no-reply' | 'cleartext', mode: 'STRICT' | 'PERMISSIVE', client: string, clientKind: string): JudgedWireProbe =>
      judgeOnWire(env.mesh, capture, { result: r.result, canary: canaryOf(r.result)!, fromMs: at(stream, r).from, toMs: at(stream, r).to }, expect, { client, clientKind, service: SERVICE, serverMode: mode }, minTls);

    // order-service: inside TLS whatever the policy of the moment.
    const encrypted = results.inMesh.map((r) => judge(inMesh, r, 'mtls', at(inMesh, r).to <= change.from ? 'PERMISSIVE' : 'STRICT', 'order-client', `${ORDER_SA.namespace}/${ORDER_SA.serviceAccount}`));
    // legacy-client: answered readably before the change began; nothing back once it is in force.
    const before = results.plain.filter((r) => at(plain, r).to < change.from);
    const after = results.plain.filter((r) => at(plain, r).from > change.to);
    const plaintextBefore = before.map((r) => judge(plain, r, 'cleartext', 'PERMISSIVE', 'legacy-client', 'plaintext'));
    const plaintextAfter = after.map((r) => judge(plain, r, 'no-reply', 'STRICT', 'legacy-client', 'plaintext'));
    const replies = repliesOf(capture, results.plain);
    const answered = before.filter((r) => replies.has(r));
    const replyTimes = [...replies.values()].filter((t): t is number => t !== undefined);
    const lastReply = replyTimes.length === 0 ? undefined : Math.max(...replyTimes);
    const tls = encrypted.find((j) => j.row.tls !== undefined)?.row.tls;

    const ms = (t: number): string => `+${Math.round(t - t0)} ms`;
    const entries: ExperimentJournal['entries'][number][] = [
      { atMs: 0, phase: 'before', text: `PERMISSIVE: ${answered.length} of ${before.length} plaintext POST /pay/steady from legacy-client answered, request and answer readable on the pod network; order-client's requests inside ${tls === undefined ? 'TLS' : `${tls.version} ${tls.cipherSuite}`}` },
      { atMs: change.from - t0, phase: 'inject', text: `apply ${PROD_STRICT} (mode STRICT) to the running sidecars` },
      { atMs: change.to - t0, phase: 'during', text: `every sidecar enforces STRICT ${change.to - change.from} ms after the change` },
      {
        atMs: (lastReply ?? change.from) - t0,
        phase: 'during',
        text:
          lastReply === undefined
            ? 'no readable answer to a plaintext request was seen on the wire'
            : `plaintext stopped: the last readable answer to legacy-client crossed the pod network at ${ms(lastReply)}, ${Math.round(lastReply - change.from)} ms after the change began and ${lastReply <= change.to ? `${Math.round(change.to - lastReply)} ms before every sidecar reported STRICT in force` : `${Math.round(lastReply - change.to)} ms AFTER every sidecar reported STRICT in force`}`,
      },
      { atMs: Math.max(...results.plain.map((r) => r.doneMs), 0) + plain.startedAt - t0, phase: 'after', text: `STRICT: ${plaintextAfter.filter((j) => j.verdict.status === 'held').length} of ${after.length} plaintext requests sent after the change got nothing back; ${encrypted.filter((j) => j.verdict.status === 'held').length} of ${encrypted.length} in-mesh requests inside TLS` },
    ];
    ctx.attach('experiment', {
      hypothesis: 'seen from the pod network, plaintext to payment-service stops when STRICT is in force, and order-service → payment-service stays encrypted throughout',
      entries: entries.sort((a, b) => a.atMs - b.atMs),
      steadyState: {
        before: plaintextBefore.every((j) => j.verdict.status === 'held') && encrypted.filter((j) => j.row.serverMode === 'PERMISSIVE').every((j) => j.verdict.status === 'held'),
        during: encrypted.every((j) => j.verdict.status === 'held'),
        after: plaintextAfter.every((j) => j.verdict.status === 'held'),
      },
    });
    ctx.verify(
      `plaintext requests on both sides of the change (${before.length} before, ${after.length} after)`,
      before.length > 0 && after.length > 0 ? undefined : new Error(`wanted plaintext requests wholly before and wholly after the change; the change took ${change.to - change.from} ms`),
    );
    settleWire(ctx, [...encrypted, ...plaintextBefore, ...plaintextAfter], 'PERMISSIVE → STRICT under steady traffic');
    settle(
      ctx,
      results.inMesh.map((r) => r.result),
      'order-service → payment-service during the migration',
    );
  },
};

/** Where each plaintext request's canary crossed the wire on its way back to the caller: when, if it did. */
function repliesOf(capture: WireCapture, results: readonly SteadyResult[]): Map<SteadyResult, number | undefined> {
  const out = new Map<SteadyResult, number | undefined>();
  for (const r of results) {
    const reply = findNeedle(capture, canaryOf(r.result) ?? '').find((s) => s.direction === 'to-client');
    if (reply !== undefined) out.set(r, reply.atMs);
  }
  return out;
}
