/** Read-only questions about the engine and the image cache, for `meshproof doctor`. */
import { projectRoot } from '../../project-root.ts';
import { connectDocker } from './docker-connection.ts';
import { ImageBuilder } from './image-builder.ts';

export interface EngineStatus {
  readonly ok: boolean;
  readonly version?: string;
  readonly operatingSystem?: string;
  readonly error?: unknown;
}

export async function probeEngine(timeoutMs: number): Promise<EngineStatus> {
  try {
    const client = await connectDocker(timeoutMs);
    return { ok: true, version: String(client.info.containerRuntime.serverVersion), operatingSystem: client.info.containerRuntime.operatingSystem };
  } catch (error) {
    return { ok: false, error };
  }
}

export interface ImageStatus {
  readonly name: string;
  readonly tag: string;
  readonly present: boolean;
  /** The published image this recipe builds on, if any, and whether the engine has it. */
  readonly published?: { readonly image: string; readonly present: boolean };
  /** For a recipe that packs a host binary: the binary it would be built from (absent: none named). */
  readonly hostBinary?: string;
}

/**
 * For each recipe: the tag its current inputs hash to, and whether that image exists. A recipe
 * that packs a host binary is looked at with the binary `hostBinaries` names for it; without one
 * it has no tag yet.
 */
export async function imageStatuses(timeoutMs: number, hostBinaries: Readonly<Record<string, string>> = {}): Promise<ImageStatus[]> {
  const client = await connectDocker(timeoutMs);
  const builder = new ImageBuilder(client, { projectRoot, timeoutMs, baseImageOverride: process.env['MESHPROOF_BASE_IMAGE'] });
  const statuses: ImageStatus[] = [];
  for (const name of builder.recipeNames()) {
    const published = builder.publishedBaseOf(name);
    if (published !== undefined) {
      const present = await client.container.dockerode.getImage(published).inspect().then(() => true, () => false);
      statuses.push({ name, tag: published, present: false, published: { image: published, present } });
      continue;
    }
    if (builder.hostBinaryOf(name) !== undefined) {
      const binary = hostBinaries[name];
      statuses.push(binary === undefined ? { name, tag: '', present: false } : { name, hostBinary: binary, ...(await builder.status(name, binary)) });
      continue;
    }
    statuses.push({ name, ...(await builder.status(name)) });
  }
  return statuses;
}
