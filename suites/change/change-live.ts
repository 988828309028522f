/**
 * `meshproof diff --live`: the probes whose decision a policy change changes, sent on running pods
 * so that a review shows evidence, not only the oracle's word. The topology's pods start with
 * BASE's policies in force (the security environment `run` uses: the same data plane, the plug-in
 * CA flow and the attacker pod that emulates identities); each changed probe is sent and held to
 * the oracle at both ends (LiveProber); then HEAD's policies are applied to the same pods, as
 * istiod would push them, and every probe is sent again.
 *
 * Each side is one case per area (mTLS where a side refuses the connection, authorization
 * otherwise), run by runCase, so the report has their outcomes and evidence like a run's. A probe
 * is confirmed when both sides observed what the review predicted.
 */
import { resolve } from 'node:path';
import {
  Feature,
  changeDecisionOf,
  requestLabel,
  runCase,
  sourceLabel,
  type Area,
  type CaseResult,
  type ConfirmChangeLive,
  type ConformanceCase,
  type LiveChangeOutcome,
  type LiveChangeProbe,
  type LiveChangeRequest,
  type LiveSideResult,
  type SidedProbe,
} from '../../harness/index.ts';
import { settle } from '../shared/case-support.ts';
import { chooseDataPlane } from '../shared/data-plane-choice.ts';
import { notRunnableLive, type LiveProbeResult } from '../shared/live-prober.ts';
import { matrixCell } from '../shared/report-rows.ts';
import { startSecurityEnv, type StartedSecurityEnv } from '../shared/security-env.ts';

type Side = 'base' | 'head';

const SIDE_NAME: Readonly<Record<Side, string>> = { base: 'BASE', head: 'HEAD' };

/** mTLS when either side refuses the connection before HTTP; authorization otherwise. */
function areaOf(p: SidedProbe): Area {
  return changeDecisionOf(p.base.outcome) === 'reject' || changeDecisionOf(p.head.outcome) === 'reject' ? 'mtls' : 'authz';
}

const FEATURES: Readonly<Record<Area, readonly Feature[]>> = { mtls: [Feature.MtlsStrict], authz: [Feature.AuthzAllow], resilience: [] };

function sideCase(side: Side, area: Area, probes: readonly SidedProbe[], dir: string, send: (p: SidedProbe) => Promise<LiveProbeResult>, before: () => Promise<void>): ConformanceCase<undefined> {
  return {
    shortName: `change-${side}-${area}`,
    description: `The ${probes.length} probe(s) whose ${area === 'mtls' ? 'mTLS' : 'authorization'} decision the change changes, sent live with ${SIDE_NAME[side]}'s policies (${dir}) in force: each is what the oracle says Istio does under them.`,
    area,
    features: FEATURES[area],
    manifests: [dir],
    async test(ctx) {
      await before();
      const results: LiveProbeResult[] = [];
      for (const p of probes) results.push(await send(p));
      ctx.attach('authzMatrix', results.map(matrixCell));
      settle(ctx, results, `changed probes under ${SIDE_NAME[side]}`);
    },
  };
}

function sideResult(probe: SidedProbe, side: Side, result: LiveProbeResult | undefined): LiveSideResult {
  const predicted = probe[side];
  const expected = changeDecisionOf(predicted.outcome);
  if (result === undefined) return { expected, observed: 'not observed (the case ended before it was sent)', agrees: false };
  const note = result.decision.outcome === predicted.outcome ? {} : { note: `re-decided for what was really sent (${result.evidence.from}): ${result.decision.reason}` };
  return { expected, observed: result.observed, agrees: result.agrees, evidence: result.evidence.label, ...note };
}

