/** Events the mesh environment publishes on the harness channel (see ../events.ts). */
import type { Outcome } from '../traffic/types.ts';

declare module '../events.ts' {
  interface EventMap {
    /** A pod of the environment is up (`sidecar` names the data plane's image, when it has one). */
    'mesh:pod': { readonly pod: string; readonly kind: string; readonly ip: string; readonly sidecar?: string };
    /** One call made by env.call(), with how it ended. */
    'mesh:call': { readonly label: string; readonly outcome: Outcome; readonly status?: number; readonly durationMs: number };
    /** New policies in force on every sidecar (env.apply()). */
    'mesh:applied': { readonly generation: number; readonly sidecars: number; readonly convergedInMs: number };
  }
}

export {};
