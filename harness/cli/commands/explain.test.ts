import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function meshproof(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['scripts/node.sh', '--disable-warning=ExperimentalWarning', 'harness/cli/main.ts', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('meshproof explain / check-policies', function () {
  this.timeout(60_000);
  const to = ['--to', 'prod-namespace/payment-service'];
  const rows: [string, string[], string][] = [
    ['order POST /pay/1', ['--from', 'prod-namespace/order-service-sa', '--method', 'POST', '--path', '/pay/1'], 'allowed'],
    ['order GET /pay/1', ['--from', 'prod-namespace/order-service-sa', '--method', 'GET', '--path', '/pay/1'], 'denied'],
    ['order POST /refund', ['--from', 'prod-namespace/order-service-sa', '--method', 'POST', '--path', '/refund'], 'denied'],
    ['other SA POST /pay/1', ['--from', 'prod-namespace/product-service-sa', '--method', 'POST', '--path', '/pay/1'], 'denied'],
    ['plaintext under STRICT', ['--from', 'plaintext', '--method', 'POST', '--path', '/pay/1'], 'connection-reset'],
  ];
  for (const [name, args, outcome] of rows) {
    it(`explain seed: ${name} → ${outcome}`, function () {
      const r = meshproof('explain', 'fixtures/seed', ...to, ...args, '--json');
      expect(r.status, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as { decision: { outcome: string } }).decision.outcome).to.equal(outcome);
    });
  }

  it('explain prints the rule and the policy file for people', function () {
    const r = meshproof('explain', 'fixtures/seed', ...to, '--from', 'prod-namespace/order-service-sa', '--method', 'POST', '--path', '/pay/1');
    expect(r.stdout).to.match(/^ALLOWED/).and.match(/rule: {3}prod-namespace\/restrict-payment-access\/rules\[0\] \(ALLOW, fixtures\/seed\/authorization-policy\.yaml:\d+/);
  });

  it('a malformed policy gives file:line and field, and exit code 2', function () {
    const dir = mkdtempSync(join(tmpdir(), 'meshproof-bad-'));
    cpSync('fixtures/seed', dir, { recursive: true });
    const file = join(dir, 'authorization-policy.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('methods: ["POST"]', 'methods: "POST"'));
    for (const r of [meshproof('check-policies', dir), meshproof('explain', dir, ...to, '--from', 'plaintext')]) {
      expect(r.status).to.equal(2);
      expect(r.stderr).to.match(/authorization-policy\.yaml:18:\d+: spec\.rules\[0\]\.to\[0\]\.operation\.methods: must be of type array/);
    }
  });

  it('check-policies prints the matrix and exits 0 for the seed', function () {
    const r = meshproof('check-policies', 'fixtures/seed');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/rules covered 1\/1/).and.match(/#miss:methods .* → denied 403/);
  });
});
