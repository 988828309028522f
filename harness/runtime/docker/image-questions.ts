/**
 * The engine's image store, asked through the same connection as everything else (so DOCKER_HOST
 * means one engine everywhere). Used to find out whether a published image, such as the pinned
 * Envoy, can be had here.
 */
import { withTimeout } from '../../util/with-timeout.ts';
import type { ImageAnswer, ImageQuestions } from '../types.ts';
import { connectDocker } from './docker-connection.ts';

export function dockerImageQuestions(connectTimeoutMs: number): ImageQuestions {
  const ask = async (what: (docker: Awaited<ReturnType<typeof connectDocker>>['container']['dockerode']) => Promise<string>, timeoutMs: number, name: string): Promise<ImageAnswer> => {
    try {
      const client = await connectDocker(connectTimeoutMs);
      return { ok: true, output: await withTimeout(what(client.container.dockerode), timeoutMs, name, 'imagePull') };
    } catch (error) {
      return { ok: false, error: (error as Error).message.split('\n')[0] ?? String(error) };
    }
  };
  return {
    hasImage: (image, timeoutMs) => ask(async (docker) => (await docker.getImage(image).inspect()).Id, timeoutMs, `inspecting ${image}`),
    pull: (image, timeoutMs) =>
      ask(
        async (docker) => {
          const stream = await docker.pull(image);
          // Progress arrives as a stream; the pull is done (or failed) when it ends.
          await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error: Error | null) => (error === null ? resolve() : reject(error))));
          return `pulled ${image}`;
        },
        timeoutMs,
        `pulling ${image}`,
      ),
  };
}
