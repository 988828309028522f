/**
 * A fault is something injected into a running mesh and undone afterwards. Faults compose: a
 * FaultSet injects several in order and undoes them in reverse, and undoes the ones already
 * injected when a later one fails to inject. Every injection and rollback is published as an
 * event, so the report's journal shows what was done when.
 */
import { publish } from '../events.ts';

export interface Fault {
  /** What it does, for journals: `payment-service-1 answers 503 to every request`. */
  readonly description: string;
  /** The pod or container it acts on. */
  readonly target: string;
  inject(): Promise<void>;
  revert(): Promise<void>;
}

declare module '../events.ts' {
  interface EventMap {
    'fault:injected': { readonly description: string; readonly target: string; readonly at: number };
    'fault:reverted': { readonly description: string; readonly target: string; readonly at: number };
  }
}

export class FaultSet {
  readonly #faults: readonly Fault[];
  readonly #injected: Fault[] = [];

  constructor(faults: readonly Fault[]) {
    this.#faults = faults;
  }

  get active(): readonly Fault[] {
    return this.#injected;
  }

  async inject(): Promise<void> {
    for (const fault of this.#faults) {
      try {
        await fault.inject();
      } catch (error) {
        await this.revert();
        throw error;
      }
      this.#injected.push(fault);
      publish('fault:injected', { description: fault.description, target: fault.target, at: Date.now() });
    }
  }

  /** Undoes every injected fault, newest first; tries all of them even when one fails, then throws the first error. */
  async revert(): Promise<void> {
    let firstError: unknown;
    while (this.#injected.length > 0) {
      const fault = this.#injected.pop()!;
      try {
        await fault.revert();
        publish('fault:reverted', { description: fault.description, target: fault.target, at: Date.now() });
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
  }
}

/** Runs `body` with the faults injected, and always reverts them. */
export async function withFaults<T>(faults: readonly Fault[], body: () => Promise<T>): Promise<T> {
  const set = new FaultSet(faults);
  await set.inject();
  try {
    return await body();
  } finally {
    await set.revert();
  }
}
