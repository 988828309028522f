/**
 * meshproof diff on policy pairs written for it (fixtures/diff): each change is listed exactly —
 * which probes change, which way, and what decides them on each side with file:line — and an
 * unchanged pair is "no change".
 */
import { expect } from 'chai';
import { readIntentFile } from '../conformance/intent-file.ts';
import { readPolicyInputs } from '../model/policy-inputs.ts';
import { resolveMesh } from '../model/resolve.ts';
import type { ChangeReview } from './change-review.ts';
import { reviewChange, type ChangeSideInput } from './review-change.ts';

const DIR = 'fixtures/diff';
const TOPOLOGY = `${DIR}/base/topology.yaml`;

function sideOf(dir: string): ChangeSideInput {
  const inputs = readPolicyInputs(dir, TOPOLOGY);
  expect(inputs.issues.filter((i) => i.severity === 'error'), dir).to.deep.equal([]);
  if (inputs.topology === undefined) throw new Error('no topology');
  return { dir, policies: inputs.policies.set, mesh: resolveMesh(inputs.policies.set, inputs.topology) };
}

function review(head: string, intents = false): ChangeReview {
  return reviewChange({ base: sideOf(`${DIR}/base`), head: sideOf(`${DIR}/${head}`), topology: TOPOLOGY, ...(intents ? { intents: readIntentFile(`${DIR}/intent.yaml`) } : {}) }).review;
}

/** Every changed probe as one line: direction, transition, caller, request, destination. */
function changed(r: ChangeReview): string[] {
  return r.groups.flatMap((g) => g.probes.map((p) => `${p.direction} ${p.base}→${p.head} ${p.source} ${p.request} → ${p.destination}`));
}

function causes(r: ChangeReview): string[] {
  const c = (x: ChangeReview['groups'][number]['base']): string => `${x.text}${x.edit === undefined || x.edit === 'unchanged' ? '' : ` [${x.edit}]`}${x.at === undefined ? '' : ` @${x.at}`}`;
  return r.groups.map((g) => `${c(g.base)} ⇒ ${c(g.head)}`);
}

