/**
 * Lifecycle events on one channel family (node:diagnostics_channel, as undici does).
 *
 * Modules publish what happened; reporters and console progress subscribe. Publishing with no
 * subscriber costs almost nothing, so events may be published on hot paths.
 *
 * Modules add their own events by merging into EventMap:
 *
 *   declare module '../events.ts' {
 *     interface EventMap { 'fault:injected': { fault: string; target: string } }
 *   }
 */
import diagnosticsChannel from 'node:diagnostics_channel';

export interface EventMap {
  /** A container image is being built (`cached: true` when an image with the same inputs exists). */
  'image:build': { readonly image: string; readonly tag: string; readonly cached: boolean };
  'image:built': { readonly image: string; readonly tag: string; readonly durationMs: number };
  'runtime:network': { readonly runId: string; readonly network: string; readonly action: 'created' | 'removed' };
  'runtime:container': {
    readonly runId: string;
    readonly container: string;
    readonly action: 'starting' | 'started' | 'removed' | 'paused' | 'unpaused' | 'killed' | 'disconnected' | 'connected';
  };
  /** Leftovers of runs whose process is gone, removed at the start of a new run. */
  'runtime:swept': { readonly runIds: readonly string[]; readonly containers: number; readonly networks: number };
  /** The process was told to stop (a signal, or its parent gone) and is removing what it started. */
  'run:interrupted': { readonly why: string };
  /** Free-form progress for long work; console reporters print it. */
  progress: { readonly scope: string; readonly message: string };
}

export type EventName = keyof EventMap;

const prefix = 'meshproof:';

export function publish<K extends EventName>(name: K, message: EventMap[K]): void {
  const channel = diagnosticsChannel.channel(prefix + name);
  if (channel.hasSubscribers) channel.publish(message);
}

/** Subscribes to one event; returns the function that unsubscribes. */
export function subscribe<K extends EventName>(name: K, listener: (message: EventMap[K]) => void): () => void {
  const channelName = prefix + name;
  const onMessage = (message: unknown): void => listener(message as EventMap[K]);
  diagnosticsChannel.subscribe(channelName, onMessage);
  return () => {
    diagnosticsChannel.unsubscribe(channelName, onMessage);
  };
}
