/**
 * Keeps a workload's certificate files fresh, as istio-agent does: a new key and certificate
 * when `graceRatio` of the current certificate's lifetime has passed (Istio's
 * SECRET_GRACE_PERIOD_RATIO, 0.5; rotateTime in security/pkg/nodeagent/cache/secretcache.go
 * measures the lifetime from when the agent received the certificate to its notAfter).
 *
 * Each renewal goes through the CA's CSR flow and replaces the files atomically (workload-files.ts),
 * then publishes `pki:rotated`. A failed renewal publishes `pki:rotation-failed` and is retried.
 */
import { publish } from '../events.ts';
import type { KeyAlgorithm } from './key-algorithm.ts';
import type { MeshCa } from './mesh-ca.ts';
import type { WorkloadRef } from './spiffe.ts';
import type { WorkloadCredentials } from './workload-credentials.ts';
import { writeWorkloadFiles } from './workload-files.ts';
import './pki-events.ts';

/** Istio's SECRET_GRACE_PERIOD_RATIO default. */
export const DEFAULT_GRACE_RATIO = 0.5;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CertRotatorOptions {
  readonly ca: MeshCa;
  readonly workload: WorkloadRef;
  /** The folder the sidecar reads (cert-chain.pem, key.pem, root-cert.pem). */
  readonly dir: string;
  /** Lifetime asked for each certificate; default the CA's default (24h). Seconds work. */
  readonly ttlMs?: number;
  /** Fraction of the lifetime after which to renew. Default 0.5. */
  readonly graceRatio?: number;
  /**
   * Istio varies the ratio by ±SECRET_GRACE_PERIOD_RATIO_JITTER (0.01) so that workloads do not
   * renew together. Off by default; give `random` (the run's seeded generator, values in [0, 1))
   * to turn it on, so that a run can be replayed.
   */
  readonly jitter?: { readonly ratio: number; readonly random: () => number };
  /** Wait before retrying a failed renewal. Default 1 s. */
  readonly retryMs?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
}

export class CertRotator {
  readonly dir: string;
  /** The workload's SPIFFE URI. */
  readonly identity: string;
  readonly #options: CertRotatorOptions;
  #current: WorkloadCredentials;
  #receivedAt: number;
  #rotations = 0;
  #timer: NodeJS.Timeout | undefined;
  #dueAt: number | undefined;
  #pending: Promise<WorkloadCredentials> | undefined;
  #stopped = false;

  private constructor(options: CertRotatorOptions, first: WorkloadCredentials, receivedAt: number) {
    this.#options = options;
    this.dir = options.dir;
    this.identity = first.spiffeId;
    this.#current = first;
    this.#receivedAt = receivedAt;
  }

  /** Issues the first certificate, writes the files, and schedules renewals. */
  static async start(options: CertRotatorOptions): Promise<CertRotator> {
    const first = await issue(options);
    const rotator = new CertRotator(options, first, Date.now());
    rotator.#schedule();
    return rotator;
  }

  get current(): WorkloadCredentials {
    return this.#current;
  }

  /** Renewals done since start. */
  get rotations(): number {
    return this.#rotations;
  }

  /** When the next renewal is due; undefined once stopped. */
  get nextRotationAt(): Date | undefined {
    return this.#dueAt === undefined ? undefined : new Date(this.#dueAt);
  }

  /** Renews at once (and reschedules). Concurrent calls share one renewal. */
  async rotateNow(): Promise<WorkloadCredentials> {
    this.#pending ??= this.#rotate().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Stops renewing, after a renewal under way has written its files; the files then stay as they are. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dueAt = undefined;
    await this.#pending?.catch(() => undefined);
  }

  async #rotate(): Promise<WorkloadCredentials> {
    const previous = this.#current;
    const next = await issue(this.#options);
    this.#current = next;
    this.#receivedAt = Date.now();
    this.#rotations += 1;
    publish('pki:rotated', {
      identity: this.identity,
      dir: this.dir,
      rotation: this.#rotations,
      previousFingerprint256: previous.fingerprint256,
      fingerprint256: next.fingerprint256,
      notAfter: next.notAfter.toISOString(),
    });
    this.#schedule();
    return next;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const lifetime = this.#current.notAfter.getTime() - this.#receivedAt;
    const jitter = this.#options.jitter;
    const ratio = (this.#options.graceRatio ?? DEFAULT_GRACE_RATIO) + (jitter === undefined ? 0 : (jitter.random() * 2 - 1) * jitter.ratio);
    this.#arm(this.#current.notAfter.getTime() - ratio * lifetime);
  }

  #arm(dueAt: number): void {
    clearTimeout(this.#timer);
    this.#dueAt = dueAt;
    const delay = Math.max(0, dueAt - Date.now());
    // setTimeout cannot wait longer than 2^31-1 ms (~24.8 days); wake up and re-arm for longer waits.
    this.#timer = setTimeout(() => (delay > MAX_TIMER_MS ? this.#arm(dueAt) : this.#onDue()), Math.min(delay, MAX_TIMER_MS));
    this.#timer.unref();
  }

  #onDue(): void {
    this.rotateNow().catch((error: unknown) => {
      if (this.#stopped) return;
      const retryInMs = this.#options.retryMs ?? 1_000;
      publish('pki:rotation-failed', { identity: this.identity, dir: this.dir, error: error instanceof Error ? error.message : String(error), retryInMs });
      this.#arm(Date.now() + retryInMs);
    });
  }
}

async function issue(options: CertRotatorOptions): Promise<WorkloadCredentials> {
  const credentials = await options.ca.issue(options.workload, {
    ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
    ...(options.keyAlgorithm === undefined ? {} : { keyAlgorithm: options.keyAlgorithm }),
  });
  await writeWorkloadFiles(options.dir, credentials);
  return credentials;
}
