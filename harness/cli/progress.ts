/**
 * Console progress for long work: subscribes to lifecycle events and prints one line per step
 * to stderr (so stdout stays clean for --json). Returns the function that stops it.
 */
import { subscribe } from '../events.ts';

export function showProgress(stream: NodeJS.WritableStream = process.stderr): () => void {
  const write = (line: string): void => {
    stream.write(`${line}\n`);
  };
  const unsubscribers = [
    subscribe('image:build', (m) => {
      if (!m.cached) write(`building image ${m.image} (${m.tag}) …`);
    }),
    subscribe('image:built', (m) => write(`built image ${m.image} in ${(m.durationMs / 1000).toFixed(1)} s`)),
    subscribe('runtime:container', (m) => {
      if (m.action === 'started') write(`started ${m.container}`);
    }),
    subscribe('runtime:swept', (m) => write(`removed ${m.containers} containers and ${m.networks} networks left by ended runs ${m.runIds.join(', ')}`)),
    subscribe('progress', (m) => write(`${m.scope}: ${m.message}`)),
  ];
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}
