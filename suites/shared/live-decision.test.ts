import { expect } from 'chai';
import { RBAC_DENIED_BODY, type AccessLogEntry, type CallEvidence, type EchoReport, type Observation } from '../../harness/index.ts';
import { PROBE_HEADER, clientCertificateHash, describeExpected, describeLive, expectedDecisionOf, matchesDecision, observedAgainst, observedDecision } from './live-decision.ts';
import { ORDER_ID, seedOracle } from './testing/seed-mesh.ts';

const base = { request: { protocol: 'https' as const, host: '10.0.0.2', port: 8080 }, startedAt: 0, durationMs: 1 };
const report = (path: string, extra: Partial<EchoReport> = {}): EchoReport => ({ pod: 'payment-service-0.prod-namespace', method: 'POST', path, headers: { [PROBE_HEADER]: 'p1' }, protocol: 'HTTP/1.1', requestId: 1, ...extra });
const ok: Observation = { ...base, outcome: 'response', status: 200, body: '{}' };
const forbidden: Observation = { ...base, outcome: 'response', status: 403, body: RBAC_DENIED_BODY };
const resetObs: Observation = { ...base, outcome: 'reset', error: { code: 'ECONNRESET', message: 'socket hang up' } };
const alertObs: Observation = { ...base, outcome: 'tls-error', tls: { protocol: undefined, cipher: undefined, alpn: undefined, peerChain: [], alert: 'tlsv13 alert certificate required' } };
const badRequest: Observation = { ...base, outcome: 'response', status: 400, body: 'Bad Request' };
const log = (extra: Partial<AccessLogEntry>): AccessLogEntry => ({ time: '', direction: 'inbound', pod: 'payment-service-0.prod-namespace', status: 0, responseFlags: '-', durationMs: 1, ...extra });
const ev = (observation: Observation, serverSaw: EchoReport[] | undefined, accessLog: AccessLogEntry[] = []): CallEvidence => ({
  label: 'x',
  from: 'a',
  to: 'b',
  observation,
  ...(serverSaw === undefined ? {} : { serverSaw }),
  accessLog,
});

