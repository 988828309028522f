import { expect } from 'chai';
import { ExitCode } from '../errors.ts';
import { buildProgram, main } from './main.ts';

describe('meshproof CLI', function () {
  let stderr: string;
  const write = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  beforeEach(function () {
    stderr = '';
    process.stderr.write = ((chunk: string) => {
      stderr += chunk;
      return true;
    }) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
  });
  afterEach(function () {
    process.stderr.write = write;
    process.stdout.write = out;
    process.exitCode = undefined;
  });

  it('exits 2 for an unknown command or option', async function () {
    expect(await main(['no-such-command'])).to.equal(ExitCode.BadInput);
    expect(stderr).to.contain("unknown command 'no-such-command'");
    expect(await main(['doctor', '--no-such-flag'])).to.equal(ExitCode.BadInput);
  });

  it('exits 0 for --help and --version', async function () {
    expect(await main(['--help'])).to.equal(ExitCode.Ok);
    expect(await main(['--version'])).to.equal(ExitCode.Ok);
  });

  it('has help text for every command', function () {
    for (const command of buildProgram().commands) {
      expect(command.description(), command.name()).to.not.equal('');
      for (const option of command.options) expect(option.description, `${command.name()} ${option.flags}`).to.not.equal('');
    }
  });
});
