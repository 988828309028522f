/**
 * Wire probes: live probes that carry a canary, a random text in the path, a header and the body,
 * so that the capture of the pod network can be asked what an eavesdropper saw of exactly that
 * request; and the report's wire rows from the answers. Pure but for `sendWireProbe`.
 *
 * Canaries are drawn from the run seed and numbered, so a replay (and each data plane of a
 * differential run) sends the same ones, and no two requests of one environment share one.
 */
import {
  checkWire,
  deriveSeed,
  readProbe,
  type MeshEnvironment,
  type WireCapture,
  type WireExpectation,
  type WireRow,
  type WireVerdict,
} from '../../harness/index.ts';
import type { LiveProbe, LiveProbeResult, LiveProber } from './live-prober.ts';

export const CANARY_HEADER = 'x-meshproof-canary';

/**
 * Numbered canaries of one environment: `mpcanary-<8 hex of the seed>-<n, 6 digits>`. All of one
 * length, so none is found inside another (a canary ending in -1 would be found in one ending in -10).
 */
export class CanarySource {
  readonly #prefix: string;
  #next = 0;

  constructor(seed: number) {
    this.#prefix = `mpcanary-${(deriveSeed(seed, 'wire-canary') >>> 0).toString(16).padStart(8, '0')}`;
  }

  next(): string {
    this.#next += 1;
    return `${this.#prefix}-${String(this.#next).padStart(6, '0')}`;
  }
}

/** The probe with a canary in its path (`<path>/<canary>`), a header and its body. */
export function withCanary(probe: LiveProbe, canary: string): LiveProbe {
  const base = (probe.path ?? '/').replace(/\/$/, '');
  return { ...probe, path: `${base}/${canary}`, headers: { ...probe.headers, [CANARY_HEADER]: canary }, body: `canary=${canary}` };
}

/** The canary a probe carried (its header). */
export function canaryOf(result: LiveProbeResult): string | undefined {
  return result.probe.headers?.[CANARY_HEADER];
}

export interface SentWireProbe {
  readonly result: LiveProbeResult;
  readonly canary: string;
  /** Sent and answered (ms since the epoch). */
  readonly fromMs: number;
  readonly toMs: number;
}

export async function sendWireProbe(prober: LiveProber, canaries: CanarySource, probe: LiveProbe): Promise<SentWireProbe> {
  const canary = canaries.next();
  const fromMs = Date.now();
  const result = await prober.run(withCanary(probe, canary));
  return { result, canary, fromMs, toMs: Date.now() };
}

/** How a wire row names its request. */
export interface WireRowLabel {
  readonly client: string;
  readonly clientKind: string;
  readonly service: string;
  readonly serverMode: WireRow['serverMode'];
}

export interface JudgedWireProbe {
  readonly verdict: WireVerdict;
  readonly row: WireRow;
}

const EXPECTED_TEXT: Readonly<Record<WireExpectation, (minTls: string, mode: string) => string>> = {
  mtls: (minTls) => `encrypted: TLS ≥ ${minTls} with Istio's ALPN, no byte outside it`,
  'no-reply': () => "no reply: the plaintext caller's own request is readable, the server sends nothing back",
  cleartext: (_, mode) => `readable: ${mode} takes plaintext (a finding)`,
};

/** What an eavesdropper saw of one sent probe, judged against what Istio says, as a verdict and a report row. */
export function judgeOnWire(env: Pick<MeshEnvironment, 'pod'>, capture: WireCapture, sent: SentWireProbe, expect: WireExpectation, label: WireRowLabel, minTlsVersion: string): JudgedWireProbe {
  const caller = env.pod(sent.result.pods.caller).pod;
  const server = env.pod(sent.result.pods.server).pod;
  const reading = readProbe(capture, { canary: sent.canary, callerIp: caller.ip, serverIp: server.ip, fromMs: sent.fromMs, toMs: sent.toMs });
  const verdict = checkWire(expect, reading, { minTlsVersion });
  const names = new Map([
    [caller.ip, sent.result.pods.caller],
    [server.ip, sent.result.pods.server],
  ]);
  const common = { ...label, expected: EXPECTED_TEXT[expect](minTlsVersion, label.serverMode) };
  if (verdict.status === 'unobserved') return { verdict, row: { ...common, seen: 'not observed', agrees: false, note: verdict.reason } };
  return {
    verdict,
    row: {
      ...common,
      seen: verdict.seen,
      ...(verdict.connection === undefined ? {} : { connection: namedConnection(verdict.connection, names) }),
      ...(verdict.tls === undefined ? {} : { tls: verdict.tls }),
      ...(verdict.excerpt === undefined ? {} : { excerpt: verdict.excerpt }),
      agrees: verdict.status === 'held',
      ...(verdict.status === 'broken' ? { note: verdict.message } : {}),
    },
  };
}

/** `172.18.0.5:41234 → 172.18.0.7:8080` with the pods named: `order-client (172.18.0.5:41234) → …`. */
function namedConnection(key: string, names: ReadonlyMap<string, string>): string {
  return key
    .split(' → ')
    .map((end) => {
      const ip = end.slice(0, end.lastIndexOf(':')).replace(/^\[|\]$/g, '');
      const name = names.get(ip);
      return name === undefined ? end : `${name} (${end})`;
    })
    .join(' → ');
}
