import { expect } from 'chai';
import type { EchoReport, Observation } from '../traffic/types.ts';
import { allowed, and, appNeverSaw, appSaw, closedWithNoBytes, xfccNeverNames, denied403, header, or, peerIdentity, rejectedBeforeHttp, reset, responseFlag, servedBy, serverIdentity, status, tlsAlert, RBAC_DENIED_BODY, type Check } from './checks.ts';
import type { CallEvidence } from '../traffic/evidence.ts';
import { CheckFailure, expectCall } from './expect-call.ts';

const echo = (pod: string, extra: Partial<EchoReport> = {}): EchoReport => ({ pod, method: 'POST', path: '/pay/1', headers: {}, protocol: 'HTTP/1.1', requestId: 1, ...extra });
const base = { request: { protocol: 'http' as const, host: 'payment', port: 8080 }, startedAt: 0, durationMs: 1 };
const ok200 = (pod = 'payment-0', extra: Partial<EchoReport> = {}): Observation => ({ ...base, outcome: 'response', status: 200, body: '{}', echo: echo(pod, extra) });
const forbidden: Observation = { ...base, outcome: 'response', status: 403, body: RBAC_DENIED_BODY };
const resetObs: Observation = { ...base, outcome: 'reset', error: { code: 'ECONNRESET', message: 'reset' } };
const alertObs: Observation = { ...base, outcome: 'tls-error', tls: { protocol: undefined, cipher: undefined, alpn: undefined, peerChain: [], alert: 'tlsv13 alert certificate required' } };

const evidence = (observation: Observation, extra: Partial<CallEvidence> = {}): CallEvidence => ({ label: 'order POST /pay/1 → payment:8080', from: 'order', to: 'payment:8080', observation, ...extra });

/** Each check holds on its own example and fails on the others: none can only pass. */
const table: [string, Check, Observation[], Observation[]][] = [
  ['allowed()', allowed(), [ok200()], [forbidden, resetObs, alertObs, { ...base, outcome: 'response', status: 200, body: 'not echo' }]],
  [
    'denied403()',
    denied403(),
    [forbidden, { ...base, request: { ...base.request, method: 'HEAD' }, outcome: 'response', status: 403, body: '' }],
    [ok200(), resetObs, { ...base, outcome: 'response', status: 403, body: 'other' }, { ...base, request: { ...base.request, method: 'GET' }, outcome: 'response', status: 403, body: '' }],
  ],
  ['reset()', reset(), [resetObs], [ok200(), forbidden, alertObs]],
  ['status(403)', status(403), [forbidden], [ok200(), resetObs]],
  [
    'closedWithNoBytes()',
    closedWithNoBytes(),
    [resetObs, { ...base, outcome: 'reset', error: { code: 'EOF', message: 'peer closed the connection without sending any bytes' } }],
    [{ ...base, outcome: 'connected', body: 'HTTP/1.1 400 Bad Request\r\n\r\n' }, { ...base, outcome: 'connected', body: 'HTTP/1.1 426 Upgrade Required\r\n' }, { ...base, outcome: 'timeout', error: { code: 'ERR_MESHPROOF_CALL_TIMEOUT', message: 'no bytes' } }, ok200()],
  ],
  ['tlsAlert(/certificate required/)', tlsAlert(/certificate required/), [alertObs], [resetObs, ok200(), { ...alertObs, tls: { ...alertObs.tls!, alert: 'bad certificate' } }]],
  ['rejectedBeforeHttp()', rejectedBeforeHttp(), [resetObs, alertObs], [ok200(), forbidden]],
  ['servedBy(payment-1, payment-2)', servedBy('payment-1', 'payment-2'), [ok200('payment-1'), ok200('payment-2')], [ok200('payment-0'), resetObs]],
  ['peerIdentity(order)', peerIdentity('spiffe://cluster.local/ns/prod/sa/order'), [ok200('p', { peerIdentity: 'spiffe://cluster.local/ns/prod/sa/order' })], [ok200('p'), ok200('p', { peerIdentity: 'spiffe://cluster.local/ns/prod/sa/other' }), resetObs]],
  ['peerIdentity(none)', peerIdentity(undefined), [ok200('p')], [ok200('p', { peerIdentity: 'spiffe://x/ns/a/sa/b' }), resetObs]],
  ['header(x-envoy-overloaded)', header('x-envoy-overloaded', 'true'), [{ ...forbidden, headers: { 'x-envoy-overloaded': 'true' } }], [forbidden]],
];