export const confirmChangeLive: ConfirmChangeLive = async (request: LiveChangeRequest): Promise<LiveChangeOutcome> => {
  const started = performance.now();
  const log = request.log ?? (() => undefined);
  const choice = await chooseDataPlane(request.dataPlane, request.wrap);
  const sendable: SidedProbe[] = [];
  const notSent: { probe: string; reason: string }[] = [];
  for (const p of request.probes) {
    const why = notRunnableLive(p.request) ?? (p.base.outcome === 'not-supported' || p.head.outcome === 'not-supported' ? 'the oracle cannot decide it on one side (external authorization or Envoy metadata)' : undefined);
    if (why === undefined) sendable.push(p);
    else notSent.push({ probe: `${sourceLabel(p.request.source, request.trustDomain)} ${requestLabel(p.request)} → ${p.request.to}`, reason: why });
  }
  const areas = (['mtls', 'authz'] as const).filter((a) => sendable.some((p) => areaOf(p) === a));
  const label = (p: SidedProbe): Pick<LiveChangeProbe, 'destination' | 'source' | 'request'> => ({ destination: `${p.request.to}:${p.base.mtls.port}`, source: sourceLabel(p.request.source, request.trustDomain), request: requestLabel(p.request) });

  if (choice.adapter === undefined) {
    const reason = choice.skipReason ?? `${request.dataPlane} is unavailable`;
    const cases: CaseResult[] = [];
    for (const side of ['base', 'head'] as const) {
      for (const area of areas) cases.push(await runCase(sideCase(side, area, [], side === 'base' ? request.baseDir : request.headDir, () => Promise.reject(new Error('not run')), async () => undefined), { env: undefined, seed: request.seed, supportedFeatures: new Set(choice.info.claimedFeatures), skipReason: reason }));
    }
    return { confirmation: { dataPlane: request.dataPlane, version: choice.info.version, skipped: reason, probes: [], notSent, confirmed: 0, disagreed: 0, durationMs: Math.round(performance.now() - started) }, cases, dataPlane: choice.info };
  }

  const observed: Record<Side, Map<SidedProbe, LiveProbeResult>> = { base: new Map(), head: new Map() };
  const cases: CaseResult[] = [];
  let env: StartedSecurityEnv | undefined;
  try {
    env = await startSecurityEnv({
      suiteDir: resolve(request.baseDir),
      manifests: [resolve(request.baseDir)],
      topologyFile: request.topologyFile,
      dataPlane: choice.adapter,
      seed: request.seed,
      timeScale: request.timeScale,
      runId: request.runId,
    });
    log(`pods of ${request.topologyFile} running on ${choice.info.name} ${choice.info.version} with BASE in force (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const running = env;
    let headApplied: Promise<void> | undefined;
    const applyHead = (): Promise<void> => {
      headApplied ??= running.use([resolve(request.headDir)]).then(() => log(`HEAD's policies applied to the running pods (${((performance.now() - started) / 1000).toFixed(1)} s)`));
      return headApplied;
    };
    for (const side of ['base', 'head'] as const) {
      for (const area of areas) {
        const probes = sendable.filter((p) => areaOf(p) === area);
        const send = async (p: SidedProbe): Promise<LiveProbeResult> => {
          const result = await running.prober.run(running.prober.fromRequest(p.request));
          observed[side].set(p, result);
          return result;
        };
        const dir = side === 'base' ? request.baseDir : request.headDir;
        const result = await runCase(sideCase(side, area, probes, dir, send, side === 'head' ? applyHead : async () => undefined), { env: undefined, seed: request.seed, supportedFeatures: new Set(choice.info.claimedFeatures) });
        cases.push(result);
        log(`${SIDE_NAME[side]} ${area}: ${probes.length} probe(s) sent, case ${result.outcome.status}`);
      }
    }
  } finally {
    await env?.close();
  }
  const rows = sendable.map((p) => {
    const seenBase = observed.base.get(p);
    const seenHead = observed.head.get(p);
    const base = sideResult(p, 'base', seenBase);
    const head = sideResult(p, 'head', seenHead);
    // A probe that was not sent (its case ended in error) is no evidence either way.
    const disagrees = (seenBase !== undefined && !seenBase.agrees) || (seenHead !== undefined && !seenHead.agrees);
    const row: LiveChangeProbe = { ...label(p), base, head, confirmed: base.agrees && head.agrees && base.observed === base.expected && head.observed === head.expected };
    return { row, disagrees };
  });
  return {
    confirmation: {
      dataPlane: choice.info.name,
      version: choice.info.version,
      probes: rows.map((r) => r.row),
      notSent,
      confirmed: rows.filter((r) => r.row.confirmed).length,
      disagreed: rows.filter((r) => r.disagrees).length,
      durationMs: Math.round(performance.now() - started),
    },
    cases,
    dataPlane: choice.info,
    runtime: { kind: 'docker', ...(env === undefined ? {} : { engineVersion: env.engineVersion }) },
  };
};
