import { expect } from 'chai';
import { policiesFromYaml } from './load-policies.ts';
import { findDestination, findWorkload, resolveMesh } from './resolve.ts';
import { topologyFromYaml } from './topology.ts';

const topology = topologyFromYaml(`apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod, istio-system]
workloads:
- {name: pay, namespace: prod, serviceAccount: pay-sa, labels: {app: pay}, replicas: 3, ports: [{port: 8080, protocol: http}, {port: 9000, protocol: tcp}]}
- {name: ctl, namespace: istio-system, labels: {app: ctl}, ports: [{port: 80, protocol: http}]}
services:
- {name: pay, namespace: prod, selector: {app: pay}, ports: [{port: 80, targetPort: 8080}, {port: 9000}]}
`);

function pa(name: string, ns: string, mode: string, extra = '', timestamp?: string): string {
  return `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${timestamp === undefined ? '' : `  creationTimestamp: "${timestamp}"\n`}spec:\n  mtls: {mode: ${mode}}\n${extra}---\n`;
}
const selector = '  selector: {matchLabels: {app: pay}}\n';

/** PeerAuthentication precedence (istio-semantics.md §1): rows of policies → mode of pay:8080 and pay:9000. */
const rows: { name: string; yaml: string; port8080: string; port9000: string }[] = [
  { name: 'no policy → PERMISSIVE', yaml: '', port8080: 'PERMISSIVE', port9000: 'PERMISSIVE' },
  { name: 'mesh STRICT', yaml: pa('m', 'istio-system', 'STRICT'), port8080: 'STRICT', port9000: 'STRICT' },
  { name: 'namespace overrides mesh', yaml: pa('m', 'istio-system', 'STRICT') + pa('n', 'prod', 'PERMISSIVE'), port8080: 'PERMISSIVE', port9000: 'PERMISSIVE' },
  { name: 'workload overrides namespace', yaml: pa('n', 'prod', 'PERMISSIVE') + pa('w', 'prod', 'DISABLE', selector), port8080: 'DISABLE', port9000: 'DISABLE' },
  { name: 'UNSET inherits', yaml: pa('m', 'istio-system', 'STRICT') + pa('n', 'prod', 'UNSET') + pa('w', 'prod', 'UNSET', selector), port8080: 'STRICT', port9000: 'STRICT' },
  { name: 'all UNSET → PERMISSIVE', yaml: pa('m', 'istio-system', 'UNSET'), port8080: 'PERMISSIVE', port9000: 'PERMISSIVE' },
  { name: 'port level overrides the workload, on that port only', yaml: pa('w', 'prod', 'STRICT', `${selector}  portLevelMtls:\n    "9000": {mode: DISABLE}\n`), port8080: 'STRICT', port9000: 'DISABLE' },
  { name: 'port level UNSET inherits the workload', yaml: pa('w', 'prod', 'STRICT', `${selector}  portLevelMtls:\n    "9000": {mode: UNSET}\n`), port8080: 'STRICT', port9000: 'STRICT' },
  { name: 'root-namespace policy with a selector is ignored', yaml: pa('r', 'istio-system', 'STRICT', selector), port8080: 'PERMISSIVE', port9000: 'PERMISSIVE' },
  { name: 'oldest namespace policy wins (by creationTimestamp)', yaml: pa('new', 'prod', 'STRICT', '', '2024-02-01T00:00:00Z') + pa('old', 'prod', 'DISABLE', '', '2024-01-01T00:00:00Z'), port8080: 'DISABLE', port9000: 'DISABLE' },
  { name: 'without timestamps, the first loaded wins', yaml: pa('a', 'prod', 'STRICT') + pa('b', 'prod', 'DISABLE'), port8080: 'STRICT', port9000: 'STRICT' },
  { name: 'a timestamped policy is older than one without', yaml: pa('a', 'prod', 'STRICT') + pa('b', 'prod', 'DISABLE', '', '2024-01-01T00:00:00Z'), port8080: 'DISABLE', port9000: 'DISABLE' },
  // Istio's sortConfigByCreationTime: creation time, then name, then namespace; never file order.
  { name: 'same creation time: the first name wins, whatever the file order', yaml: pa('b-disable', 'prod', 'DISABLE', '', '2024-01-01T00:00:00Z') + pa('a-strict', 'prod', 'STRICT', '', '2024-01-01T00:00:00Z'), port8080: 'STRICT', port9000: 'STRICT' },
  { name: 'same creation time, documents swapped: the same winner', yaml: pa('a-strict', 'prod', 'STRICT', '', '2024-01-01T00:00:00Z') + pa('b-disable', 'prod', 'DISABLE', '', '2024-01-01T00:00:00Z'), port8080: 'STRICT', port9000: 'STRICT' },
  { name: 'without timestamps: by name, not by file order', yaml: pa('b', 'prod', 'DISABLE') + pa('a', 'prod', 'STRICT'), port8080: 'STRICT', port9000: 'STRICT' },
  { name: 'creation times count in whole seconds, as Kubernetes stores them', yaml: pa('b', 'prod', 'DISABLE', '', '2024-01-01T00:00:00.100Z') + pa('a', 'prod', 'STRICT', '', '2024-01-01T00:00:00.900Z'), port8080: 'STRICT', port9000: 'STRICT' },
  { name: 'mesh level ties are broken by name too', yaml: pa('z', 'istio-system', 'DISABLE', '', '2024-01-01T00:00:00Z') + pa('m', 'istio-system', 'STRICT', '', '2024-01-01T00:00:00Z'), port8080: 'STRICT', port9000: 'STRICT' },
  {
    name: 'workload level ties are broken by name: a port flips only with the name',
    yaml: pa('w2', 'prod', 'STRICT', `${selector}  portLevelMtls:\n    "9000": {mode: PERMISSIVE}\n`, '2024-01-01T00:00:00Z') + pa('w1', 'prod', 'STRICT', `${selector}  portLevelMtls:\n    "9000": {mode: STRICT}\n`, '2024-01-01T00:00:00Z'),
    port8080: 'STRICT',
    port9000: 'STRICT',
  },
];