describe('checks', function () {
  for (const [name, check, holds, fails] of table) {
    it(`${name} holds where it should and fails everywhere else`, function () {
      for (const observation of holds) expect(check(evidence(observation)), JSON.stringify(observation)).to.equal(undefined);
      for (const observation of fails) expect(check(evidence(observation)), JSON.stringify(observation)).to.be.instanceOf(Error);
    });
  }

  it('serverIdentity() reads the URI SAN of the leaf the server presented', function () {
    const presented: Observation = { ...ok200(), tls: { protocol: 'TLSv1.3', cipher: 'x', alpn: undefined, peerChain: [{ subject: '', issuer: '', uriSans: ['spiffe://td/ns/a/sa/payment'], fingerprint256: 'AA', validFrom: '', validTo: '', pem: '' }] } };
    expect(serverIdentity('spiffe://td/ns/a/sa/payment')(evidence(presented))).to.equal(undefined);
    expect(serverIdentity('spiffe://td/ns/a/sa/order')(evidence(presented))?.message).to.contain('named [spiffe://td/ns/a/sa/payment]');
  });

  it('appNeverSaw() needs the server end observed, and fails when the app got the request', function () {
    expect(appNeverSaw()(evidence(resetObs, { serverSaw: [] }))).to.equal(undefined);
    expect(appNeverSaw()(evidence(resetObs, { serverSaw: [echo('payment-0')] }))?.message).to.contain('POST /pay/1');
    expect(appNeverSaw()(evidence(resetObs))?.message).to.contain('not observed');
  });

  it('appSaw(path) compares the path the app received', function () {
    expect(appSaw('/pay/1')(evidence(ok200(), { serverSaw: [echo('p')] }))).to.equal(undefined);
    expect(appSaw('/admin')(evidence(ok200(), { serverSaw: [echo('p')] }))).to.be.instanceOf(Error);
    expect(appSaw()(evidence(ok200(), { serverSaw: [] }))).to.be.instanceOf(Error);
  });

  it('responseFlag() reads the access log lines of the call', function () {
    const line = { time: '', direction: 'outbound' as const, pod: 'order-0', status: 503, responseFlags: 'UO', durationMs: 1 };
    expect(responseFlag('UO')(evidence(ok200(), { accessLog: [line] }))).to.equal(undefined);
    expect(responseFlag('UH')(evidence(ok200(), { accessLog: [line] }))?.message).to.contain('[UO]');
    expect(responseFlag('UO')(evidence(ok200()))?.message).to.contain('no access-log line');
  });

  it('and() reports every failure; or() holds when any holds and explains each miss', function () {
    const both = and(denied403(), appNeverSaw());
    expect(both(evidence(ok200(), { serverSaw: [echo('p')] }))?.message).to.match(/expected denied.*; and expected the app to have received nothing/);
    expect(both(evidence(forbidden, { serverSaw: [] }))).to.equal(undefined);
    const either = or(reset(), denied403());
    expect(either(evidence(forbidden))).to.equal(undefined);
    expect(either(evidence(resetObs))).to.equal(undefined);
    expect(either(evidence(ok200()))?.message).to.match(/none held: expected the connection reset.*; or expected denied/);
  });

  it('expectCall() is the one place a failed check throws, with the call in the message', function () {
    expect(() => expectCall(evidence(ok200()), reset())).to.throw(CheckFailure, 'order POST /pay/1 → payment:8080: expected the connection reset with no response, got status 200 from payment-0');
    expect(() => expectCall(evidence(resetObs), reset())).to.not.throw();
  });
});

describe('closedWithNoBytes() says which wrong reading it saw', function () {
  it('an HTTP answer to raw plaintext: plaintext reached an HTTP stack', function () {
    const answered: Observation = { request: { protocol: 'tcp', host: 'payment', port: 8080 }, startedAt: 0, durationMs: 1, outcome: 'connected', body: 'HTTP/1.1 426 Upgrade Required\r\ncontent-length: 0\r\n\r\n' };
    expect(closedWithNoBytes()({ label: 'l', from: 'f', to: 't', observation: answered })?.message).to.equal("expected the connection closed with no byte of answer, the peer answered 'HTTP/1.1 426 Upgrade Required': plaintext reached an HTTP stack");
  });
});

describe('xfccNeverNames() reads the headers the app received', function () {
  const forged = 'spiffe://cluster.local/ns/prod/sa/admin';
  const saw = (xfcc?: string): CallEvidence => evidence(ok200(), { serverSaw: [echo('p', xfcc === undefined ? {} : { headers: { 'x-forwarded-client-cert': xfcc } })] });
  it('holds when the app got no XFCC, or one naming others only', function () {
    expect(xfccNeverNames(forged)(saw())).to.equal(undefined);
    expect(xfccNeverNames(forged)(saw('By=spiffe://x;URI=spiffe://cluster.local/ns/prod/sa/order'))).to.equal(undefined);
  });
  it('fails when any XFCC element names the identity, or when the app end was not observed', function () {
    expect(xfccNeverNames(forged)(saw(`By=spiffe://x;URI=${forged}`))?.message).to.match(/naming spiffe:\/\/cluster.local\/ns\/prod\/sa\/admin to reach the app/);
    expect(xfccNeverNames(forged)(evidence(ok200()))).to.be.instanceOf(Error);
  });
});