describe('live decision', function () {
  const oracle = seedOracle();
  const allowPay = oracle.decide({ source: { kind: 'mesh', identity: ORDER_ID }, to: 'prod-namespace/payment-service', method: 'POST', path: '/pay/./1?x=1' });
  const denyGet = oracle.decide({ source: { kind: 'mesh', identity: ORDER_ID }, to: 'prod-namespace/payment-service', method: 'GET', path: '/pay/1' });
  const plaintext = oracle.decide({ source: { kind: 'plaintext' }, to: 'prod-namespace/payment-service', method: 'POST', path: '/pay/1' });
  const nul = oracle.decide({ source: { kind: 'mesh', identity: ORDER_ID }, to: 'prod-namespace/payment-service', method: 'POST', path: '/pay/1%00' });

  it('on a TCP port a close with the app untouched is the denial; on HTTP it stays a rejection', function () {
    const tcpDenied = { ...denyGet, expect: { client: 'reset' as const, appReceives: false } };
    const eof: Observation = { ...resetObs, error: { code: 'EOF', message: 'peer closed the connection without sending any bytes' } };
    expect(observedAgainst(tcpDenied, ev(eof, []), 'p1')).to.equal('deny');
    expect(matchesDecision(tcpDenied, { tag: 'p1' })(ev(eof, []))).to.equal(undefined);
    // The HTTP denial is a 403: a reset there is no denial, and a TCP port that lets the bytes reach the app denied nothing.
    expect(observedAgainst(denyGet, ev(resetObs, []), 'p1')).to.equal('reject');
    expect(matchesDecision(tcpDenied, { tag: 'p1' })(ev(ok, [report('/pay/1')]))?.message).to.match(/^expected denied \(the TCP connection closed with no byte, the app never sees it\)/);
    expect(observedAgainst(tcpDenied, ev(eof, [report('/pay/1')]), 'p1')).to.equal('other');
  });

  it('on a TCP port an allowed connection carries no identity to the app: a TCP proxy vouches for no one', function () {
    const tcpAllowed = { ...allowPay, expect: { client: 'connected' as const, appReceives: true } };
    expect(matchesDecision(tcpAllowed, { tag: 'p1' })(ev(ok, [report('/pay/1')]))).to.equal(undefined);
    expect(matchesDecision(tcpAllowed, { tag: 'p1' })(ev(ok, [report('/pay/1', { peerIdentity: 'spiffe://cluster.local/ns/prod-namespace/sa/admin' })]))?.message).to.match(/over a TCP proxy, which vouches for no one/);
  });

  it('reads the oracle in the report words', function () {
    expect([allowPay, denyGet, plaintext, nul].map((d) => expectedDecisionOf(d.outcome))).to.deep.equal(['allow', 'deny', 'reject', 'bad-request']);
    expect([allowPay, denyGet, plaintext, nul].map(describeExpected)).to.deep.equal(['OK', '403', 'reset', '400']);
    expect(expectedDecisionOf('not-supported')).to.equal(undefined);
  });

  it('classifies from both ends, and calls mixed stories other', function () {
    expect(observedDecision(ev(ok, [report('/pay/1')]), 'p1')).to.equal('allow');
    expect(observedDecision(ev(forbidden, []), 'p1')).to.equal('deny');
    expect(observedDecision(ev(resetObs, []), 'p1')).to.equal('reject');
    expect(observedDecision(ev(alertObs, []), 'p1')).to.equal('reject');
    expect(observedDecision(ev(badRequest, []), 'p1')).to.equal('bad-request');
    // The app saw it, yet the client got a 403 or a reset: not one story.
    expect(observedDecision(ev(forbidden, [report('/pay/1')]), 'p1')).to.equal('other');
    expect(observedDecision(ev(resetObs, [report('/pay/1')]), 'p1')).to.equal('other');
    // A 403 with another body is not Envoy's RBAC denial; a server end not observed proves nothing.
    expect(observedDecision(ev({ ...forbidden, body: 'nope' }, []), 'p1')).to.equal('other');
    expect(observedDecision(ev(forbidden, undefined), 'p1')).to.equal('other');
    // HEAD: no body, so a bodyless 403 counts as the RBAC denial only for HEAD.
    expect(observedDecision(ev({ ...forbidden, body: '', request: { ...base.request, method: 'HEAD' } }, []), 'p1')).to.equal('deny');
    expect(observedDecision(ev({ ...forbidden, body: '' }, []), 'p1')).to.equal('other');
  });

  it('counts only requests carrying the probe tag as seen', function () {
    const other = report('/pay/steady', { headers: { [PROBE_HEADER]: 'steady-7' } });
    expect(observedDecision(ev(resetObs, [other]), 'p1')).to.equal('reject');
    expect(observedDecision(ev(resetObs, [other]))).to.equal('other');
  });

  it('holds when both ends agree with the oracle', function () {
    expect(matchesDecision(allowPay, { tag: 'p1' })(ev(ok, [report('/pay/1?x=1', { peerIdentity: ORDER_ID })]))).to.equal(undefined);
    expect(matchesDecision(denyGet, { tag: 'p1' })(ev(forbidden, [], [log({ status: 403, responseCodeDetails: 'rbac_access_denied_matched_policy[none]' })]))).to.equal(undefined);
    expect(matchesDecision(plaintext, { tag: 'p1' })(ev(resetObs, [], [log({ responseFlags: 'NR', responseCodeDetails: 'filter_chain_not_found' })]))).to.equal(undefined);
    expect(matchesDecision(nul, { tag: 'p1' })(ev(badRequest, []))).to.equal(undefined);
  });

  it('fails on the wrong decision, saying what was expected and why', function () {
    const error = matchesDecision(plaintext, { tag: 'p1' })(ev(ok, [report('/pay/1')]));
    expect(error?.message).to.match(/expected rejected before HTTP.*STRICT.*got status 200 and the app saw POST \/pay\/1/);
    expect(matchesDecision(denyGet, { tag: 'p1' })(ev(ok, [report('/pay/1', { peerIdentity: ORDER_ID })]))?.message).to.contain('expected denied');
  });

  it('fails an allowed request that reached the app un-normalized or with the wrong identity', function () {
    expect(matchesDecision(allowPay, { tag: 'p1' })(ev(ok, [report('/pay/./1?x=1', { peerIdentity: ORDER_ID })]))?.message).to.contain('not the normalized /pay/1?x=1');
    expect(matchesDecision(allowPay, { tag: 'p1' })(ev(ok, [report('/pay/1?x=1')]))?.message).to.contain('(no identity), not spiffe://');
  });

  it('fails a denial by another rule, or with no log line, and a reject with the wrong flag', function () {
    expect(matchesDecision(denyGet, { tag: 'p1' })(ev(forbidden, [], [log({ responseCodeDetails: 'rbac_access_denied_matched_policy[ns[x]-policy[y]-rule[0]]' })]))?.message).to.contain('not rbac_access_denied_matched_policy[none]');
    expect(matchesDecision(denyGet, { tag: 'p1' })(ev(forbidden, []))?.message).to.contain('logged no line');
    expect(matchesDecision(plaintext, { tag: 'p1' })(ev(resetObs, [], [log({ responseFlags: 'UC' })]))?.message).to.contain('not NR');
  });

  it("reads the client certificate's hash from the last x-forwarded-client-cert element", function () {
    expect(clientCertificateHash('By=spiffe://a;Hash=ABCDEF01;Subject="";URI=spiffe://b')).to.equal('abcdef01');
    expect(clientCertificateHash('By=spiffe://x;Hash=1111;URI=spiffe://y,By=spiffe://a;Hash=2222;URI=spiffe://b')).to.equal('2222');
    expect(clientCertificateHash('By=spiffe://a;URI=spiffe://b')).to.equal(undefined);
    expect(clientCertificateHash(undefined)).to.equal(undefined);
  });

  it('describes what was seen for table cells', function () {
    expect(describeLive(ev(ok, [report('/pay/1')]), 'p1')).to.equal('OK');
    expect(describeLive(ev(alertObs, []), 'p1')).to.equal('handshake rejected: tlsv13 alert certificate required');
    expect(describeLive(ev(resetObs, []), 'p1')).to.equal('TLS closed by the server (no HTTP response)');
    expect(describeLive(ev({ ...resetObs, request: { ...base.request, protocol: 'http' } }, []), 'p1')).to.equal('reset');
    expect(describeLive(ev({ ...base, outcome: 'timeout', error: { code: 'ETIMEDOUT', message: '' } }, []), 'p1')).to.equal('timeout (ETIMEDOUT)');
  });
});