describe('meshproof diff: policy pairs', function () {
  this.timeout(20_000);

  it('a path opened to another service account: the new rule, with its line, widens access for exactly that caller and path', function () {
    const r = review('path-opened');
    expect(changed(r)).to.deep.equal(
      ['/pay/status/probe', '/pay/status//probe', '/pay/status/./probe', '/pay/status/meshproof/../probe', '/pay/status/%2e/probe', '/pay/status/probe;x=1', '/pay/status/probe#fragment'].map(
        (path) => `widens deny→allow prod-namespace/product-service-sa GET ${path} → prod-namespace/payment-service:8080`,
      ),
    );
    expect(causes(r)).to.deep.equal([
      'no rule of ALLOW policy prod-namespace/restrict-payment-access matches [changed] @fixtures/diff/base/payment-authorization.yaml:2 ⇒ ALLOW rule prod-namespace/restrict-payment-access/rules[1] [added] @fixtures/diff/path-opened/payment-authorization.yaml:21',
    ]);
    expect(r.widenings).to.have.length(1);
    expect(r.widenings[0]).to.match(/^7 request\(s\) denied before are now allowed: .*rules\[1\] \[added in HEAD\], fixtures\/diff\/path-opened\/payment-authorization\.yaml:21/);
    expect(r.resources).to.deep.equal([{ kind: 'AuthorizationPolicy', name: 'prod-namespace/restrict-payment-access', edit: 'changed', baseAt: 'fixtures/diff/base/payment-authorization.yaml:2', headAt: 'fixtures/diff/path-opened/payment-authorization.yaml:2', parts: ['spec.rules[1]'] }]);
    expect(r.ports).to.deep.equal([]);
    expect(r.resilience).to.deep.equal([]);
    expect(r.summary).to.deep.include({ probesChanged: 7, widens: 7, narrows: 0, noChange: false });
  });

  it('a DENY removed: the request it stopped where an ALLOW rule lets it through is now allowed', function () {
    const r = review('deny-removed');
    expect(changed(r)).to.deep.equal(['widens deny→allow prod-namespace/order-service-sa POST /pay/admin/probe → prod-namespace/payment-service:8080']);
    expect(causes(r)).to.deep.equal([
      'DENY rule prod-namespace/deny-payment-admin/rules[0] [removed] @fixtures/diff/base/payment-authorization.yaml:33 ⇒ ALLOW rule prod-namespace/restrict-payment-access/rules[0] @fixtures/diff/deny-removed/payment-authorization.yaml:13',
    ]);
    expect(r.resources.map((c) => `${c.edit} ${c.kind} ${c.name}`)).to.deep.equal(['removed AuthorizationPolicy prod-namespace/deny-payment-admin']);
  });

  it('STRICT relaxed to PERMISSIVE on one port: that port widens, plaintext to it is answered (403) instead of reset, the other port is untouched', function () {
    const r = review('port-permissive');
    expect(r.ports.map((p) => `${p.workload}:${p.port} ${p.base}→${p.head} widens=${p.widens} via ${p.headVia} @${p.headAt}`)).to.deep.equal([
      'prod-namespace/payment-service:9090 STRICT→PERMISSIVE widens=true via port-level PeerAuthentication prod-namespace/payment-admin-permissive @fixtures/diff/port-permissive/payment-admin-peer-authentication.yaml:2',
    ]);
    expect(changed(r)).to.deep.equal(['changes reject→deny plaintext GET / → prod-namespace/payment-service:9090']);
    expect(causes(r)).to.deep.equal([
      'plaintext refused: port 9090 STRICT via namespace PeerAuthentication prod-namespace/default @fixtures/diff/base/peer-authentication.yaml:2 ⇒ no rule of ALLOW policy prod-namespace/restrict-payment-access matches @fixtures/diff/port-permissive/payment-authorization.yaml:2',
    ]);
    expect(r.groups[0]?.head.mtls).to.equal('port 9090 PERMISSIVE via port-level PeerAuthentication prod-namespace/payment-admin-permissive');
    expect(r.widenings).to.have.length(1);
    expect(r.widenings[0]).to.match(/^prod-namespace\/payment-service:9090 is PERMISSIVE instead of STRICT/);
  });

  it('a notPaths typo: the path it meant to exclude is now allowed, the misspelt one denied', function () {
    const r = review('notpaths-typo');
    expect(changed(r)).to.deep.equal([
      'widens deny→allow prod-namespace/order-service-sa GET /catalog/internal/probe → prod-namespace/product-service:8082',
      'narrows allow→deny prod-namespace/order-service-sa GET /catalog/interal/probe → prod-namespace/product-service:8082',
    ]);
    expect(causes(r)[0]).to.equal(
      'no rule of ALLOW policy prod-namespace/catalog-readers matches [changed] @fixtures/diff/base/product-authorization.yaml:2 ⇒ ALLOW rule prod-namespace/catalog-readers/rules[0] [changed] @fixtures/diff/notpaths-typo/product-authorization.yaml:13',
    );
    expect(r.summary).to.deep.include({ widens: 1, narrows: 1 });
  });

  it('an outlier setting loosened: one consequence in plain words, for both ports of the service, no probe changes', function () {
    const r = review('outlier-loosened');
    expect(changed(r)).to.deep.equal([]);
    expect(r.resilience.map((c) => ({ service: c.service, ports: c.ports, aspect: c.aspect, direction: c.direction, clauses: c.clauses }))).to.deep.equal([
      {
        service: 'prod-namespace/payment-service',
        ports: [80, 9090],
        aspect: 'outlier',
        direction: 'looser',
        clauses: [
          'an endpoint returning 5xx is now ejected after 5 consecutive errors instead of 3',
          'an ejected endpoint stays out for 15 s instead of 30 s (first ejection; each further one in a row lasts longer)',
          'at most 1 of 4 endpoint(s) out at once instead of 2 (maxEjectionPercent 25% instead of 50%)',
        ],
      },
    ]);
    expect(r.resilience[0]?.headAt).to.equal('DestinationRule prod-namespace/payment-service-cb (fixtures/diff/outlier-loosened/destination-rule.yaml:2)');
    expect(r.summary).to.deep.include({ resilienceChanged: 1, noChange: false });
  });

  it('an unchanged pair (documents reordered, comments and formatting changed) is "no change"', function () {
    const r = review('unchanged');
    expect(r.summary.noChange).to.equal(true);
    expect(r.summary.text).to.match(/^no change: the \d+ probes of both sides get the same decisions/);
    expect([r.groups, r.ports, r.resources, r.resilience, r.widenings]).to.deep.equal([[], [], [], [], []]);
  });

  it('--expect: an intent BASE kept and HEAD breaks is a regression, at its line; the others are kept', function () {
    const r = review('path-opened', true);
    expect(r.intents.map((i) => `${i.at} ${i.verdict}`)).to.deep.equal([
      'fixtures/diff/intent.yaml:2 kept',
      'fixtures/diff/intent.yaml:3 regressed',
      'fixtures/diff/intent.yaml:4 kept',
      'fixtures/diff/intent.yaml:5 kept',
      'fixtures/diff/intent.yaml:6 kept',
    ]);
    expect(r.summary.intentsRegressed).to.equal(1);
    // The intent's own request is one of the probes asked of both sides.
    expect(changed(r)).to.include('widens deny→allow prod-namespace/product-service-sa GET /pay/status/1 → prod-namespace/payment-service:8080');
  });

  it('the change matrix holds every cell of the destinations that changed, the changed ones marked', function () {
    const r = review('deny-removed');
    const destinations = [...new Set(r.matrix.cells.map((c) => c.destination))];
    expect(destinations).to.deep.equal(['prod-namespace/payment-service:8080']);
    expect(r.matrix.cells.filter((c) => c.changed).map((c) => `${c.source} ${c.request} ${c.base}→${c.head}`)).to.deep.equal(['prod-namespace/order-service-sa POST /pay/admin/probe deny→allow']);
    expect(r.matrix.cells.length).to.be.greaterThan(10);
    expect(r.matrix.unchangedDestinations).to.equal(3);
  });
});
