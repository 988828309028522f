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

  it('explain --to asks with protocol, TLS version, SNI and source IP', function () {
    const grpc = meshproof('explain', 'fixtures/explain', '--from', 'bank/teller-sa', '--to', 'bank/ledger', '--protocol', 'grpc', '--path', '/bank.Audit/Read', '--json');
    expect(grpc.status, grpc.stderr).to.equal(0);
    expect((JSON.parse(grpc.stdout) as { decision: { expect: unknown } }).decision.expect).to.deep.include({ status: 200, grpcStatus: 7 });
    const old = meshproof('explain', 'fixtures/explain', '--from', 'bank/teller-sa', '--to', 'bank/ledger', '--tls-version', '1.2', '--sni', 'ledger.bank', '--source-ip', '10.10.0.1');
    expect(old.stdout).to.match(/^HANDSHAKE-FAILED/).and.match(/accepts TLSv1\.3 to TLSv1\.3/);
  });

  it('explain --service says which route, timeout and retries apply, what the client gets, and when endpoints are ejected', function () {
    const r = meshproof('explain', 'fixtures/explain', '--from', 'bank/teller-sa', '--service', 'bank/ledger', '--path', '/accounts/7', '--upstream', '503,reset,200', '--failing', '1', '--for', '30s');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout)
      .to.match(/route: {4}VirtualService bank\/ledger http\[1\] "accounts" \(fixtures\/explain\/policies\.yaml:\d+\), match\[0\]/)
      .and.match(/timeout: {2}2s/)
      .and.match(/retries: {2}2 on 5xx,reset, per try 500ms \(route retry policy\)/)
      .and.match(/CLIENT GETS 200 after 3 upstream attempts/)
      .and.match(/endpoint 0 ejected \(consecutive_5xx\) for 15s/);
  });

  it('explain wants exactly one of --to and --service, and server-side flags only with --to', function () {
    for (const args of [['--to', 'bank/ledger', '--service', 'bank/ledger'], ['--service', 'bank/ledger', '--sni', 'x']]) {
      const r = meshproof('explain', 'fixtures/explain', '--from', 'bank/teller-sa', ...args);
      expect(r.status).to.equal(2);
      expect(r.stderr).to.match(/MESHPROOF_ERR_BAD_ARGUMENT|--to|--service/);
    }
  });

  it('check-policies --istio-rules counts the Istio rules it applies', function () {
    const r = meshproof('check-policies', '--istio-rules');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/: 220\napplied 219 /);
  });

  it('check-policies prints the matrix and exits 0 for the seed', function () {
    const r = meshproof('check-policies', 'fixtures/seed');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/rules covered 1\/1/).and.match(/#miss:methods .* → denied 403/);
  });
});
