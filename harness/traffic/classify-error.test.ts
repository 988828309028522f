import { expect } from 'chai';
import { classifyError, tlsReason } from './classify-error.ts';

const errno = (code: string, message = code): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

describe('classifyError', function () {
  const table: [string, unknown, string][] = [
    ['connection refused', errno('ECONNREFUSED'), 'refused'],
    ['reset by peer', errno('ECONNRESET'), 'reset'],
    ["undici's 'other side closed'", errno('UND_ERR_SOCKET', 'other side closed'), 'reset'],
    ['a TLS alert', errno('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../x.c:918:SSL alert number 116'), 'tls-error'],
    ['an untrusted chain', errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'tls-error'],
    ['a secure-naming mismatch', errno('ERR_MESHPROOF_SECURE_NAMING'), 'tls-error'],
    ['an abort by timeout', Object.assign(new Error('aborted'), { name: 'TimeoutError' }), 'timeout'],
    ['a DNS failure', errno('ENOTFOUND'), 'error'],
  ];
  for (const [what, error, outcome] of table) {
    it(`calls ${what} '${outcome}'`, function () {
      expect(classifyError(error).outcome).to.equal(outcome);
    });
  }

  it('looks through wrappers to the network error inside', function () {
    const wrapped = Object.assign(new Error('fetch failed'), { cause: errno('ECONNREFUSED') });
    expect(classifyError(wrapped)).to.include({ outcome: 'refused', code: 'ECONNREFUSED' });
  });

  it("keeps only OpenSSL's reason from an alert message", function () {
    expect(tlsReason('40CD:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/x.c:918:SSL alert number 116\n')).to.equal('tlsv13 alert certificate required');
    expect(tlsReason('plain message')).to.equal('plain message');
  });
});
