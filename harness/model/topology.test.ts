import { expect } from 'chai';
import { loadTopology, parseTopology } from './topology.ts';

const base = `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod]
workloads:
- name: pay
  namespace: prod
  ports: [{port: 8080, protocol: http}]
`;

describe('topology', function () {
  it('loads the seed topology with defaults filled in', function () {
    const t = loadTopology('fixtures/seed/topology.yaml');
    expect(t.workloads.map((w) => `${w.namespace}/${w.name}:${w.serviceAccount}`)).to.include('prod-namespace/payment-service:payment-service-sa');
    expect(t.workloads.find((w) => w.name === 'payment-service')?.replicas).to.equal(4);
    expect(t.clients.find((c) => c.name === 'legacy-client')).to.deep.equal({ name: 'legacy-client', namespace: 'legacy', sidecar: false });
    const minimal = parseTopology(base).topology;
    expect(minimal?.workloads[0]).to.deep.include({ serviceAccount: 'default', replicas: 1, labels: { app: 'pay' } });
  });

  const rows: { name: string; yaml: string; line: number; field: string; message: RegExp }[] = [
    { name: 'unknown field', yaml: base.replace('  ports:', '  replica: 2\n  ports:'), line: 7, field: 'workloads[0].replica', message: /unknown field 'replica'/ },
    { name: 'bad protocol', yaml: base.replace('protocol: http', 'protocol: grpc'), line: 7, field: 'workloads[0].ports[0].protocol', message: /one of http, tcp/ },
    { name: 'undeclared namespace', yaml: base.replace('  namespace: prod', '  namespace: other'), line: 6, field: 'workloads[0].namespace', message: /not declared/ },
    { name: 'service target port missing', yaml: `${base}services:\n- {name: pay, namespace: prod, selector: {app: pay}, ports: [{port: 80, targetPort: 9090}]}\n`, line: 9, field: 'services[0].ports[0].targetPort', message: /not a port of workload prod\/pay/ },
    { name: 'plaintext client with identity', yaml: `${base}clients:\n- {name: c, namespace: prod, sidecar: false, serviceAccount: x}\n`, line: 9, field: 'clients[0].serviceAccount', message: /no identity/ },
  ];
  for (const row of rows) {
    it(`${row.name} → line ${row.line} ${row.field}`, function () {
      const { topology, issues } = parseTopology(row.yaml, 'topo.yaml');
      const hit = issues.find((i) => row.message.test(i.message));
      expect(hit, issues.map((i) => `${i.location.line} ${i.location.field} ${i.message}`).join('; ')).to.not.equal(undefined);
      expect(hit?.location).to.include({ file: 'topo.yaml', line: row.line, field: row.field });
      void topology;
    });
  }
});
