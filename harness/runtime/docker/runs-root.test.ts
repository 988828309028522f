import { expect } from 'chai';
import { isMeshproofError } from '../../errors.ts';
import { RUN_DIR_MAX, SOCKET_NAME_ROOM, UNIX_SOCKET_PATH_MAX, checkSocketRoom, runsRoot } from './runs-root.ts';

describe('runs root and socket room', function () {
  it('leaves every pod socket of the longest run folder within the kernel limit', function () {
    const longestRunDir = `/${'d'.repeat(RUN_DIR_MAX - 1)}`;
    const socket = `${longestRunDir}/pods/9999/s/${'n'.repeat(SOCKET_NAME_ROOM)}`;
    expect(socket.length).to.equal(UNIX_SOCKET_PATH_MAX);
    expect(() => checkSocketRoom(longestRunDir)).to.not.throw();
    try {
      checkSocketRoom(`${longestRunDir}x`);
      expect.fail('a run folder one byte too long passed');
    } catch (error) {
      expect(isMeshproofError(error, 'MESHPROOF_ERR_SOCKET_PATH')).to.equal(true);
      expect((error as Error).message).to.contain("Linux's 107-byte limit");
    }
  });

  it('uses MESHPROOF_RUNS_DIR, else <tmpdir>/meshproof-runs, else /tmp/meshproof-runs when a long TMPDIR leaves no room', function () {
    expect(runsRoot({ MESHPROOF_RUNS_DIR: '/srv/mp' }, '/tmp')).to.equal('/srv/mp');
    expect(runsRoot({}, '/var/tmp')).to.equal('/var/tmp/meshproof-runs');
    const longTmp = `/home/runner/work/_temp/${'t'.repeat(60)}`;
    expect(runsRoot({}, longTmp)).to.equal('/tmp/meshproof-runs');
  });
});
