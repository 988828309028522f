/**
 * PeerAuthentication scope and precedence (istio-semantics.md §1 "Scope and precedence"): each
 * case puts a set of policies in force on the running pods and says, as a table, which mode every
 * workload port must then enforce. The mode is read from traffic, not from config:
 *
 *   plaintext in, valid-certificate TLS in      → PERMISSIVE
 *   plaintext reset, valid-certificate TLS in   → STRICT
 *   plaintext in, TLS handshake refused         → DISABLE
 *
 * and the in-mesh client must get through in every mode (auto mTLS). The tables are written from
 * the specification, not computed by the model the data planes render from, so a mistake in that
 * shared resolution fails here too.
 */
import { Feature, type ConformanceCase } from '../../../harness/index.ts';
import { settle } from '../../shared/case-support.ts';
import type { LiveProbeResult } from '../../shared/live-prober.ts';
import { observedMode, type PortMode } from '../../shared/observed-mode.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { LEGACY_CLIENT, MESH_WIDE_STRICT, ORDER_CLIENT, ORDER_SA, PROD_STRICT } from './common.ts';

/** Every workload port of the security topology. */
const PORTS = ['prod-namespace/payment-service:8080', 'prod-namespace/product-service:8082', 'prod-namespace/product-service:8083', 'legacy/inventory-service:9080'] as const;
type PortKey = (typeof PORTS)[number];

interface ScopeCase {
  readonly shortName: string;
  readonly description: string;
  readonly features: readonly Feature[];
  readonly manifests: readonly string[];
  readonly modes: Readonly<Record<PortKey, PortMode>>;
}

const all = (mode: PortMode): Record<PortKey, PortMode> => Object.fromEntries(PORTS.map((p) => [p, mode])) as Record<PortKey, PortMode>;

const SCOPE_CASES: readonly ScopeCase[] = [
  {
    shortName: 'no-policy-means-permissive',
    description: 'With no PeerAuthentication anywhere, every workload port is PERMISSIVE (Istio\'s default): plaintext and mTLS both get in.',
    features: [Feature.MtlsPermissive, Feature.MtlsScope],
    manifests: ['../../fixtures/seed/service-account.yaml'],
    modes: all('PERMISSIVE'),
  },
  {
    shortName: 'mesh-wide-strict',
    description: "Seed note 002: one STRICT policy in the root namespace (istio-system) makes every port of every namespace STRICT, including namespaces with no policy of their own (legacy).",
    features: [Feature.MtlsStrict, Feature.MtlsScope],
    manifests: [MESH_WIDE_STRICT],
    modes: all('STRICT'),
  },
  {
    shortName: 'namespace-overrides-mesh-wide',
    description: 'A namespace-wide PERMISSIVE in legacy overrides the mesh-wide STRICT there; prod-namespace stays STRICT.',
    features: [Feature.MtlsScope],
    manifests: [MESH_WIDE_STRICT, 'cases/legacy-namespace-permissive.yaml'],
    modes: { ...all('STRICT'), 'legacy/inventory-service:9080': 'PERMISSIVE' },
  },
  {
    shortName: 'workload-overrides-namespace',
    description: "A workload policy (selector app: payment-service, DISABLE) overrides prod-namespace's STRICT for payment-service alone; product-service stays STRICT; legacy has no policy and stays PERMISSIVE.",
    features: [Feature.MtlsScope, Feature.MtlsDisable],
    manifests: [PROD_STRICT, 'cases/payment-workload-disable.yaml'],
    modes: { 'prod-namespace/payment-service:8080': 'DISABLE', 'prod-namespace/product-service:8082': 'STRICT', 'prod-namespace/product-service:8083': 'STRICT', 'legacy/inventory-service:9080': 'PERMISSIVE' },
  },
  {
    shortName: 'port-level-overrides-workload',
    description: 'portLevelMtls overrides its own workload policy for that port only: product-service is DISABLE except port 8083, which is STRICT.',
    features: [Feature.MtlsPortLevel, Feature.MtlsScope],
    manifests: [PROD_STRICT, 'cases/product-port-level.yaml'],
    modes: { 'prod-namespace/payment-service:8080': 'STRICT', 'prod-namespace/product-service:8082': 'DISABLE', 'prod-namespace/product-service:8083': 'STRICT', 'legacy/inventory-service:9080': 'PERMISSIVE' },
  },
  {
    shortName: 'root-namespace-selector-ignored',
    description: 'A PeerAuthentication with a workload selector in the root namespace is ignored (DISABLE for payment-service there has no effect): the mesh-wide STRICT still holds everywhere.',
    features: [Feature.MtlsScope],
    manifests: [MESH_WIDE_STRICT, 'cases/root-namespace-selector.yaml'],
    modes: all('STRICT'),
  },
  {
    shortName: 'oldest-namespace-policy-wins',
    description: "Two namespace-wide policies in prod-namespace: the older one (STRICT, created 2023) wins and the newer one (PERMISSIVE, 2024) is ignored.",
    features: [Feature.MtlsScope],
    manifests: ['cases/two-namespace-policies.yaml'],
    modes: { 'prod-namespace/payment-service:8080': 'STRICT', 'prod-namespace/product-service:8082': 'STRICT', 'prod-namespace/product-service:8083': 'STRICT', 'legacy/inventory-service:9080': 'PERMISSIVE' },
  },
];

function scopeCase(c: ScopeCase): ConformanceCase<SecurityEnv> {
  return {
    shortName: c.shortName,
    description: c.description,
    area: 'mtls',
    features: c.features,
    manifests: c.manifests,
    async test(ctx) {
      const env = ctx.env;
      await env.use(c.manifests);
      const results: LiveProbeResult[] = [];
      const wrong: string[] = [];
      for (const key of PORTS) {
        const [to, port] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
        const request = { to, port, method: 'GET', path: '/scope' };
        const plaintext = await env.prober.run({ ...request, source: { kind: 'participant', name: LEGACY_CLIENT } });
        const tls = await env.prober.run({ ...request, source: { kind: 'identity', identity: env.ca.spiffeUriOf(ORDER_SA) }, forceTls: true });
        const inMesh = await env.prober.run({ ...request, source: { kind: 'participant', name: ORDER_CLIENT } });
        results.push(plaintext, tls, inMesh);
        const seen = observedMode(plaintext.observed, tls.observed);
        if (seen !== c.modes[key]) wrong.push(`${key} behaves as ${seen}, the table says ${c.modes[key]}`);
        if (inMesh.observed !== 'allow') wrong.push(`the in-mesh client was refused by ${key} (${inMesh.observed})`);
      }
      ctx.verify(`every port enforces the mode the table gives (${Object.entries(c.modes).map(([k, v]) => `${k} ${v}`).join(', ')})`, wrong.length === 0 ? undefined : new Error(wrong.join('; ')));
      settle(ctx, results, c.shortName);
    },
  };
}

export const scopeCases: readonly ConformanceCase<SecurityEnv>[] = SCOPE_CASES.map(scopeCase);
