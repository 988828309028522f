/**
 * Builds recipe images offline, cached by the content hash of their inputs.
 *
 * Tags are `meshproof/<recipe>:<first 16 hex of the hash>`. When an image with that tag exists
 * the build is skipped, so only a change to an input (a source file, the Node binary, a
 * Dockerfile) rebuilds. MESHPROOF_BASE_IMAGE replaces the scratch base with a published image.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenericContainer } from 'testcontainers';
import { ErrorCode, MeshproofError, isMeshproofError } from '../../errors.ts';
import { publish } from '../../events.ts';
import { withTimeout } from '../../util/with-timeout.ts';
import { planContext, writeContext, type ContextPlan } from '../images/build-context.ts';
import { loadRecipes, type ImageRecipe } from '../images/recipes.ts';
import { isEngineGone, runtimeUnavailable, type DockerClient } from './docker-connection.ts';

export interface ImageBuilderOptions {
  readonly projectRoot: string;
  readonly timeoutMs: number;
  /** A published image to use instead of building `base` (env MESHPROOF_BASE_IMAGE). */
  readonly baseImageOverride?: string | undefined;
}

export interface BuiltImage {
  readonly name: string;
  readonly tag: string;
  readonly cached: boolean;
}

export class ImageBuilder {
  readonly #client: DockerClient;
  readonly #options: ImageBuilderOptions;
  readonly #recipes: ReadonlyMap<string, ImageRecipe>;
  /** One build per recipe per process, shared by concurrent callers. */
  readonly #inFlight = new Map<string, Promise<BuiltImage>>();

  constructor(client: DockerClient, options: ImageBuilderOptions) {
    this.#client = client;
    this.#options = options;
    this.#recipes = loadRecipes(options.projectRoot);
  }

  recipeNames(): string[] {
    return [...this.#recipes.keys()];
  }

  /** The published image a recipe builds on (such recipes need it present or pullable). */
  publishedBaseOf(name: string): string | undefined {
    return this.#recipe(name).published;
  }

  /** Where a recipe puts the host binary it packs (image.json `hostBinary`), if it packs one. */
  hostBinaryOf(name: string): string | undefined {
    return this.#recipe(name).hostBinary;
  }

  commandOf(name: string): readonly string[] {
    return this.#recipe(name).command;
  }

  /** Builds the recipe (with `hostBinary` for recipes that pack one) unless an image of the same inputs exists. */
  ensure(name: string, hostBinary?: string): Promise<BuiltImage> {
    const key = hostBinary === undefined ? name : `${name}\0${hostBinary}`;
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#ensure(name, hostBinary);
      this.#inFlight.set(key, pending);
      pending.catch(() => this.#inFlight.delete(key));
    }
    return pending;
  }

  /** The tag the recipe's current inputs hash to, and whether that image exists; builds nothing. */
  async status(name: string, hostBinary?: string): Promise<{ tag: string; present: boolean }> {
    const { tag } = await this.#plan(name, (base) => this.status(base), hostBinary);
    return { tag, present: await this.#exists(tag) };
  }

  async #plan(name: string, baseOf: (base: string) => Promise<{ tag: string }>, hostBinary?: string): Promise<{ plan?: ContextPlan; tag: string }> {
    const recipe = this.#recipe(name);
    if (name === 'base' && this.#options.baseImageOverride !== undefined) return { tag: this.#options.baseImageOverride };
    const baseTag = recipe.from === null ? undefined : (await baseOf(recipe.from)).tag;
    const plan = await planContext(recipe, { projectRoot: this.#options.projectRoot, ...(baseTag === undefined ? {} : { baseTag }), ...(hostBinary === undefined ? {} : { hostBinary }) });
    return { plan, tag: `meshproof/${name}:${plan.hash.slice(0, 16)}` };
  }

  async #ensure(name: string, hostBinary: string | undefined): Promise<BuiltImage> {
    const recipe = this.#recipe(name);
    const { plan, tag } = await this.#plan(name, (base) => this.ensure(base), hostBinary);
    if (plan === undefined) return { name, tag, cached: true };
    if (await this.#exists(tag)) {
      publish('image:build', { image: name, tag, cached: true });
      return { name, tag, cached: true };
    }
    publish('image:build', { image: name, tag, cached: false });
    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), `meshproof-build-${name}-`));
    try {
      writeContext(plan, dir);
      const builder = GenericContainer.fromDockerfile(dir).withBuildArgs({ ...plan.buildArgs });
      await withTimeout(builder.build(tag, { deleteOnExit: false }), this.#options.timeoutMs, `building image ${name}`, 'imageBuild');
      await this.#label(tag, name);
    } catch (error) {
      if (isMeshproofError(error)) throw error;
      if (isEngineGone(error)) throw runtimeUnavailable(error);
      throw new MeshproofError(ErrorCode.ImageBuild, `building image ${name} (${tag}) failed: ${(error as Error).message}`, {
        cause: error,
        location: { file: join(recipe.dir, 'Dockerfile') },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    publish('image:built', { image: name, tag, durationMs: Date.now() - started });
    return { name, tag, cached: false };
  }

  async #exists(tag: string): Promise<boolean> {
    try {
      await this.#client.container.dockerode.getImage(tag).inspect();
      return true;
    } catch (error) {
      if (isEngineGone(error)) throw runtimeUnavailable(error);
      return false;
    }
  }

  /** The legacy builder cannot label at build time through testcontainers; record the recipe as a tag instead. */
  async #label(tag: string, name: string): Promise<void> {
    await this.#client.container.dockerode.getImage(tag).tag({ repo: `meshproof/${name}`, tag: 'latest' });
  }

  #recipe(name: string): ImageRecipe {
    const recipe = this.#recipes.get(name);
    if (recipe === undefined) {
      throw new MeshproofError(ErrorCode.ImageBuild, `no image recipe named '${name}' (known: ${[...this.#recipes.keys()].join(', ')})`);
    }
    return recipe;
  }
}
