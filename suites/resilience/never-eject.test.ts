import { expect } from 'chai';
import { policiesFromYaml, resolveMesh, topologyFromYaml } from '../../harness/index.ts';
import { neverEjecting } from './never-eject.ts';

const topology = (replicas: number) => `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod]
workloads:
- {name: pay, namespace: prod, serviceAccount: pay, labels: {app: pay}, replicas: ${replicas}, ports: [{port: 8080, protocol: http}]}
services:
- {name: pay, namespace: prod, selector: {app: pay}, ports: [{port: 80, targetPort: 8080}]}
`;
const rule = (od: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: pay-cb, namespace: prod}
spec: {host: pay, trafficPolicy: {outlierDetection: ${od}}}
`;
const found = (replicas: number, od: string) => neverEjecting(resolveMesh(policiesFromYaml(rule(od)), topologyFromYaml(topology(replicas))));

describe('DestinationRules that can never eject', function () {
  it('finds a cap below one host, naming the rule, its file and line, the endpoints and the percentages', function () {
    const [f, ...rest] = found(4, '{consecutive5xxErrors: 3, maxEjectionPercent: 20}');
    expect(rest).to.deep.equal([]);
    expect(f).to.include({ service: 'pay.prod:80', rule: 'prod/pay-cb', endpoints: 4, maxEjectionPercent: 20 });
    expect(f!.at).to.match(/:1$/);
    expect(f!.text).to.match(/can never eject an endpoint of pay\.prod:80: maxEjectionPercent 20 is below one of its 4 endpoints \(25%\)/);
  });

  it("finds Envoy's 10% default when the rule sets no cap and has fewer than 10 endpoints", function () {
    expect(found(4, '{consecutive5xxErrors: 3}')[0]?.text).to.match(/maxEjectionPercent 10 \(Envoy's default, as the rule sets none\) is below one of its 4 endpoints/);
    expect(found(10, '{consecutive5xxErrors: 3}')).to.deep.equal([]);
  });

  it('finds nothing where the cap allows one host (25% of 4, 50% of 4) or there is no outlier detection', function () {
    expect(found(4, '{maxEjectionPercent: 25}')).to.deep.equal([]);
    expect(found(4, '{maxEjectionPercent: 50}')).to.deep.equal([]);
    expect(neverEjecting(resolveMesh(policiesFromYaml(''), topologyFromYaml(topology(4))))).to.deep.equal([]);
  });
});
