import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isMeshproofError } from '../../errors.ts';
import { projectRoot } from '../../project-root.ts';
import { loadRecipes, parseRecipe } from './recipes.ts';

describe('image recipes', function () {
  it('loads the project recipes, each building on the scratch base', function () {
    const recipes = loadRecipes(projectRoot);
    expect(recipes.get('base')?.hostRootfs).to.equal(true);
    expect(recipes.get('base')?.from).to.equal(null);
    expect(recipes.get('echo')?.from).to.equal('base');
    expect(recipes.get('echo')?.bundles[0]?.entry).to.equal('harness/apps/echo/main.ts');
  });

  it('names the file and field of a bad recipe', function () {
    const dir = mkdtempSync(join(tmpdir(), 'recipe-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    const file = join(dir, 'image.json');
    const attempt = (text: string) => {
      try {
        parseRecipe('bad', dir, text, file);
        return undefined;
      } catch (error) {
        return error;
      }
    };
    const badJson = attempt('{ nope');
    expect(isMeshproofError(badJson, 'MESHPROOF_ERR_IMAGE_BUILD')).to.equal(true);
    expect((badJson as Error).toString()).to.contain(file);
    const badBundle = attempt('{"bundles":[{"entry":"x.ts","out":"../escape"}]}');
    expect(String(badBundle)).to.contain('bundles[0].out');
  });

  it('refuses a recipe that builds on a recipe that does not exist', function () {
    const root = mkdtempSync(join(tmpdir(), 'recipes-'));
    mkdirSync(join(root, 'docker', 'orphan'), { recursive: true });
    writeFileSync(join(root, 'docker', 'orphan', 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(root, 'docker', 'orphan', 'image.json'), '{"from":"missing"}');
    expect(() => loadRecipes(root)).to.throw(/names recipe 'missing'/);
  });
});
