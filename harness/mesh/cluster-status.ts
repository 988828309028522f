/**
 * A client sidecar's view of its upstream clusters, read from the proxy's `/clusters?format=json`
 * admin page (Envoy's admin.v3.Clusters shape, which the reference sidecar serves too): per
 * cluster every host, whether outlier detection has ejected it (`failed_outlier_check`), and its
 * counters.
 */
import { ErrorCode, MeshproofError } from '../errors.ts';

export interface ClusterHostStatus {
  /** The address it was reached at (the resolved IP once connected). */
  readonly address: string;
  readonly port: number;
  /** The configured name: a pod's DNS name (the pod name) on the run network. */
  readonly hostname: string;
  /** Ejected by outlier detection now. */
  readonly ejected: boolean;
  /** cx_active, rq_active, rq_error, rq_success, rq_timeout, rq_total. */
  readonly stats: Readonly<Record<string, number>>;
}

export interface ClusterStatus {
  /** `outbound|80||payment-service.prod-namespace.svc.cluster.local`. */
  readonly name: string;
  readonly hosts: readonly ClusterHostStatus[];
}

interface AdminClusters {
  readonly cluster_statuses?: readonly {
    readonly name: string;
    readonly host_statuses?: readonly {
      readonly address?: { readonly socket_address?: { readonly address?: string; readonly port_value?: number } };
      readonly hostname?: string;
      readonly stats?: readonly { readonly name: string; readonly value?: string }[];
      readonly health_status?: { readonly failed_outlier_check?: boolean };
    }[];
  }[];
}

export function parseClusters(body: string, where: string): ClusterStatus[] {
  let parsed: AdminClusters;
  try {
    parsed = JSON.parse(body) as AdminClusters;
  } catch (error) {
    throw new MeshproofError(ErrorCode.RuntimeOperation, `/clusters of ${where} is not JSON: ${(error as Error).message}`);
  }
  return (parsed.cluster_statuses ?? []).map((c) => ({
    name: c.name,
    hosts: (c.host_statuses ?? []).map((h) => {
      const stats: Record<string, number> = {};
      for (const s of h.stats ?? []) stats[s.name] = Number(s.value ?? 0);
      const address = h.address?.socket_address?.address ?? '';
      return { address, port: h.address?.socket_address?.port_value ?? 0, hostname: h.hostname ?? address, ejected: h.health_status?.failed_outlier_check === true, stats };
    }),
  }));
}

/** The cluster named, or the one for a service host and port (`payment-service.prod.svc.cluster.local`, 80). */
export function findCluster(clusters: readonly ClusterStatus[], nameOrHost: string, port?: number): ClusterStatus {
  const found = clusters.find((c) => c.name === nameOrHost) ?? clusters.find((c) => c.name.endsWith(`|${nameOrHost}`) && (port === undefined || c.name.startsWith(`outbound|${port}|`)));
  if (found === undefined) throw new MeshproofError(ErrorCode.BadArgument, `no cluster ${nameOrHost}${port === undefined ? '' : ` port ${port}`}`, { hint: `clusters: ${clusters.map((c) => c.name).join(', ')}` });
  return found;
}
