/**
 * `meshproof diff --live` on running pods: the changed probes of a pair are observed as the review
 * predicts under BASE and, once HEAD is applied to the same pods, under HEAD — on the reference
 * sidecar and on Envoy (where Envoy can be had), with the report valid and nothing left on the
 * engine. And the confirmation can fail: a data plane that ignores portLevelMtls disagrees with
 * the oracle under HEAD, and a prediction that HEAD changes nothing is refuted by the pods.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checkEnvoyAvailability, newRunId, readPolicyInputs, resolveMesh, reviewChange, type ChangeReview, type SidedProbe } from '../../harness/index.ts';
import { MESHPROOF, leftovers } from '../../harness/cli/testing/cli-process.ts';
import { validateReport } from '../../harness/report/report-validator.ts';
import { BreakableDataPlane } from '../shared/testing/breakable-data-plane.ts';
import { confirmChangeLive } from './change-live.ts';

const TOPOLOGY = 'fixtures/diff/base/topology.yaml';

function side(dir: string) {
  const inputs = readPolicyInputs(dir, TOPOLOGY);
  return { dir, policies: inputs.policies.set, mesh: resolveMesh(inputs.policies.set, inputs.topology!) };
}

describe('meshproof diff --live (containers)', function () {
  this.timeout(300_000);

  it('confirms the changed probes of a pair on running pods, BASE then HEAD, on each data plane; report valid, nothing left', async function () {
    const envoy = await checkEnvoyAvailability();
    const planes = envoy.source === undefined ? ['reference'] : ['reference', 'envoy'];
    const out = mkdtempSync(join(tmpdir(), 'meshproof-diff-live-'));
    const r = spawnSync('sh', [MESHPROOF, 'diff', 'fixtures/diff/base', 'fixtures/diff/path-opened', '--live', '--dataplane', planes.join(','), '--seed', '20', '--json', '--report', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const review = JSON.parse(r.stdout) as ChangeReview;
    expect(review.live?.map((l) => l.dataPlane)).to.deep.equal(planes);
    for (const l of review.live ?? []) {
      expect(l.skipped, l.dataPlane).to.equal(undefined);
      expect(l.probes.length, l.dataPlane).to.equal(review.summary.probesChanged);
      expect(l.probes.map((p) => [p.request, p.base.observed, p.head.observed, p.confirmed]), l.dataPlane).to.deep.equal(
        review.groups.flatMap((g) => g.probes).map((p) => [p.request, 'deny', 'allow', true]),
      );
      expect([l.confirmed, l.disagreed]).to.deep.equal([l.probes.length, 0]);
    }
    const report = JSON.parse(readFileSync(join(out, 'latest', 'report.json'), 'utf8')) as { run: { id: string }; cases: { shortName: string; outcome: { status: string } }[]; change?: unknown };
    expect(validateReport(report)).to.deep.equal([]);
    expect(report.cases.map((c) => [c.shortName, c.outcome.status])).to.deep.equal(planes.flatMap(() => [['change-base-authz', 'passed'], ['change-head-authz', 'passed']]));
    for (const plane of planes) expect(leftovers(planes.length === 1 ? report.run.id : `${report.run.id}-${plane}`), plane).to.deep.equal({ containers: [], networks: [] });
  });

  it('can fail: a prediction that HEAD changes nothing is refuted by the pods', async function () {
    const { review, probes } = reviewChange({ base: side('fixtures/diff/base'), head: side('fixtures/diff/port-permissive'), topology: TOPOLOGY });
    const changed = probes.filter((p) => p.base.outcome !== p.head.outcome);
    expect(changed).to.have.length(1);
    // Claim HEAD decides as BASE does: plaintext to 9090 still reset.
    const wrong: SidedProbe[] = changed.map((p) => ({ ...p, head: p.base }));
    const outcome = await confirmChangeLive({ baseDir: 'fixtures/diff/base', headDir: 'fixtures/diff/port-permissive', topologyFile: TOPOLOGY, trustDomain: 'cluster.local', probes: wrong, dataPlane: 'reference', seed: 20, timeScale: 1, runId: newRunId() });
    expect(outcome.confirmation.probes.map((p) => [p.source, p.request, p.destination, p.base.observed, p.base.agrees, p.head.expected, p.head.observed, p.confirmed])).to.deep.equal([
      ['plaintext', 'GET /', 'prod-namespace/payment-service:9090', 'reject', true, 'reject', 'deny', false],
    ]);
    // The live prober holds each side to the oracle for the policies in force, so the pods agree
    // with the oracle (HEAD really answers 403): what failed is the wrong prediction.
    expect(outcome.confirmation.confirmed).to.equal(0);
    expect(outcome.cases.map((c) => [c.shortName, c.outcome.status])).to.deep.equal([
      ['change-base-mtls', 'passed'],
      ['change-head-mtls', 'passed'],
    ]);
    expect(review.summary.portsChanged).to.equal(1);
  });

  it('can fail: a data plane that ignores portLevelMtls keeps resetting plaintext under HEAD, which the oracle answers with 403', async function () {
    const { probes } = reviewChange({ base: side('fixtures/diff/base'), head: side('fixtures/diff/port-permissive'), topology: TOPOLOGY });
    const outcome = await confirmChangeLive({
      baseDir: 'fixtures/diff/base',
      headDir: 'fixtures/diff/port-permissive',
      topologyFile: TOPOLOGY,
      trustDomain: 'cluster.local',
      probes: probes.filter((p) => p.base.outcome !== p.head.outcome),
      dataPlane: 'reference',
      seed: 20,
      timeScale: 1,
      runId: newRunId(),
      wrap: (adapter) => new BreakableDataPlane(adapter, ['port-level-ignored']),
    });
    expect(outcome.confirmation.probes.map((p) => [p.base.observed, p.base.agrees, p.head.observed, p.head.agrees, p.confirmed])).to.deep.equal([['reject', true, 'reject', false, false]]);
    expect([outcome.confirmation.confirmed, outcome.confirmation.disagreed]).to.deep.equal([0, 1]);
    expect(outcome.cases.map((c) => [c.shortName, c.outcome.status])).to.deep.equal([
      ['change-base-mtls', 'passed'],
      ['change-head-mtls', 'failed'],
    ]);
  });
});
