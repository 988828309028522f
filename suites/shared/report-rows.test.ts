import { expect } from 'chai';
import { RBAC_DENIED_BODY, type CallEvidence, type Decision, type Observation } from '../../harness/index.ts';
import { PROBE_HEADER, expectedDecisionOf, matchesDecision, observedDecision } from './live-decision.ts';
import type { LiveProbe, LiveProbeResult } from './live-prober.ts';
import { clientModeOf, liveRuleCoverage, matrixCell, rulesOf, tlsCheckRow } from './report-rows.ts';
import { ORDER_ID, seedMesh, seedOracle } from './testing/seed-mesh.ts';

const AUDIT = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: audit-posts, namespace: prod-namespace}
spec:
  selector: {matchLabels: {app: payment-service}}
  action: AUDIT
  rules:
  - to: [{operation: {methods: ["POST"]}}]
`;

/** A result as the prober builds it, from a decision and what came back. */
function result(decision: Decision, observation: Observation, probe: Partial<LiveProbe> = {}, seen = false): LiveProbeResult {
  const tag = 'p1';
  const evidence: CallEvidence = {
    label: 'x',
    from: 'a',
    to: 'b',
    observation,
    serverSaw: seen ? [{ pod: 'payment-service-0.prod-namespace', method: 'POST', path: '/pay/1', headers: { [PROBE_HEADER]: tag }, protocol: 'HTTP/1.1', requestId: 1, ...(decision.peer === undefined ? {} : { peerIdentity: decision.peer }) }] : [],
    accessLog: [{ time: '', direction: 'inbound', pod: 'payment-service-0.prod-namespace', status: 403, responseFlags: '-', responseCodeDetails: 'rbac_access_denied_matched_policy[none]', durationMs: 1 }],
  };
  const failure = matchesDecision(decision, { tag })(evidence);
  return {
    probe: { source: { kind: 'participant', name: 'prod-namespace/order-client' }, to: 'prod-namespace/payment-service', ...probe },
    tag,
    sourceLabel: 'prod-namespace/order-service-sa',
    requestLabel: 'POST /pay/1',
    evidence,
    pods: { caller: 'order-client-0.prod-namespace', server: 'payment-service-0.prod-namespace' },
    decision,
    expected: expectedDecisionOf(decision.outcome)!,
    observed: observedDecision(evidence, tag),
    ...(failure === undefined ? {} : { failure }),
    agrees: failure === undefined,
  };
}

const https = { protocol: 'https' as const, host: '10.0.0.2', port: 8080, tls: { certChainPem: 'CERT', keyPem: 'KEY' } };
const ok: Observation = { request: https, outcome: 'response', status: 200, body: '{}', startedAt: 0, durationMs: 1 };
const forbidden: Observation = { ...ok, status: 403, body: RBAC_DENIED_BODY };

describe('report rows', function () {
  const oracle = seedOracle(AUDIT);
  const allowed = oracle.decide({ source: { kind: 'mesh', identity: ORDER_ID }, to: 'prod-namespace/payment-service', method: 'POST', path: '/pay/1' });
  const denied = oracle.decide({ source: { kind: 'mesh', identity: ORDER_ID }, to: 'prod-namespace/payment-service', method: 'GET', path: '/pay/1' });

  it('makes a matrix cell per probe, with the deciding rule and whether both ends agreed', function () {
    expect(matrixCell(result(allowed, ok, {}, true))).to.deep.equal({
      source: 'prod-namespace/order-service-sa',
      request: 'POST /pay/1',
      destination: 'prod-namespace/payment-service:8080',
      expected: 'allow',
      observed: 'allow',
      rule: 'prod-namespace/restrict-payment-access/rules[0]',
      agrees: true,
    });
    expect(matrixCell(result(denied, ok, {}, true))).to.include({ expected: 'deny', observed: 'allow', agrees: false });
  });

  it('lists every rule of the policies selecting the workloads', function () {
    expect(rulesOf(seedMesh(AUDIT))).to.deep.equal([
      { rule: 'prod-namespace/audit-posts/rules[0]', policy: 'prod-namespace/audit-posts' },
      { rule: 'prod-namespace/restrict-payment-access/rules[0]', policy: 'prod-namespace/restrict-payment-access' },
    ]);
    expect(rulesOf(seedMesh(AUDIT), ['legacy/inventory-service'])).to.deep.equal([]);
  });

  it('counts a rule exercised only by probes whose live result agreed', function () {
    const rules = rulesOf(seedMesh(AUDIT));
    const coverage = liveRuleCoverage(rules, [
      { result: result(allowed, ok, {}, true) }, // decided by the ALLOW rule, audited by the AUDIT rule
      { result: result(denied, forbidden), aimedAt: { ruleId: 'prod-namespace/restrict-payment-access/rules[0]', intent: 'miss' } },
      { result: result(denied, ok, {}, true), aimedAt: { ruleId: 'prod-namespace/restrict-payment-access/rules[0]', intent: 'miss' } }, // disagreed: counts for nothing
    ]);
    expect(coverage).to.deep.equal([
      { rule: 'prod-namespace/audit-posts/rules[0]', policy: 'prod-namespace/audit-posts', probesMatching: 1, probesJustMissing: 0, exercised: true },
      { rule: 'prod-namespace/restrict-payment-access/rules[0]', policy: 'prod-namespace/restrict-payment-access', probesMatching: 1, probesJustMissing: 1, exercised: true },
    ]);
    expect(liveRuleCoverage(rules, [{ result: result(denied, ok, {}, true) }]).every((r) => !r.exercised)).to.equal(true);
  });

  it('writes a tls-check row from what the client sent and what happened', function () {
    const plain = oracle.decide({ source: { kind: 'plaintext' }, to: 'prod-namespace/payment-service', method: 'POST', path: '/pay/1' });
    const reset: Observation = { request: { protocol: 'http', host: '10.0.0.2', port: 8080 }, outcome: 'reset', startedAt: 0, durationMs: 1 };
    const row = tlsCheckRow({ client: 'legacy-client', clientKind: 'plaintext', service: 'payment-service.prod-namespace:80', result: result(plain, reset) });
    expect(row).to.deep.equal({ client: 'legacy-client', clientKind: 'plaintext', service: 'payment-service.prod-namespace:80', serverMode: 'STRICT', clientMode: 'PLAINTEXT', observed: 'reset', expected: 'reset', agrees: false });
    // agrees is false above: the fabricated access log has no NR line, and the check wants one.
    expect(result(plain, reset).failure?.message).to.contain('not NR');
  });

  it('names what the client spoke', function () {
    expect(clientModeOf(result(allowed, ok, {}, true))).to.equal('MTLS');
    expect(clientModeOf(result(allowed, { ...ok, request: { ...https, tls: { maxVersion: 'TLSv1.2' } } }))).to.equal('TLS (no client cert) ≤ TLSv1.2');
  });
});
