/** Names the mTLS cases share. Manifest paths are relative to suites/mtls. */
import type { CaseContext, ResolvedMesh } from '../../../harness/index.ts';

/** The seed's STRICT for prod-namespace, plus product-service's PERMISSIVE workload and DISABLE port 8083: all three modes at once. */
export const BASE_MANIFESTS: readonly string[] = ['../../fixtures/seed/peer-authentication.yaml', 'cases/product-service-modes.yaml'];

/** Seed note 002's mesh-wide STRICT (istio-system). */
export const MESH_WIDE_STRICT = '../../fixtures/seed/mesh-wide/peer-authentication.yaml';
/** Seed note 000's namespace-wide STRICT for prod-namespace. */
export const PROD_STRICT = '../../fixtures/seed/peer-authentication.yaml';

/** The identity the seed's AuthorizationPolicy names; the attacker kit aims at it. */
export const ORDER_SA = { namespace: 'prod-namespace', serviceAccount: 'order-service-sa' } as const;

export const PAYMENT = 'prod-namespace/payment-service';
export const ORDER_CLIENT = 'prod-namespace/order-client';
export const LEGACY_CLIENT = 'legacy/legacy-client';

/**
 * The ports a mode table names (`namespace/workload:port`), split, each checked to be in `mode`
 * under BASE_MANIFESTS: a table whose ports the policies put in another mode fails, saying so.
 */
export function portsInMode(ctx: CaseContext<unknown>, mesh: ResolvedMesh, keys: readonly string[], mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'): { key: string; to: string; port: number }[] {
  return keys.map((key) => {
    const [to, port] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
    const resolved = mesh.workloads.find((w) => w.key === to)?.ports.find((p) => p.port === port);
    if (resolved?.mtlsMode !== mode) ctx.verify(`${key} is ${mode} under ${BASE_MANIFESTS.join(', ')}`, new Error(`the policies resolve it to ${resolved?.mtlsMode ?? 'no such port'}`));
    return { key, to, port };
  });
}
