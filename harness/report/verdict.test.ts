import { expect } from 'chai';
import type { CaseOutcome } from '../spec/outcome.ts';
import { ExitCode } from '../errors.ts';
import type { VerdictResult } from './schema.ts';
import { exitCodeForReport, verdictFor } from './verdict.ts';

const outcome: Readonly<Record<string, CaseOutcome>> = {
  P: { status: 'passed' },
  F: { status: 'failed', message: 'expected reset, got status 200' },
  S: { status: 'skipped', reason: 'no envoy image' },
  N: { status: 'not-supported', features: ['mtls.migration'] },
  E: { status: 'error', message: 'engine gone', code: 'MESHPROOF_ERR_RUNTIME_UNAVAILABLE' },
};

/** Each letter is one case: P passed, F failed, S skipped, N not supported, E error. */
const cases = (spec: string) => [...spec].map((letter, i) => ({ shortName: `case-${i}`, outcome: outcome[letter]! }));

describe('verdict rules', function () {
  const table: readonly [string, VerdictResult, RegExp][] = [
    ['', 'not-run', /^Not run: no case of this area ran$/],
    ['PPP', 'success', /^Holds: 3 of 3 cases passed$/],
    ['P', 'success', /^Holds: 1 of 1 case passed$/],
    ['PPS', 'partial', /^Holds for what ran: 2 of 3 cases passed; 1 skipped or not supported$/],
    ['PN', 'partial', /^Holds for what ran: 1 of 2 cases passed/],
    ['SN', 'not-run', /^Not run: all 2 cases skipped or not supported$/],
    ['PPF', 'failure', /^Broken: case-2 failed \(1 of 3 cases\)$/],
    ['FE', 'failure', /^Broken: case-0 failed/],
    ['PFSNE', 'failure', /^Broken:/],
    ['PE', 'error', /^Unknown: the harness could not finish case-1 \(1 of 2 cases\); no case failed$/],
    ['SE', 'error', /^Unknown:/],
    ['FFFFF', 'failure', /^Broken: case-0, case-1, case-2 and 2 more failed \(5 of 5 cases\)$/],
  ];
  for (const [spec, result, summary] of table) {
    it(`${spec === '' ? '(no cases)' : spec} → ${result}`, function () {
      const v = verdictFor('mtls', cases(spec));
      expect(v.result).to.equal(result);
      expect(v.summary).to.match(summary);
      expect(v.passed + v.failed + v.skipped + v.notSupported + v.error).to.equal(spec.length);
    });
  }

  it('an area with no case says why when told (missing suite file)', function () {
    expect(verdictFor('authz', [], 'the suite file suites/authz/authz.suite.ts does not exist').summary).to.equal('Not run: the suite file suites/authz/authz.suite.ts does not exist');
  });

  it('names the promise of the area', function () {
    expect(verdictFor('resilience', cases('P')).promise).to.match(/Circuit breakers eject failing endpoints/);
  });
});

describe('exit code of a report', function () {
  const report = (results: VerdictResult[], incomplete: string[] = []) => ({ verdicts: results.map((result) => ({ ...verdictFor('mtls', []), result })), run: { incomplete } });
  const table: readonly [VerdictResult[], string[], number][] = [
    [['success', 'success', 'success'], [], ExitCode.Ok],
    [['partial', 'not-run', 'success'], [], ExitCode.Ok],
    [['not-run', 'not-run', 'not-run'], [], ExitCode.Ok],
    [['success', 'failure', 'success'], [], ExitCode.ConformanceFailure],
    [['failure', 'error', 'success'], [], ExitCode.ConformanceFailure],
    [['failure', 'success', 'success'], ['suite file missing'], ExitCode.ConformanceFailure],
    [['success', 'error', 'success'], [], ExitCode.Infrastructure],
    [['success', 'success', 'not-run'], ['suite file suites/resilience/resilience.suite.ts does not exist'], ExitCode.Infrastructure],
  ];
  for (const [results, incomplete, code] of table) {
    it(`${results.join(', ')}${incomplete.length > 0 ? ' + incomplete' : ''} → ${code}`, function () {
      expect(exitCodeForReport(report(results, incomplete))).to.equal(code);
    });
  }
});