describe('resolution: effective PeerAuthentication per workload and port', function () {
  for (const row of rows) {
    it(`${row.name}: 8080 ${row.port8080}, 9000 ${row.port9000}`, function () {
      const mesh = resolveMesh(policiesFromYaml(row.yaml || 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n'), topology);
      const pay = findWorkload(mesh, 'prod/pay');
      expect(pay.ports.map((p) => `${p.port}:${p.mtlsMode}`)).to.deep.equal([`8080:${row.port8080}`, `9000:${row.port9000}`]);
    });
  }

  it('records the chain of policies that made the mode', function () {
    const mesh = resolveMesh(policiesFromYaml(pa('m', 'istio-system', 'STRICT') + pa('w', 'prod', 'PERMISSIVE', selector)), topology);
    expect(findWorkload(mesh, 'prod/pay').ports[0]?.mtlsSteps.map((s) => `${s.scope}:${s.policy.name}:${s.mode}`)).to.deep.equal(['mesh:m:STRICT', 'workload:w:PERMISSIVE']);
  });
});

describe('resolution: identities, authorization policies and destinations', function () {
  const yaml = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-wide, namespace: istio-system}
spec: {selector: {matchLabels: {app: pay}}, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-app, namespace: prod}
spec: {selector: {matchLabels: {app: other}}, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ns-wide, namespace: prod}
spec: {action: DENY, rules: [{}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: pay, namespace: prod}
spec:
  host: pay
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 3}
    portLevelSettings:
    - port: {number: 9000}
      outlierDetection: {consecutive5xxErrors: 7}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pay, namespace: prod}
spec:
  hosts: [pay]
  http: [{timeout: 2s, route: [{destination: {host: pay}}]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: "trustDomain: example.org"
`;
  const mesh = resolveMesh(policiesFromYaml(yaml), topology);

  it('gives each workload its SPIFFE identity in the mesh trust domain', function () {
    expect(findWorkload(mesh, 'prod/pay')).to.include({ spiffeId: 'spiffe://example.org/ns/prod/sa/pay-sa', principal: 'example.org/ns/prod/sa/pay-sa' });
  });

  it('selects root-namespace policies mesh-wide and namespace policies without selector, not others', function () {
    expect(findWorkload(mesh, 'prod/pay').authorizationPolicies.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal(['istio-system/mesh-wide', 'prod/ns-wide']);
    expect(findWorkload(mesh, 'istio-system/ctl').authorizationPolicies.map((p) => p.name)).to.deep.equal([]);
  });

  it('finds the DestinationRule (short host in its namespace), merges portLevelSettings, and the VirtualService', function () {
    const d = findDestination(mesh, 'prod/pay');
    expect(d.host).to.equal('pay.prod.svc.cluster.local');
    expect(d.endpointCount).to.equal(3);
    expect(d.ports.map((p) => `${p.port}->${p.targetPort}:${p.protocol}:${p.trafficPolicy?.outlierDetection?.consecutive5xxErrors}`)).to.deep.equal(['80->8080:http:3', '9000->9000:tcp:7']);
    expect(d.virtualService?.name).to.equal('pay');
    expect(d.httpRoutes[0]?.timeout).to.equal('2s');
  });
});
