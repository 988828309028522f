/**
 * A mesh environment's eavesdropper: the runtime's capture of the pod network (WireTap), started
 * with the network and before any pod, so every connection between pods is seen from its first
 * packet. When the capture cannot be made here, the observer is still there and says why
 * (`unavailableReason`): a wire check then skips with that reason, never passes.
 */
import { readFile, stat } from 'node:fs/promises';
import { ErrorCode, MeshproofError, isMeshproofError } from '../errors.ts';
import { publish } from '../events.ts';
import type { RunNetwork, Runtime, WireTap, WireTapBounds } from '../runtime/types.ts';
import { readCapture, type WireCapture } from '../wire/wire-capture.ts';

/** Enough for the mtls suite many times over (it makes a few thousand packets); a capture stops itself past them. */
export const DEFAULT_WIRE_BOUNDS = { maxPackets: 200_000, maxBytes: 256 * 1024 * 1024 } as const;

declare module '../events.ts' {
  interface EventMap {
    'mesh:wire': { readonly iface?: string; readonly available: boolean; readonly reason?: string };
  }
}

export class WireObserver {
  readonly #tap: WireTap | undefined;
  readonly #settleMs: number;
  readonly unavailableReason: string | undefined;

  private constructor(tap: WireTap | undefined, reason: string | undefined, settleMs: number) {
    this.#tap = tap;
    this.unavailableReason = reason;
    this.#settleMs = settleMs;
  }

  /** Starts the capture; a capture that cannot be made gives an observer that says why. */
  static async start(runtime: Runtime, network: RunNetwork, bounds: WireTapBounds, settleMs: number): Promise<WireObserver> {
    try {
      const tap = await runtime.startWireTap(network, bounds);
      publish('mesh:wire', { iface: tap.iface, available: true });
      return new WireObserver(tap, undefined, settleMs);
    } catch (error) {
      if (!isMeshproofError(error, ErrorCode.WireCapture)) throw error;
      publish('mesh:wire', { available: false, reason: error.message });
      return new WireObserver(undefined, error.message, settleMs);
    }
  }

  get available(): boolean {
    return this.#tap !== undefined;
  }

  /** The interface captured, when there is a capture. */
  get iface(): string | undefined {
    return this.#tap?.iface;
  }

  /** When the capture began listening (ms since the epoch). */
  get listeningAt(): number | undefined {
    return this.#tap?.listeningAt;
  }

  /**
   * Why the capture cannot speak for traffic from now on: not made here, or stopped at a bound.
   * Undefined while it captures.
   */
  async blindReason(): Promise<string | undefined> {
    if (this.#tap === undefined) return this.unavailableReason;
    return this.#tap.endedBecause();
  }

  /** The capture so far, once the file has stopped growing (bounded by the settle time): the last packets of a call are in it. */
  async read(): Promise<WireCapture> {
    const tap = this.#tap;
    if (tap === undefined) throw new MeshproofError(ErrorCode.WireCapture, `the pod network is not captured: ${this.unavailableReason ?? 'no capture'}`);
    const deadline = performance.now() + this.#settleMs;
    let last = -1;
    for (;;) {
      const size = (await stat(tap.file).catch(() => ({ size: 0 }))).size;
      if (size === last || performance.now() >= deadline) break;
      last = size;
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    return readCapture(new Uint8Array(await readFile(tap.file)), tap.listeningAt);
  }

  async stop(): Promise<void> {
    await this.#tap?.stop();
  }
}
