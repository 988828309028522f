/**
 * Every timeout the harness uses, in one object, with a name that appears in error messages.
 * Nothing waits on a bare sleep: code polls (see util/await-convergence.ts) until a
 * condition holds or the named timeout below runs out.
 *
 * All values are milliseconds of wall-clock time. They are not scaled by the run's time scale:
 * they bound how long the harness waits for infrastructure, not policy durations.
 */
export interface Timeouts {
  /** Reaching the container engine at all (`docker info`). */
  readonly runtimeConnect: number;
  /** Building one image from its recipe. */
  readonly imageBuild: number;
  /** Pulling a published image (the pinned Envoy) where a registry may be reachable. */
  readonly imagePull: number;
  /** A container reaching its ready log line after start. */
  readonly containerReady: number;
  /** Stopping one container before it is killed. */
  readonly containerStop: number;
  /** Removing everything a run created. */
  readonly runCleanup: number;
  /** One probe request, from connect to the last byte of the response. */
  readonly probe: number;
  /** A TLS handshake on its own. */
  readonly handshake: number;
  /** A control call to an agent or admin socket. */
  readonly control: number;
  /** A policy or certificate change taking effect in running pods. */
  readonly convergence: number;
  /** Polling interval while waiting for convergence. */
  readonly convergenceInterval: number;
  /**
   * After a call, how long to wait for the sidecars' access-log lines about it (a proxy that
   * buffers its log, as Envoy does, writes them a little after the client has its answer).
   */
  readonly accessLogSettle: number;
  /** The longest a capture of the pod network runs (its time bound; the capture stops itself then). */
  readonly wireCapture: number;
  /** After a call, how long to wait for the capture file to stop growing (the last packets of the call). */
  readonly wireSettle: number;
}

export const defaultTimeouts: Timeouts = Object.freeze({
  runtimeConnect: 5_000,
  imageBuild: 180_000,
  imagePull: 60_000,
  containerReady: 30_000,
  containerStop: 2_000,
  runCleanup: 30_000,
  probe: 10_000,
  handshake: 5_000,
  control: 30_000,
  convergence: 15_000,
  convergenceInterval: 100,
  accessLogSettle: 1_000,
  wireCapture: 30 * 60_000,
  wireSettle: 1_000,
});

/** Fills unset fields with defaults; the only place defaults are applied. */
export function resolveTimeouts(overrides: Partial<Timeouts> = {}): Timeouts {
  return Object.freeze({ ...defaultTimeouts, ...overrides });
}
