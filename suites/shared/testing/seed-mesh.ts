/**
 * The seed's policies on the security topology, built in memory for unit tests of the suites'
 * pure helpers: real oracle decisions to check fabricated evidence against.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../harness/project-root.ts';
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

/** The seed's STRICT PeerAuthentication and its payment-service AuthorizationPolicy, read from fixtures/seed/. */
export const SEED_POLICIES = ['peer-authentication.yaml', 'authorization-policy.yaml'].map((file) => readFileSync(join(projectRoot, 'fixtures/seed', file), 'utf8')).join('---\n');

export function seedMesh(extraPolicies = ''): ResolvedMesh {
  return resolveMesh(policiesFromYaml(`${SEED_POLICIES}${extraPolicies === '' ? '' : `---\n${extraPolicies}`}`), topologyFromYaml(SEED_TOPOLOGY));
}

export const ORDER_ID = 'spiffe://cluster.local/ns/prod-namespace/sa/order-service-sa';

export function seedOracle(extraPolicies = ''): InboundOracle {
  return new InboundOracle(seedMesh(extraPolicies));
}
