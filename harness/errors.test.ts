import { expect } from 'chai';
import { ErrorCode, ExitCode, MeshproofError, describeError, exitCodeFor } from './errors.ts';

describe('errors', function () {
  it('maps each kind of error to its exit code', function () {
    expect(exitCodeFor(new MeshproofError(ErrorCode.PolicyInvalid, 'x'))).to.equal(ExitCode.BadInput);
    expect(exitCodeFor(new MeshproofError(ErrorCode.RuntimeUnavailable, 'x'))).to.equal(ExitCode.Infrastructure);
    expect(exitCodeFor(new Error('bug'))).to.equal(ExitCode.Infrastructure);
  });

  it('says where a problem is: file, line, column and field', function () {
    const error = new MeshproofError(ErrorCode.PolicyInvalid, 'methods must be a list', {
      location: { file: 'p.yaml', line: 12, column: 9, field: 'spec.rules[0].to[0].operation.methods' },
      hint: 'write methods: ["POST"]',
    });
    expect(describeError(error)).to.equal(
      'error: p.yaml:12:9: spec.rules[0].to[0].operation.methods: methods must be a list\nhint: write methods: ["POST"]\ncode: MESHPROOF_ERR_POLICY_INVALID',
    );
  });
});
