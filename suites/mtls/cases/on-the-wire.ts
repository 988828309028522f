/**
 * What an eavesdropper on the pod network sees (seed note 004: someone who broke into one
 * container and runs tcpdump). The mode cases prove who gets in; these prove what crosses the
 * network readable. Each request carries a random canary in its path, a header and its body; the
 * run's capture of its bridge (WireObserver) is asked where the canary was readable and what the
 * TLS handshake of the connection that carried it shows:
 *
 *   caller      STRICT                          PERMISSIVE                 DISABLE
 *   in-mesh     encrypted (Istio mTLS)          encrypted (auto mTLS)      readable (auto mTLS sends plaintext)
 *   plaintext   its own request readable,       readable                   readable
 *               no reply at all
 *
 * Readable requests that Istio sends readable are findings ("a passive attacker on the network
 * reads these requests"), never hidden; anything else readable fails the case. Where the pod
 * network cannot be captured here, the case is skipped with the reason, never passed.
 */
import { ErrorCode, Feature, MeshproofError, type CaseContext, type ConformanceCase, type WireExpectation } from '../../../harness/index.ts';
import { holdToTable, serviceLabel, settle } from '../../shared/case-support.ts';
import type { ExpectedDecision } from '../../shared/live-decision.ts';
import type { ProbeSource } from '../../shared/live-prober.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { judgeOnWire, sendWireProbe, type JudgedWireProbe, type SentWireProbe, type WireRowLabel } from '../../shared/wire-probe.ts';
import { BASE_MANIFESTS, LEGACY_CLIENT, ORDER_CLIENT, ORDER_SA, portsInMode } from './common.ts';

type Mode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

interface WireTable {
  readonly shortName: string;
  readonly description: string;
  readonly feature: Feature;
  readonly mode: Mode;
  /** The workload ports in this mode under BASE_MANIFESTS, `namespace/name:port`. */
  readonly ports: readonly string[];
  readonly inMesh: { readonly decision: ExpectedDecision; readonly wire: WireExpectation };
  readonly plaintext: { readonly decision: ExpectedDecision; readonly wire: WireExpectation };
}

const TABLES: readonly WireTable[] = [
  {
    shortName: 'strict-on-the-wire',
    description:
      "STRICT (payment-service:8080), seen from the pod network: the in-mesh clients' requests cross it only inside TLS ≥ 1.2 opened with Istio's ALPN (their canary nowhere readable); a plaintext caller's request is readable because it sent it so, and the server sends nothing back.",
    feature: Feature.MtlsStrict,
    mode: 'STRICT',
    ports: ['prod-namespace/payment-service:8080'],
    inMesh: { decision: 'allow', wire: 'mtls' },
    plaintext: { decision: 'reject', wire: 'no-reply' },
  },
  {
    shortName: 'permissive-on-the-wire',
    description:
      "PERMISSIVE (product-service:8082, inventory-service:9080), seen from the pod network: in-mesh clients' requests are encrypted (auto mTLS); a plaintext caller's requests and the answers cross it readable, which the report lists as a finding.",
    feature: Feature.MtlsPermissive,
    mode: 'PERMISSIVE',
    ports: ['prod-namespace/product-service:8082', 'legacy/inventory-service:9080'],
    inMesh: { decision: 'allow', wire: 'mtls' },
    plaintext: { decision: 'allow', wire: 'cleartext' },
  },
  {
    shortName: 'disable-on-the-wire',
    description:
      'DISABLE (product-service:8083), seen from the pod network: every request crosses it readable, the in-mesh clients\' too (auto mTLS sends plaintext to a DISABLE port); each is listed as a finding.',
    feature: Feature.MtlsDisable,
    mode: 'DISABLE',
    ports: ['prod-namespace/product-service:8083'],
    inMesh: { decision: 'allow', wire: 'cleartext' },
    plaintext: { decision: 'allow', wire: 'cleartext' },
  },
];

