/**
 * The policies both sidecar benchmarks enforce: STRICT mTLS for prod-namespace and the seed's
 * AuthorizationPolicy for payment-service (order-service-sa may POST /pay/*), so each measured
 * request passes a TLS handshake check and an RBAC filter, as in the seed mesh.
 */
export const BENCH_POLICIES = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: prod-namespace}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: restrict-payment-access, namespace: prod-namespace}
spec:
  selector: {matchLabels: {app: payment-service}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/prod-namespace/sa/order-service-sa"]}}]
    to: [{operation: {methods: ["POST"], paths: ["/pay/*"]}}]
`;
