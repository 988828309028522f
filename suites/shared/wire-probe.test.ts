import { expect } from 'chai';
import { readCapture, type MeshEnvironment } from '../../harness/index.ts';
import { pcapOf, segmentsOf } from '../../harness/wire/testing/pcap-writer.ts';
import type { LiveProbeResult } from './live-prober.ts';
import { CANARY_HEADER, CanarySource, canaryOf, judgeOnWire, withCanary, type SentWireProbe } from './wire-probe.ts';

const CALLER = { ip: '10.1.0.5', port: 40000 };
const SERVER = { ip: '10.1.0.7', port: 8080 };
const env = { pod: (name: string) => ({ pod: { ip: name.startsWith('legacy') ? CALLER.ip : SERVER.ip } }) } as unknown as Pick<MeshEnvironment, 'pod'>;
const label = { client: 'legacy-client', clientKind: 'plaintext', service: 'payment-service.prod-namespace:80', serverMode: 'STRICT' as const };

function sent(canary: string, reply: string | undefined): { capture: ReturnType<typeof readCapture>; probe: SentWireProbe } {
  const t = 1_800_000_000_000;
  const request = `POST /pay/${canary} HTTP/1.1\r\n${CANARY_HEADER}: ${canary}\r\n\r\ncanary=${canary}`;
  const segments = segmentsOf({ writes: [{ from: 'client', bytes: new Uint8Array(Buffer.from(request)), atMs: t }, ...(reply === undefined ? [] : [{ from: 'server' as const, bytes: new Uint8Array(Buffer.from(reply)), atMs: t + 1 }])] }, { client: CALLER, server: SERVER });
  const result = { pods: { caller: 'legacy-client.legacy', server: 'payment-service-0.prod-namespace' } } as unknown as LiveProbeResult;
  return { capture: readCapture(pcapOf(segments), t - 100), probe: { result, canary, fromMs: t - 5, toMs: t + 5 } };
}

describe('wire probes', function () {
  it('numbers canaries from the seed: the same seed gives the same ones, never twice from one source', function () {
    const a = new CanarySource(42);
    const b = new CanarySource(42);
    const first = [a.next(), a.next()];
    expect(first).to.deep.equal([b.next(), b.next()]);
    expect(new Set(first).size).to.equal(2);
    expect(new CanarySource(43).next()).to.not.equal(first[0]);
    expect(first[0]).to.match(/^mpcanary-[0-9a-f]{8}-000001$/);
  });

  it('no canary is found inside another (the first is not a prefix of the tenth)', function () {
    const source = new CanarySource(7);
    const canaries = Array.from({ length: 120 }, () => source.next());
    const inside = canaries.flatMap((c) => canaries.filter((d) => d !== c && d.includes(c)).map((d) => `${c} in ${d}`));
    expect(inside).to.deep.equal([]);
  });

  it('puts the canary in the path, a header and the body', function () {
    const probe = withCanary({ source: { kind: 'plaintext' }, to: 'prod-namespace/payment-service', path: '/pay/', headers: { a: 'b' } }, 'mpcanary-x-1');
    expect(probe).to.deep.include({ path: '/pay/mpcanary-x-1', body: 'canary=mpcanary-x-1' });
    expect(probe.headers).to.deep.equal({ a: 'b', [CANARY_HEADER]: 'mpcanary-x-1' });
    expect(canaryOf({ probe } as LiveProbeResult)).to.equal('mpcanary-x-1');
  });

  it('makes a report row naming the pods of the connection, with the redacted excerpt and what Istio says', function () {
    const { capture, probe } = sent('mpcanary-00000000-7', undefined);
    const { verdict, row } = judgeOnWire(env, capture, probe, 'no-reply', label, 'TLSv1.2');
    expect(verdict.status).to.equal('held');
    expect(row).to.deep.include({ seen: 'cleartext request, no reply', agrees: true, excerpt: 'POST /pay/‹canary› HTTP/1.1', connection: 'legacy-client.legacy (10.1.0.5:40000) → payment-service-0.prod-namespace (10.1.0.7:8080)' });
    expect(row.expected).to.match(/^no reply/);
  });

  it('a reply to a plaintext caller of a STRICT port makes a row that disagrees, saying what was read', function () {
    const { capture, probe } = sent('mpcanary-00000000-8', 'HTTP/1.1 200 OK\r\n\r\n{"path":"/pay/mpcanary-00000000-8"}');
    const { verdict, row } = judgeOnWire(env, capture, probe, 'no-reply', label, 'TLSv1.2');
    expect(verdict.status).to.equal('broken');
    expect(row.agrees).to.equal(false);
    expect(row.note).to.match(/answered a plaintext caller readably/);
  });

  it('a probe the capture did not see is a row marked not observed, with the reason, never agreeing', function () {
    const { capture, probe } = sent('mpcanary-00000000-9', undefined);
    const { row } = judgeOnWire(env, capture, { ...probe, canary: 'mpcanary-00000000-10', fromMs: probe.fromMs + 60_000, toMs: probe.toMs + 60_000 }, 'mtls', label, 'TLSv1.2');
    expect(row).to.deep.include({ seen: 'not observed', agrees: false });
    expect(row.note).to.match(/the capture holds nothing from the time of the probe/);
  });
});
