import { expect } from 'chai';
import { observedMode } from './observed-mode.ts';

describe('observedMode', function () {
  it('reads the three modes from plaintext and valid-certificate TLS', function () {
    expect(observedMode('allow', 'allow')).to.equal('PERMISSIVE');
    expect(observedMode('reject', 'allow')).to.equal('STRICT');
    expect(observedMode('allow', 'reject')).to.equal('DISABLE');
  });

  it('names no mode when the two calls fit none (both refused, a 403 hiding the answer)', function () {
    expect(observedMode('reject', 'reject')).to.equal('no mode (plaintext reject, mTLS reject)');
    expect(observedMode('deny', 'allow')).to.equal('no mode (plaintext deny, mTLS allow)');
    expect(observedMode('other', 'allow')).to.match(/^no mode/);
  });
});
