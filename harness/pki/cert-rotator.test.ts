import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribe, type EventMap } from '../events.ts';
import { CertRotator } from './cert-rotator.ts';
import { MeshCa } from './mesh-ca.ts';
import { readWorkloadFiles } from './workload-files.ts';

const payment = { namespace: 'prod', serviceAccount: 'payment' };
const HOUR = 3_600_000;

/** The next `name` event matching `filter`, or a rejection after `ms`. */
function nextEvent<K extends keyof EventMap>(name: K, filter: (event: EventMap[K]) => boolean, ms: number): Promise<EventMap[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no ${name} event within ${ms} ms`));
    }, ms);
    const unsubscribe = subscribe(name, (event) => {
      if (!filter(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

describe('CertRotator', function () {
  this.timeout(20_000);
  let dir: string;
  let rotators: CertRotator[];
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'meshproof-rotator-test-'));
    rotators = [];
  });
  afterEach(async function () {
    for (const rotator of rotators) await rotator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('renews at half the lifetime (ttl 3s), replaces the files with a new key, and says so in pki:rotated', async function () {
    const ca = await MeshCa.create();
    const startedAt = Date.now();
    const rotator = await CertRotator.start({ ca, workload: payment, dir, ttlMs: 3_000 });
    rotators.push(rotator);
    const first = rotator.current;
    const lifetime = first.notAfter.getTime() - startedAt;
    expect((await readWorkloadFiles(dir)).certChainPem).to.equal(first.certChainPem);
    expect(rotator.nextRotationAt!.getTime() - startedAt).to.be.within(0.5 * lifetime - 200, 0.5 * lifetime + 200);

    const event = await nextEvent('pki:rotated', (e) => e.dir === dir, 10_000);
    const rotatedAfter = Date.now() - startedAt;
    expect(rotatedAfter).to.be.within(0.5 * lifetime - 200, 0.5 * lifetime + 1_500);
    expect(event).to.include({ identity: 'spiffe://cluster.local/ns/prod/sa/payment', rotation: 1, previousFingerprint256: first.fingerprint256 });
    const files = await readWorkloadFiles(dir);
    const cert = new X509Certificate(files.certChainPem);
    expect(cert.fingerprint256).to.equal(event.fingerprint256).and.not.equal(first.fingerprint256);
    expect(cert.checkPrivateKey(createPrivateKey(files.keyPem))).to.equal(true);
    expect(files.keyPem).to.not.equal(first.keyPem);
    expect(rotator.rotations).to.equal(1);
  });

  it('schedules a 24h certificate for 12h, and a 90-day one for 45 days without firing early', async function () {
    const ca = await MeshCa.create();
    const day = await CertRotator.start({ ca, workload: payment, dir: join(dir, 'day'), ttlMs: 24 * HOUR });
    const quarter = await CertRotator.start({ ca, workload: payment, dir: join(dir, 'quarter'), ttlMs: 90 * 24 * HOUR });
    rotators.push(day, quarter);
    expect(day.nextRotationAt!.getTime() - Date.now()).to.be.within(12 * HOUR - 5_000, 12 * HOUR + 5_000);
    expect(quarter.nextRotationAt!.getTime() - Date.now()).to.be.within(45 * 24 * HOUR - 5_000, 45 * 24 * HOUR + 5_000);
    // 45 days is past setTimeout's limit (~24.8 days); a naive timer would fire at once.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(quarter.rotations).to.equal(0);
  });

  it("moves the renewal by the jitter drawn from the run's seeded generator", async function () {
    const ca = await MeshCa.create();
    const late = await CertRotator.start({ ca, workload: payment, dir: join(dir, 'a'), ttlMs: HOUR, jitter: { ratio: 0.01, random: () => 0 } });
    const early = await CertRotator.start({ ca, workload: payment, dir: join(dir, 'b'), ttlMs: HOUR, jitter: { ratio: 0.01, random: () => 0.999999 } });
    rotators.push(late, early);
    // ratio 0.49 renews 0.51 of the way in; ratio 0.51 renews 0.49 of the way in: 0.02 h apart.
    const gap = late.nextRotationAt!.getTime() - early.nextRotationAt!.getTime();
    expect(gap).to.be.within(0.02 * HOUR - 2_000, 0.02 * HOUR + 2_000);
  });

  it('publishes pki:rotation-failed and retries when the CA refuses, and stops cleanly', async function () {
    let caNow = Date.now();
    const ca = await MeshCa.create({ now: () => caNow, intermediateTtlMs: 24 * HOUR });
    const rotator = await CertRotator.start({ ca, workload: payment, dir, ttlMs: 1_000, retryMs: 100 });
    rotators.push(rotator);
    const before = rotator.current.fingerprint256;
    caNow += 48 * HOUR; // the CA's intermediate has expired by the time the renewal is due
    const failure = await nextEvent('pki:rotation-failed', (e) => e.dir === dir, 10_000);
    expect(failure.error).to.contain('not now');
    expect(failure.retryInMs).to.equal(100);
    const second = await nextEvent('pki:rotation-failed', (e) => e.dir === dir, 5_000);
    expect(second.error).to.equal(failure.error);
    await rotator.stop();
    expect(rotator.nextRotationAt).to.equal(undefined);
    expect(new X509Certificate((await readWorkloadFiles(dir)).certChainPem).fingerprint256).to.equal(before);
  });
});
