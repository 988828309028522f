import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { currentOwner, formatOwner, isOwnerDead, parseOwner } from './owner.ts';

describe('run owner', function () {
  it('round-trips through its label form', function () {
    const owner = currentOwner();
    expect(parseOwner(formatOwner(owner))).to.deep.equal(owner);
    expect(parseOwner('not-an-owner')).to.equal(undefined);
  });

  it('is alive for this process and dead for a process that has exited', function () {
    expect(isOwnerDead(currentOwner())).to.equal(false);
    const child = spawnSync(process.execPath, ['-e', '0']);
    expect(child.status).to.equal(0);
    expect(isOwnerDead({ host: currentOwner().host, pid: child.pid!, startTime: 1 })).to.equal(true);
  });

  it('treats a recycled pid (same pid, other start time) as dead', function () {
    const self = currentOwner();
    expect(isOwnerDead({ ...self, startTime: self.startTime + 1 })).to.equal(true);
  });

  it('never calls an owner on another host dead', function () {
    expect(isOwnerDead({ host: 'elsewhere.example', pid: 999999, startTime: 1 })).to.equal(false);
  });
});
