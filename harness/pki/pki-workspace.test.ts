import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MeshCa } from './mesh-ca.ts';
import { PkiWorkspace } from './pki-workspace.ts';
import { writeWorkloadFiles } from './workload-files.ts';

describe('PkiWorkspace', function () {
  it('holds a run\'s CA and workload files in one 0700 folder under the parent, and removes all of it', async function () {
    const parent = await mkdtemp(join(tmpdir(), 'meshproof-ws-test-'));
    try {
      const workspace = await PkiWorkspace.create({ parentDir: parent });
      expect(dirname(workspace.dir)).to.equal(parent);
      expect((await stat(workspace.dir)).mode & 0o777).to.equal(0o700);
      const ca = await MeshCa.create();
      await ca.writePluginFiles(workspace.caDir);
      const ref = { namespace: 'prod', serviceAccount: 'payment' };
      await writeWorkloadFiles(workspace.workloadDir(ref), await ca.issue(ref));
      expect(existsSync(join(workspace.dir, 'workloads', 'prod', 'payment', 'key.pem'))).to.equal(true);
      expect(existsSync(join(workspace.caDir, 'ca-key.pem'))).to.equal(true);
      await workspace.dispose();
      await workspace.dispose();
      expect(existsSync(workspace.dir)).to.equal(false);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
