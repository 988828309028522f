import { expect } from 'chai';
import { isMeshproofError } from '../errors.ts';
import { formatIssue } from './issues.ts';
import { loadPolicies, parsePolicies, policiesFromYaml } from './load-policies.ts';

const AP = (spec: string, ns = 'prod'): string => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: p
  namespace: ${ns}
spec:
${spec}`;

/** Each row: YAML, the line and field the error must name, and words of the message. */
const invalid: { name: string; yaml: string; line: number; field: string; message: RegExp }[] = [
  { name: 'DENY without rules', yaml: AP('  action: DENY'), line: 7, field: 'spec.rules', message: /DENY action without `rules`/ },
  { name: 'CUSTOM without provider', yaml: AP('  action: CUSTOM\n  rules: [{}]'), line: 7, field: 'spec.provider', message: /`provider.name` must not be empty/ },
  { name: 'unknown field (typo)', yaml: AP('  rules:\n  - to:\n    - operation:\n        method: ["GET"]'), line: 10, field: 'spec.rules[0].to[0].operation.method', message: /unknown field 'method'/ },
  { name: 'action not in the enum', yaml: AP('  action: ALOW'), line: 7, field: 'spec.action', message: /must be one of "ALLOW"/ },
  { name: 'methods not a list', yaml: AP('  rules:\n  - to:\n    - operation:\n        methods: GET'), line: 10, field: 'spec.rules[0].to[0].operation.methods', message: /type array/ },
  { name: 'empty from', yaml: AP('  rules:\n  - from: []'), line: 8, field: 'spec.rules[0].from', message: /`from` must not be empty/ },
  { name: 'empty source', yaml: AP('  rules:\n  - from:\n    - source: {}'), line: 9, field: 'spec.rules[0].from[0].source', message: /must not be empty/ },
  { name: 'unsupported condition key', yaml: AP('  rules:\n  - when:\n    - key: destination.namespace\n      values: [a]'), line: 9, field: 'spec.rules[0].when[0].key', message: /destination.namespace is replaced by the metadata.namespace/ },
  { name: 'unknown condition key', yaml: AP('  rules:\n  - when:\n    - key: request.header[x]\n      values: [a]'), line: 9, field: 'spec.rules[0].when[0].key', message: /unknown attribute/ },
  { name: 'condition without values', yaml: AP('  rules:\n  - when:\n    - key: source.ip'), line: 9, field: 'spec.rules[0].when[0]', message: /at least one of `values` or `notValues` must be set/ },
  { name: 'bad ipBlock', yaml: AP('  rules:\n  - from:\n    - source:\n        ipBlocks: ["10.0.0.0/33"]'), line: 10, field: 'spec.rules[0].from[0].source.ipBlocks[0]', message: /not an IP address or CIDR/ },
  { name: 'port with wildcard', yaml: AP('  rules:\n  - to:\n    - operation:\n        ports: ["80*"]'), line: 10, field: 'spec.rules[0].to[0].operation.ports[0]', message: /not a port number/ },
  { name: 'path template with a * outside an operator', yaml: AP('  rules:\n  - to:\n    - operation:\n        paths: ["/a/{*}/b*"]'), line: 10, field: 'spec.rules[0].to[0].operation.paths[0]', message: /contains segment b\* with invalid string literal/ },
  { name: '{**} not last', yaml: AP('  rules:\n  - to:\n    - operation:\n        paths: ["/{**}/x/{*}"]'), line: 10, field: 'spec.rules[0].to[0].operation.paths[0]', message: /last operator/ },
  { name: 'serviceAccounts with principals', yaml: AP('  rules:\n  - from:\n    - source:\n        serviceAccounts: ["a"]\n        principals: ["x"]'), line: 10, field: 'spec.rules[0].from[0].source.serviceAccounts', message: /cannot set serviceAccounts with namespaces or principals/ },
  {
    name: 'portLevelMtls without selector',
    yaml: 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: prod}\nspec:\n  portLevelMtls:\n    "8080": {mode: DISABLE}',
    line: 6,
    field: 'spec.portLevelMtls',
    message: /portLevelMtls requires selector/,
  },
  {
    name: 'consecutiveLocalOriginFailures without split',
    yaml: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: prod}\nspec:\n  host: x\n  trafficPolicy:\n    outlierDetection:\n      consecutiveLocalOriginFailures: 3',
    line: 8,
    field: 'spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures',
    message: /requires splitExternalLocalOriginErrors/,
  },
  {
    name: 'bad duration',
    yaml: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: prod}\nspec:\n  host: x\n  trafficPolicy:\n    outlierDetection:\n      interval: 10 seconds',
    line: 8,
    field: 'spec.trafficPolicy.outlierDetection.interval',
    message: /not a duration/,
  },
  {
    name: 'maxEjectionPercent above 100',
    yaml: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: prod}\nspec:\n  host: x\n  trafficPolicy:\n    outlierDetection:\n      maxEjectionPercent: 150',
    line: 8,
    field: 'spec.trafficPolicy.outlierDetection.maxEjectionPercent',
    message: /between 0 and 100/,
  },
  {
    name: 'DestinationRule without host',
    yaml: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: prod}\nspec:\n  trafficPolicy: {}',
    line: 5,
    field: 'spec.host',
    message: /required field 'host'/,
  },
  {
    name: 'retryOn token',
    yaml: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: prod}\nspec:\n  hosts: [x]\n  http:\n  - retries:\n      attempts: 2\n      retryOn: 5xx,gateway-eror\n    route: [{destination: {host: x}}]',
    line: 9,
    field: 'spec.http[0].retries.retryOn',
    message: /"gateway-eror" is not a valid retryOn/,
  },
  {
    name: 'fault abort status',
    yaml: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: prod}\nspec:\n  hosts: [x]\n  http:\n  - fault:\n      abort:\n        httpStatus: 700\n        percentage: {value: 100}\n    route: [{destination: {host: x}}]',
    line: 9,
    field: 'spec.http[0].fault.abort.httpStatus',
    message: /HTTP status 700 is not in range 200-599/,
  },
  { name: 'YAML syntax', yaml: 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: [a\n', line: 5, field: '', message: /not valid YAML/ },
  { name: 'mesh ConfigMap', yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    trustDomain: td\n    pathNormalization:\n      normalization: MERGE', line: 8, field: 'data.mesh.pathNormalization.normalization', message: /must be one of NONE/ },
];

describe('policy loading: invalid input is reported with file, line and field', function () {
  for (const row of invalid) {
    it(`${row.name} → line ${row.line}${row.field === '' ? '' : ` ${row.field}`}`, function () {
      const { issues, set } = parsePolicies(row.yaml, 'case.yaml');
      const errors = issues.filter((i) => i.severity === 'error');
      expect(errors, issues.map(formatIssue).join('\n')).to.have.length.greaterThan(0);
      const hit = errors.find((e) => row.message.test(e.message));
      expect(hit, `no error matching ${row.message}: ${errors.map(formatIssue).join('; ')}`).to.not.equal(undefined);
      expect(hit?.location.file).to.equal('case.yaml');
      expect(hit?.location.line).to.equal(row.line);
      if (row.field !== '') expect(hit?.location.field).to.equal(row.field);
      expect(set.authorizationPolicies.length + set.destinationRules.length + set.peerAuthentications.length + set.virtualServices.length).to.equal(0);
    });
  }

  it('loadPolicies throws MeshproofError PolicyInvalid naming the first error and counting the rest', function () {
    try {
      policiesFromYaml(`${AP('  action: DENY')}\n---\n${AP('  action: ALOW').replace('name: p', 'name: q')}`, 'two.yaml');
      expect.fail('should throw');
    } catch (error) {
      expect(isMeshproofError(error, 'MESHPROOF_ERR_POLICY_INVALID')).to.equal(true);
      const e = error as Error & { location?: { line?: number } };
      expect(e.message).to.match(/DENY action without/).and.match(/and 1 more problem/);
      expect(e.location?.line).to.equal(7);
    }
  });
});

describe('policy loading: valid input', function () {
  it('loads the seed fixtures, typed, with mesh defaults', function () {
    const set = loadPolicies(['fixtures/seed']);
    expect(set.authorizationPolicies.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal(['prod-namespace/restrict-payment-access']);
    expect(set.authorizationPolicies[0]?.spec.rules?.[0]?.to?.[0]?.operation?.paths).to.deep.equal(['/pay/*']);
    expect(set.peerAuthentications.map((p) => p.spec.mtls?.mode)).to.deep.equal(['STRICT', 'STRICT']);
    expect(set.destinationRules[0]?.spec.trafficPolicy?.outlierDetection?.baseEjectionTime).to.equal('30s');
    expect(set.virtualServices[0]?.spec.http?.[0]?.retries?.attempts).to.equal(3);
    expect(set.serviceAccounts.map((s) => s.name)).to.deep.equal(['order-service-sa']);
    expect(set.mesh).to.include({ rootNamespace: 'istio-system', trustDomain: 'cluster.local', pathNormalization: 'BASE' });
  });

  it('reads mesh settings from the istio ConfigMap (data.mesh), rootNamespace defaulting to its namespace', function () {
    const set = policiesFromYaml('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: my-istio}\ndata:\n  mesh: |\n    trustDomain: example.org\n    trustDomainAliases: [old.org]\n    pathNormalization: {normalization: DEFAULT}\n');
    expect(set.mesh).to.include({ rootNamespace: 'my-istio', trustDomain: 'example.org', pathNormalization: 'BASE' });
    expect(set.mesh.trustDomainAliases).to.deep.equal(['old.org']);
  });

  it('warns about ignored things instead of failing: root-namespace PA selector, unmodelled kinds, CUSTOM', function () {
    const { issues } = parsePolicies(
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: istio-system}\nspec:\n  selector: {matchLabels: {app: a}}\n  mtls: {mode: STRICT}\n---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: r}\n---\n' +
        AP('  action: CUSTOM\n  provider: {name: ext}\n  rules: [{}]'),
    );
    expect(issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
    const warnings = issues.map((i) => i.message).join('\n');
    expect(warnings).to.match(/root namespace \(istio-system\) is ignored/).and.match(/Telemetry ignored/).and.match(/CUSTOM .* not supported/);
  });

  it('a misspelt Istio kind is an error with what was meant, not a warning: the intended policy would silently not apply', function () {
    const { issues, set } = parsePolicies('apiVersion: security.istio.io/v1\nkind: AuthorisationPolicy\nmetadata: {name: deny-all, namespace: prod}\nspec: {action: DENY, rules: [{}]}', 'case.yaml');
    expect(issues.map((i) => `${i.severity} ${i.location.line} ${i.location.field}: ${i.message} (${i.hint})`)).to.deep.equal([
      "error 2 kind: AuthorisationPolicy is not a kind of security.istio.io: Kubernetes would refuse this resource, so it would not apply (did you mean 'AuthorizationPolicy'?)",
    ]);
    expect(set.authorizationPolicies).to.deep.equal([]);
  });

  it('an Istio kind in the wrong Istio group, or an unknown Istio group, is an error too; other groups stay warnings', function () {
    const doc = (apiVersion: string, kind: string): string => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x, namespace: prod}\nspec: {}\n`;
    const one = (apiVersion: string, kind: string): string => {
      const i = parsePolicies(doc(apiVersion, kind), 'case.yaml').issues[0];
      return `${i?.severity} ${i?.location.field}: ${i?.message} (${i?.hint ?? ''})`;
    };
    expect(one('networking.istio.io/v1', 'Telemetry')).to.equal('error kind: Telemetry is not a kind of networking.istio.io: Kubernetes would refuse this resource, so it would not apply (Telemetry is served by telemetry.istio.io: use apiVersion telemetry.istio.io/v1)');
    expect(one('securty.istio.io/v1', 'Telemetry')).to.match(/^error apiVersion: securty\.istio\.io is not an Istio API group.*served by telemetry\.istio\.io/);
    expect(one('networking.istio.io/v1', 'RequestAuthentication')).to.equal('error apiVersion: RequestAuthentication is not served at apiVersion networking.istio.io/v1 (use one of security.istio.io/v1, security.istio.io/v1beta1)');
    expect(one('networking.istio.io/v1', 'Sidecar')).to.equal('warning kind: Sidecar ignored: meshproof does not model this Istio kind ()');
    expect(one('gateway.networking.k8s.io/v1', 'HTTPRoute')).to.equal('warning kind: HTTPRoute ignored: not an Istio policy kind meshproof reads ()');
  });

  it('accepts what Istio accepts with a mid-value *, matched literally, and says so', function () {
    const { issues } = parsePolicies(AP('  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/*/sa/x"]\n    to:\n    - operation:\n        paths: ["/a/*/b"]'), 'case.yaml');
    expect(issues.map((i) => `${i.severity} ${i.location.line} ${i.location.field}`)).to.deep.equal(['warning 10 spec.rules[0].from[0].source.principals[0]', 'warning 13 spec.rules[0].to[0].operation.paths[0]']);
    expect(issues[0]?.message).to.match(/matches this '\*' literally/);
  });

  it('accepts the 1.30 source.trustDomains field the 1.29 CRD package lacks, but not a typo of it', function () {
    expect(parsePolicies(AP('  rules:\n  - from:\n    - source:\n        trustDomains: ["td"]')).issues).to.deep.equal([]);
    // Kubernetes would prune the unknown field, leaving an empty source: both are reported.
    expect(parsePolicies(AP('  rules:\n  - from:\n    - source:\n        trustDomain: ["td"]')).issues.map((i) => i.message)).to.deep.equal(["unknown field 'trustDomain' in AuthorizationPolicy", '`from.source` must not be empty']);
  });
});
