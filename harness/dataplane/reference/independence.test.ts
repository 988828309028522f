/**
 * DESIGN.md: "the reference sidecar never imports the oracle". Checked on what esbuild actually
 * bundles (every file reachable through imports), for the sidecar program and for render.
 */
import { expect } from 'chai';
import { build } from 'esbuild';
import { projectRoot } from '../../project-root.ts';

async function bundledFiles(entry: string): Promise<string[]> {
  const result = await build({ entryPoints: [`${projectRoot}/${entry}`], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent', absWorkingDir: projectRoot });
  return Object.keys(result.metafile.inputs);
}

describe('reference data plane independence', function () {
  this.timeout(20_000);
  for (const entry of ['harness/dataplane/reference/sidecar/main.ts', 'harness/dataplane/reference/reference-data-plane.ts']) {
    it(`${entry} reaches no file of harness/oracle`, async function () {
      const files = await bundledFiles(entry);
      expect(files.some((f) => f.startsWith('harness/dataplane/reference/')), 'the check sees the bundle').to.equal(true);
      expect(files.filter((f) => f.startsWith('harness/oracle/'))).to.deep.equal([]);
    });
  }
});
