import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checkReportDir } from './report-dir.ts';

describe('report folder check', function () {
  it('accepts a writable folder, creating it (and no probe is left)', function () {
    const base = mkdtempSync(join(tmpdir(), 'report-dir-'));
    const dir = join(base, 'a', 'b');
    checkReportDir(dir);
    expect(existsSync(dir)).to.equal(true);
    expect(existsSync(join(dir, `.meshproof-write-check-${process.pid}`))).to.equal(false);
  });

  it('refuses a file, a path below a file, and kernel pseudo file systems, naming the cause', function () {
    const file = join(mkdtempSync(join(tmpdir(), 'report-dir-')), 'f');
    writeFileSync(file, '');
    expect(() => checkReportDir(file)).to.throw(/is a file, not a folder/);
    expect(() => checkReportDir(join(file, 'sub'))).to.throw(/f is a file, not a folder/);
    expect(() => checkReportDir('/proc/meshproof')).to.throw(/proc file system/);
    expect(() => checkReportDir('/proc/self/meshproof')).to.throw(/proc file system/);
  });
});
