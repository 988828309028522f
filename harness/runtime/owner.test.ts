import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { currentOwner, formatOwner, localProcessView, ownerState, parseOwner, type Owner, type ProcessView } from './owner.ts';

/** A process view that answers from a table: pid → start time (absent: no such pid). */
function viewOf(self: Owner, processes: Record<number, number>, procMatches = true): ProcessView {
  return { self, procMatches, exists: (pid) => pid in processes, startTimeOf: (pid) => processes[pid] ?? 0 };
}

describe('run owner', function () {
  const self: Owner = { boot: '0b5e1d2c-aaaa-bbbb-cccc-111122223333', pidNamespace: 4026531836, pid: 100, startTime: 5000, host: 'ci-runner' };

  it('round-trips through its label form, and reads no older label as an owner', function () {
    const owner = currentOwner();
    expect(owner.boot).to.match(/^[0-9a-f-]{36}$/);
    expect(owner.pidNamespace).to.be.greaterThan(0);
    expect(parseOwner(formatOwner(owner))).to.deep.equal(owner);
    expect(parseOwner('ci-runner:1234:5678'), 'the host:pid:start label of older versions').to.equal(undefined);
    expect(parseOwner('not-an-owner')).to.equal(undefined);
    expect(parseOwner(undefined)).to.equal(undefined);
  });

  it('is alive for this process and gone for a process that has exited', function () {
    expect(ownerState(currentOwner()).state).to.equal('alive');
    const child = spawnSync(process.execPath, ['-e', '0']);
    expect(child.status).to.equal(0);
    const exited = { ...currentOwner(), pid: child.pid!, startTime: 1 };
    expect(ownerState(exited)).to.deep.include({ state: 'gone' });
  });

  it('calls a recycled pid (same pid, other start time) gone, and the same start time alive', function () {
    expect(ownerState({ ...self, pid: 7, startTime: 4000 }, viewOf(self, { 7: 4100 })).state).to.equal('gone');
    expect(ownerState({ ...self, pid: 7, startTime: 4000 }, viewOf(self, { 7: 4000 })).state).to.equal('alive');
    const real = currentOwner();
    expect(ownerState({ ...real, startTime: real.startTime + 1 }, localProcessView()).state).to.equal('gone');
  });

  it('never calls an owner in another PID namespace gone, whatever its pid shows here (same host name)', function () {
    const other = { ...self, pidNamespace: self.pidNamespace + 341, pid: 7 };
    const state = ownerState(other, viewOf(self, {}));
    expect(state.state).to.equal('unknown');
    expect(state.reason).to.contain('another PID namespace');
    expect(ownerState(other, viewOf(self, { 7: 1 })).state).to.equal('unknown');
  });

  it('never calls an owner of another boot or machine gone', function () {
    expect(ownerState({ ...self, boot: 'ffffffff-aaaa-bbbb-cccc-111122223333', pid: 7 }, viewOf(self, {})).state).to.equal('unknown');
    expect(ownerState({ ...self, boot: '', pid: 7 }, viewOf(self, {})).state).to.equal('unknown');
    expect(ownerState({ ...self, pid: 7 }, viewOf({ ...self, boot: '' }, {})).state).to.equal('unknown');
  });

  it('never calls a pid gone on a start time it cannot read (a /proc of another namespace)', function () {
    expect(ownerState({ ...self, pid: 7, startTime: 4000 }, viewOf(self, { 7: 4100 }, false)).state).to.equal('alive');
    expect(ownerState(undefined, viewOf(self, {})).state).to.equal('unknown');
  });
});
