import { expect } from 'chai';
import { parseLdd, readSharedLibraries } from './ldd.ts';

describe('ldd', function () {
  it('separates libraries from the loader, leaving out the vdso', function () {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f)',
    ].join('\n');
    expect(parseLdd(output)).to.deep.equal({ libraries: ['/lib/x86_64-linux-gnu/libstdc++.so.6', '/lib/x86_64-linux-gnu/libc.so.6'], loader: '/lib64/ld-linux-x86-64.so.2' });
  });

  it('knows a static binary, and names a library the machine lacks', function () {
    expect(parseLdd('\tnot a dynamic executable')).to.deep.equal({ libraries: [], loader: undefined });
    expect(() => parseLdd('\tlibfoo.so.1 => not found', '/opt/envoy')).to.throw('/opt/envoy needs libfoo.so.1');
  });

  it('reads a real binary (the Node running this test)', function () {
    const found = readSharedLibraries(process.execPath);
    expect(found.loader).to.match(/ld-linux/);
    expect(found.libraries.some((l) => /libc\.so/.test(l))).to.equal(true);
  });
});
