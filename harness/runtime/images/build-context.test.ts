import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { planContext } from './build-context.ts';
import type { ImageRecipe } from './recipes.ts';

function fixtureRecipe(): { recipe: ImageRecipe; entry: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'context-'));
  const dir = join(root, 'docker', 'app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY bundle/ /app/\n');
  const entry = join(root, 'main.ts');
  writeFileSync(entry, 'const greeting: string = "hello";\nconsole.log(greeting);\n');
  const recipe: ImageRecipe = { name: 'app', dir, description: '', from: 'base', hostRootfs: false, bundles: [{ entry: 'main.ts', out: 'app.mjs' }], command: [], published: undefined, hostBinary: undefined };
  return { recipe, entry, root };
}

describe('image build context', function () {
  it('hashes the same inputs to the same tag, and any changed input to another', async function () {
    const { recipe, entry, root } = fixtureRecipe();
    const first = await planContext(recipe, { projectRoot: root, baseTag: 'meshproof/base:1' });
    const again = await planContext(recipe, { projectRoot: root, baseTag: 'meshproof/base:1' });
    expect(again.hash).to.equal(first.hash);
    const otherBase = await planContext(recipe, { projectRoot: root, baseTag: 'meshproof/base:2' });
    expect(otherBase.hash).to.not.equal(first.hash);
    writeFileSync(entry, 'console.log("changed");\n');
    const changedSource = await planContext(recipe, { projectRoot: root, baseTag: 'meshproof/base:1' });
    expect(changedSource.hash).to.not.equal(first.hash);
  });

  it('bundles the entry point into one ESM file with the types stripped', async function () {
    const { recipe, root } = fixtureRecipe();
    const plan = await planContext(recipe, { projectRoot: root, baseTag: 'meshproof/base:1' });
    const bundle = plan.files.find((f) => f.path === 'bundle/app.mjs');
    expect(bundle).to.not.equal(undefined);
    const text = Buffer.from((bundle as { content: Uint8Array }).content).toString();
    expect(text).to.contain('"hello"');
    expect(text).to.not.contain(': string');
  });

  it('puts the running Node binary and its libraries in the base rootfs', async function () {
    const base: ImageRecipe = { name: 'base', dir: new URL('../../../docker/base', import.meta.url).pathname, description: '', from: null, hostRootfs: true, bundles: [], command: [], published: undefined, hostBinary: undefined };
    const plan = await planContext(base, { projectRoot: '/' });
    const paths = plan.files.map((f) => f.path);
    expect(paths).to.include('rootfs/usr/local/bin/node');
    expect(paths).to.include('rootfs/sbin/tini');
    expect(paths.some((p) => /rootfs\/.*libc\.so/.test(p))).to.equal(true);
  });
});
