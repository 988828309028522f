/**
 * The seed's policies on the security topology, built in memory for unit tests of the suites'
 * pure helpers: real oracle decisions to check fabricated evidence against.
 */
import { InboundOracle, policiesFromYaml, resolveMesh, topologyFromYaml, type ResolvedMesh } from '../../../harness/index.ts';

export const SEED_TOPOLOGY = `apiVersion: meshproof.dev/v1alpha1
kind: Topology
namespaces: [prod-namespace, legacy]
workloads:
- {name: payment-service, namespace: prod-namespace, serviceAccount: payment-service-sa, labels: {app: payment-service}, ports: [{port: 8080, protocol: http}]}
- {name: inventory-service, namespace: legacy, serviceAccount: inventory-sa, labels: {app: inventory-service}, ports: [{port: 9080, protocol: http}]}
services:
- {name: payment-service, namespace: prod-namespace, selector: {app: payment-service}, ports: [{port: 80, targetPort: 8080}]}
clients:
- {name: order-client, namespace: prod-namespace, serviceAccount: order-service-sa}
- {name: legacy-client, namespace: legacy, sidecar: false}
`;

export const SEED_POLICIES = `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: default, namespace: prod-namespace}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: restrict-payment-access, namespace: prod-namespace}
spec:
  selector: {matchLabels: {app: payment-service}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/prod-namespace/sa/order-service-sa"]}}]
    to: [{operation: {methods: ["POST"], paths: ["/pay/*"]}}]
`;

export function seedMesh(extraPolicies = ''): ResolvedMesh {
  return resolveMesh(policiesFromYaml(`${SEED_POLICIES}${extraPolicies === '' ? '' : `---\n${extraPolicies}`}`), topologyFromYaml(SEED_TOPOLOGY));
}

export const ORDER_ID = 'spiffe://cluster.local/ns/prod-namespace/sa/order-service-sa';

export function seedOracle(extraPolicies = ''): InboundOracle {
  return new InboundOracle(seedMesh(extraPolicies));
}