const CALLERS: readonly { readonly client: string; readonly clientKind: string; readonly source: ProbeSource; readonly inMesh: boolean }[] = [
  { client: 'order-client', clientKind: `${ORDER_SA.namespace}/${ORDER_SA.serviceAccount}`, source: { kind: 'participant', name: ORDER_CLIENT }, inMesh: true },
  { client: 'product-client', clientKind: 'prod-namespace/product-service-sa', source: { kind: 'participant', name: 'prod-namespace/product-client' }, inMesh: true },
  { client: 'legacy-client', clientKind: 'plaintext', source: { kind: 'participant', name: LEGACY_CLIENT }, inMesh: false },
];

/** Skips the case, with the reason, when the pod network is not (or no longer) captured. */
export async function requireWire(ctx: CaseContext<SecurityEnv>): Promise<NonNullable<SecurityEnv['mesh']['wire']>> {
  const wire = ctx.env.mesh.wire;
  const blind = wire === undefined ? 'this environment was started without a capture of its pod network' : await wire.blindReason();
  if (blind !== undefined || wire === undefined) ctx.skip(`what an eavesdropper on the pod network sees cannot be observed here: ${blind ?? 'no capture'}`);
  return wire;
}

/**
 * Holds a case to its wire verdicts: broken ones fail it (every one listed), readable ones Istio
 * sends readable become findings, and one the capture could not tell ends it in error.
 */
export function settleWire(ctx: CaseContext<SecurityEnv>, judged: readonly JudgedWireProbe[], what: string): void {
  const findings = new Set<string>();
  for (const j of judged) {
    if (j.verdict.status === 'held' && j.row.seen === 'cleartext') {
      findings.add(`${j.row.serverMode} ${j.row.service}: a passive attacker on the network reads these requests: ${j.row.client} (${j.row.clientKind})'s requests cross the pod network readable ("${j.row.excerpt ?? ''}")`);
    }
  }
  for (const text of findings) ctx.finding(text);
  const broken = judged.flatMap((j) => (j.verdict.status === 'broken' ? [`${j.row.client} → ${j.row.service} (${j.row.serverMode}): ${j.verdict.message}`] : []));
  ctx.verify(`${what}: what an eavesdropper on the pod network sees of ${judged.length} request(s)`, broken.length === 0 ? undefined : new Error(broken.join('; ')));
  const blind = judged.find((j) => j.verdict.status === 'unobserved');
  if (blind !== undefined && blind.verdict.status === 'unobserved') {
    throw new MeshproofError(ErrorCode.WireCapture, `the capture of the pod network cannot tell what ${blind.row.client} → ${blind.row.service} looked like: ${blind.verdict.reason}`);
  }
}

function wireCase(table: WireTable): ConformanceCase<SecurityEnv> {
  return {
    shortName: table.shortName,
    description: table.description,
    area: 'mtls',
    features: [table.feature],
    manifests: BASE_MANIFESTS,
    async test(ctx) {
      const env = ctx.env;
      const wire = await requireWire(ctx);
      const mesh = await env.use(BASE_MANIFESTS);
      const sent: { probe: SentWireProbe; expect: WireExpectation; label: WireRowLabel }[] = [];
      for (const { key, to, port } of portsInMode(ctx, mesh, table.ports, table.mode)) {
        for (const caller of CALLERS) {
          const row = caller.inMesh ? table.inMesh : table.plaintext;
          const probe = await sendWireProbe(env.prober, env.canaries, { source: caller.source, to, port, method: 'POST', path: '/pay' });
          holdToTable(probe.result, row.decision, `${caller.clientKind} → ${key} (${table.mode})`);
          sent.push({ probe, expect: row.wire, label: { client: caller.client, clientKind: caller.clientKind, service: serviceLabel(mesh, to, port), serverMode: table.mode } });
        }
      }
      const stopped = await wire.blindReason();
      if (stopped !== undefined) ctx.skip(`the capture of the pod network stopped during the case: ${stopped}`);
      const capture = await wire.read();
      const judged = sent.map((s) => judgeOnWire(env.mesh, capture, s.probe, s.expect, s.label, mesh.mesh.minTlsVersion));
      ctx.attach('wire', judged.map((j) => j.row));
      settleWire(ctx, judged, `${table.mode} on ${table.ports.join(', ')}`);
      settle(
        ctx,
        sent.map((s) => s.probe.result),
        `${table.mode} on ${table.ports.join(', ')}`,
      );
    },
  };
}

export const wireCases: readonly ConformanceCase<SecurityEnv>[] = TABLES.map(wireCase);
