import { expect } from 'chai';
import { isMeshproofError } from '../errors.ts';
import type { Observation } from '../traffic/types.ts';
import type { CallEvidence } from '../traffic/evidence.ts';
import { classifyTlsRefusal, versionRefusedByServer } from './tls-refusal.ts';

const base = { request: { protocol: 'https' as const, host: 'payment', port: 8080, tls: { minVersion: 'TLSv1' as const, maxVersion: 'TLSv1' as const } }, startedAt: 0, durationMs: 1 };
const noTls = { protocol: undefined, cipher: undefined, alpn: undefined, peerChain: [] };
/** Node 24 / OpenSSL 3 messages, as a Node client printed them against a server with a TLS 1.2 floor. */
const tlsError = (code: string, message: string, alert: string): Observation => ({ ...base, outcome: 'tls-error', error: { code, message }, tls: { ...noTls, alert } });
const evidence = (observation: Observation): CallEvidence => ({ label: 'order → payment:8080 (TLS 1.0)', from: 'order', to: 'payment:8080', observation });

const versionAlert = tlsError('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:rec_layer_s3.c:918:SSL alert number 70', 'tlsv1 alert protocol version');
const noProtocols = tlsError('ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'error:0A0000BF:SSL routines:tls_setup_handshake:no protocols available:statem_lib.c:155:', 'no protocols available');
const handshakeFailure = tlsError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:SSL alert number 40', 'sslv3 alert handshake failure');
const accepted: Observation = { ...base, outcome: 'response', status: 200, tls: { ...noTls, protocol: 'TLSv1' } };
const handshakeOnly: Observation = { ...base, outcome: 'connected', tls: { ...noTls, protocol: 'TLSv1.1' } };
const reset: Observation = { ...base, outcome: 'reset', error: { code: 'ECONNRESET', message: 'Client network socket disconnected before secure TLS connection was established' } };
const localCertificate = tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate', 'unable to verify the first certificate');
const timeout: Observation = { ...base, outcome: 'timeout', error: { code: 'ERR_MESHPROOF_CALL_TIMEOUT', message: 'no answer in 5000 ms' } };

describe('classifyTlsRefusal: who ended a handshake an old-version probe started', function () {
  it('a protocol_version alert from the peer: the server refused the version (the check passes)', function () {
    expect(classifyTlsRefusal(versionAlert).kind).to.equal('version-refused-by-peer');
    expect(versionRefusedByServer()(evidence(versionAlert))).to.equal(undefined);
  });

  it("'no protocols available' is our own client failing before any ClientHello: an infrastructure error, not a pass", function () {
    expect(classifyTlsRefusal(noProtocols).kind).to.equal('client-side');
    let thrown: unknown;
    try {
      versionRefusedByServer()(evidence(noProtocols));
    } catch (error) {
      thrown = error;
    }
    expect(isMeshproofError(thrown, 'MESHPROOF_ERR_PROBE_CLIENT'), String(thrown)).to.equal(true);
    expect((thrown as { kind: string }).kind).to.equal('infrastructure');
  });

  it('another alert from the peer (handshake failure) is a refusal, but not proof of the version floor: the check fails', function () {
    expect(classifyTlsRefusal(handshakeFailure).kind).to.equal('other-peer-alert');
    expect(versionRefusedByServer()(evidence(handshakeFailure))?.message).to.match(/sslv3 alert handshake failure.*not for the version/);
  });

  it('a completed handshake means the server accepted the old version: the check fails and says which', function () {
    expect(classifyTlsRefusal(accepted)).to.deep.equal({ kind: 'accepted', protocol: 'TLSv1' });
    expect(classifyTlsRefusal(handshakeOnly).kind).to.equal('accepted');
    expect(versionRefusedByServer()(evidence(accepted))?.message).to.match(/handshake completed \(TLSv1\)/);
  });

  it('a reset with no alert proves nothing about who refused: the check fails', function () {
    expect(classifyTlsRefusal(reset).kind).to.equal('closed-without-alert');
    expect(versionRefusedByServer()(evidence(reset))?.message).to.match(/closed with no alert/);
  });

  it("our client's own certificate verification failing, or a timeout, is neither a refusal nor a pass", function () {
    expect(classifyTlsRefusal(localCertificate).kind).to.equal('other');
    expect(classifyTlsRefusal(timeout).kind).to.equal('other');
    expect(versionRefusedByServer()(evidence(localCertificate))).to.be.instanceOf(Error);
    expect(versionRefusedByServer()(evidence(timeout))).to.be.instanceOf(Error);
  });
});
