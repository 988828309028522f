import { expect } from 'chai';
import { unixGet } from '../dataplane/unix-http.ts';
import { isMeshproofError } from '../errors.ts';
import { AgentClient } from '../traffic/agent-client.ts';
import { assertSocketPathFits } from './socket-path.ts';

describe('Unix socket path limit', function () {
  const tooLong = `/tmp/${'z'.repeat(100)}/admin.sock`;

  it('passes 107 bytes and refuses 108 as an infrastructure error', function () {
    expect(() => assertSocketPathFits(`/${'a'.repeat(106)}`)).to.not.throw();
    expect(() => assertSocketPathFits(`/${'a'.repeat(107)}`)).to.throw(/108 bytes long: past Linux's 107-byte limit/);
  });

  it('makes an admin scrape or an agent on too long a path an infrastructure error, never a failed check', async function () {
    const scrape = await unixGet(tooLong, '/stats/prometheus', 1_000).then(() => undefined, (error: unknown) => error);
    expect(isMeshproofError(scrape, 'MESHPROOF_ERR_SOCKET_PATH') && scrape.kind === 'infrastructure', String(scrape)).to.equal(true);
    expect(() => new AgentClient(tooLong, 1_000)).to.throw(/past Linux's 107-byte limit/);
  });
});
