import { expect } from 'chai';
import { formatIssue } from '../issues.ts';
import { parsePolicies } from '../load-policies.ts';

const AP = (spec: string, meta = ''): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: p
  namespace: prod
${meta}spec:
${spec}`;
const DR = (spec: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: d
  namespace: prod
spec:
${spec}`;
const VS = (spec: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: v
  namespace: prod
spec:
${spec}`;
const ROUTE = '  http:\n  - route:\n    - destination: {host: pay}\n';

interface Row {
  readonly name: string;
  readonly yaml: string;
  readonly severity: 'error' | 'warning';
  readonly line: number;
  readonly field: string;
  readonly message: RegExp;
}

const rows: Row[] = [
  { name: 'AP dry-run on AUDIT', yaml: AP('  action: AUDIT\n  rules: [{}]', '  annotations: {istio.io/dry-run: "true"}\n'), severity: 'error', line: 6, field: 'metadata.annotations["istio.io/dry-run"]', message: /only supports action ALLOW\/DENY, found action AUDIT/ },
  { name: 'AP dry-run on CUSTOM', yaml: AP('  action: CUSTOM\n  provider: {name: ext}\n  rules: [{}]', '  annotations: {istio.io/dry-run: "false"}\n'), severity: 'error', line: 6, field: 'metadata.annotations["istio.io/dry-run"]', message: /only supports action ALLOW\/DENY, found action CUSTOM/ },
  { name: 'AP CUSTOM rule with principals', yaml: AP('  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - from:\n    - source: {principals: ["cluster.local/ns/a/sa/b"]}'), severity: 'error', line: 11, field: 'spec.rules[0].from[0].source.principals', message: /principals is not supported with the CUSTOM action/ },
  { name: 'AP CUSTOM rule with notRequestPrincipals', yaml: AP('  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - from:\n    - source: {notRequestPrincipals: ["*"]}'), severity: 'error', line: 11, field: 'spec.rules[0].from[0].source.notRequestPrincipals', message: /notRequestPrincipals is not supported with the CUSTOM action/ },
  { name: 'AP CUSTOM rule with when source.namespace', yaml: AP('  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - when:\n    - key: source.namespace\n      values: [a]'), severity: 'error', line: 11, field: 'spec.rules[0].when[0].key', message: /source\.namespace is not supported with the CUSTOM action/ },
  { name: 'AP selector with an empty key', yaml: AP('  selector:\n    matchLabels: {"": x}'), severity: 'error', line: 8, field: 'spec.selector.matchLabels[""]', message: /empty key is not supported in selector/ },
  { name: 'AP selector with a wildcard value', yaml: AP('  selector:\n    matchLabels: {app: "pay*"}'), severity: 'error', line: 8, field: 'spec.selector.matchLabels.app', message: /wildcard is not supported in selector/ },
  { name: 'AP selector with a wildcard key', yaml: AP('  selector:\n    matchLabels: {"ap*": pay}'), severity: 'error', line: 8, field: 'spec.selector.matchLabels["ap*"]', message: /wildcard is not supported in selector/ },
  { name: 'AP selector without labels', yaml: AP('  selector: {}\n  rules: [{}]'), severity: 'warning', line: 7, field: 'spec.selector', message: /workload selector specified without labels/ },
  { name: 'AP empty value in when values', yaml: AP('  rules:\n  - when:\n    - key: request.headers[x-user]\n      values: [""]'), severity: 'error', line: 10, field: 'spec.rules[0].when[0].values[0]', message: /empty value not allowed/ },
  { name: 'AP empty value in when notValues', yaml: AP('  rules:\n  - when:\n    - key: source.ip\n      notValues: ["10.0.0.1", ""]'), severity: 'error', line: 10, field: 'spec.rules[0].when[0].notValues[1]', message: /empty value not allowed/ },
  { name: 'AP targetRef to a Deployment', yaml: AP('  targetRef: {group: apps, kind: Deployment, name: pay}'), severity: 'error', line: 7, field: 'spec.targetRef', message: /targetRef must be to one of .*Service.* but was apps\/Deployment/ },
  { name: 'AP targetRefs with a namespace', yaml: AP('  targetRefs:\n  - {kind: Service, group: "", name: pay, namespace: other}'), severity: 'error', line: 8, field: 'spec.targetRefs[0].namespace', message: /cross namespace referencing is not supported/ },
  { name: 'AP targetRef Gateway in the wrong group', yaml: AP('  targetRef: {group: networking.istio.io, kind: Gateway, name: gw}'), severity: 'error', line: 7, field: 'spec.targetRef', message: /but was networking\.istio\.io\/Gateway/ },
  {
    name: 'AP DENY with HTTP-only fields warns that it denies all TCP',
    yaml: AP('  action: DENY\n  rules:\n  - to:\n    - operation: {methods: ["GET"]}'),
    severity: 'warning',
    line: 9,
    field: 'spec.rules[0]',
    message: /deny all traffic to TCP ports under its scope/,
  },
  { name: 'DR empty subset name', yaml: DR('  host: pay\n  subsets:\n  - name: ""\n    labels: {v: "1"}'), severity: 'error', line: 9, field: 'spec.subsets[0].name', message: /subset name cannot be empty/ },
  { name: 'DR duplicate subset names', yaml: DR('  host: pay\n  subsets:\n  - name: v1\n    labels: {v: "1"}\n  - name: v1\n    labels: {v: "2"}'), severity: 'error', line: 11, field: 'spec.subsets[1].name', message: /duplicate subset names: v1/ },
  { name: 'DR insecureSkipVerify with caCertificates', yaml: DR('  host: pay\n  trafficPolicy:\n    tls: {mode: SIMPLE, insecureSkipVerify: true, caCertificates: /etc/ca.pem}'), severity: 'error', line: 9, field: 'spec.trafficPolicy.tls.insecureSkipVerify', message: /cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true/ },
  { name: 'DR insecureSkipVerify with credentialName', yaml: DR('  host: pay\n  trafficPolicy:\n    tls: {mode: SIMPLE, insecureSkipVerify: true, credentialName: pay-ca}'), severity: 'error', line: 9, field: 'spec.trafficPolicy.tls.insecureSkipVerify', message: /when InsecureSkipVerify is set true/ },
  { name: 'DR insecureSkipVerify with subjectAltNames (MUTUAL)', yaml: DR('  host: pay\n  trafficPolicy:\n    tls: {mode: MUTUAL, insecureSkipVerify: true, subjectAltNames: [pay], clientCertificate: /c.pem, privateKey: /k.pem}'), severity: 'error', line: 9, field: 'spec.trafficPolicy.tls.insecureSkipVerify', message: /cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true/ },
  { name: 'VS invalid host', yaml: VS(`  hosts: [pay_svc]\n${ROUTE}`), severity: 'error', line: 7, field: 'spec.hosts[0]', message: /domain name "pay_svc" invalid/ },
  { name: 'VS wildcard in the middle of a host', yaml: VS(`  hosts: ["a.*.example.com"]\n${ROUTE}`), severity: 'error', line: 7, field: 'spec.hosts[0]', message: /domain name "a\.\*\.example\.com" invalid/ },
  { name: 'VS overlapping hosts', yaml: VS(`  hosts: ["*.example.com", "pay.example.com"]\n${ROUTE}`), severity: 'error', line: 7, field: 'spec.hosts[1]', message: /duplicate hosts in virtual service: \*\.example\.com & pay\.example\.com/ },
  { name: 'VS no routes', yaml: VS('  hosts: [pay]'), severity: 'error', line: 7, field: 'spec', message: /http, tcp or tls must be provided in virtual service/ },
  { name: 'VS invalid gateway name', yaml: VS(`  hosts: [pay.example.com]\n  gateways: ["istio-system/my_gateway"]\n${ROUTE}`), severity: 'error', line: 8, field: 'spec.gateways[0]', message: /invalid value for gateway name: "my_gateway"/ },
  { name: 'VS gateway name with an empty namespace', yaml: VS(`  hosts: [pay.example.com]\n  gateways: ["/gw"]\n${ROUTE}`), severity: 'error', line: 8, field: 'spec.gateways[0]', message: /config namespace and gateway name cannot be empty/ },
  { name: 'VS host * bound to the mesh', yaml: VS(`  hosts: ["*"]\n${ROUTE}`), severity: 'error', line: 7, field: 'spec.hosts[0]', message: /wildcard host \* is not allowed for virtual services bound to the mesh gateway/ },
  { name: 'VS tcp match without a route', yaml: VS('  hosts: [pay]\n  tcp:\n  - match:\n    - port: 9000'), severity: 'error', line: 9, field: 'spec.tcp[0]', message: /TCP route is required/ },
  { name: 'VS tls match without a route', yaml: VS('  hosts: [pay.example.com]\n  tls:\n  - match:\n    - sniHosts: [pay.example.com]'), severity: 'error', line: 9, field: 'spec.tls[0]', message: /TLS route is required/ },
  {
    name: 'VS :authority set by a rewrite and by headers',
    yaml: VS('  hosts: [pay]\n  http:\n  - rewrite: {authority: a.example.com}\n    headers:\n      request:\n        set: {":authority": b.example.com}\n    route:\n    - destination: {host: pay}'),
    severity: 'error',
    line: 12,
    field: 'spec.http[0].headers.request.set[":authority"]',
    message: /authority header cannot be set multiple times: have "a\.example\.com", attempting to set "b\.example\.com"/,
  },
  {
    name: 'VS routing on a JWT claim outside a gateway',
    yaml: VS('  hosts: [pay]\n  http:\n  - match:\n    - headers:\n        "@request.auth.claims.group": {exact: admin}\n    route:\n    - destination: {host: pay}'),
    severity: 'error',
    line: 11,
    field: 'spec.http[0].match[0].headers["@request.auth.claims.group"]',
    message: /JWT claim based routing \(key: @request\.auth\.claims\.group\) is only supported for gateway/,
  },
  { name: 'VS malformed SNI wildcard', yaml: VS('  hosts: ["*.example.com"]\n  tls:\n  - match:\n    - sniHosts: ["a.*.example.com"]\n    route:\n    - destination: {host: pay}'), severity: 'error', line: 10, field: 'spec.tls[0].match[0].sniHosts[0]', message: /domain name "a\.\*\.example\.com" invalid/ },
  { name: 'VS SNI host outside the VS hosts', yaml: VS('  hosts: ["*.example.com"]\n  tls:\n  - match:\n    - sniHosts: ["pay.other.com"]\n    route:\n    - destination: {host: pay}'), severity: 'error', line: 10, field: 'spec.tls[0].match[0].sniHosts[0]', message: /SNI host "pay\.other\.com" is not a compatible subset of any of the virtual service hosts/ },
];

describe('issue 16: check-policies rejects what Istio rejects (and warns where it warns)', function () {
  for (const row of rows) {
    it(`${row.name} → ${row.severity} at line ${row.line} ${row.field}`, function () {
      const { issues } = parsePolicies(row.yaml, 'case.yaml');
      const all = issues.map(formatIssue).join('\n');
      const hit = issues.find((i) => i.severity === row.severity && row.message.test(i.message));
      expect(hit, `no ${row.severity} matching ${row.message} in:\n${all}`).to.not.equal(undefined);
      expect(hit?.location.line, all).to.equal(row.line);
      expect(hit?.location.field, all).to.equal(row.field);
      if (row.severity === 'warning') expect(issues.filter((i) => i.severity === 'error'), all).to.deep.equal([]);
    });
  }

  it('a delegate VirtualService (no hosts) is valid', function () {
    const { issues } = parsePolicies(VS(ROUTE), 'case.yaml');
    expect(issues.map(formatIssue)).to.deep.equal([]);
  });

  it('a delegate VirtualService may not name gateways or carry tcp routes', function () {
    const { issues } = parsePolicies(VS(`  gateways: [mesh]\n${ROUTE}  tcp:\n  - route:\n    - destination: {host: pay}`), 'case.yaml');
    expect(issues.map((i) => `${i.severity} ${i.location.field}: ${i.message}`)).to.include.members([
      'error spec.gateways: delegate virtual service must have no gateways specified',
      'error spec.tcp: delegate virtual service must have no tcp route specified',
    ]);
  });
});
