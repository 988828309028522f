/**
 * Envoy's `/clusters` admin page for the outbound clusters: every host of every cluster with its
 * counters and health flags (`failed_outlier_check` while ejected). Text by default
 * (`<cluster>::<host>::health_flags::/failed_outlier_check`), JSON with `?format=json`
 * (`cluster_statuses[].host_statuses[]`, as Envoy's admin.v3.Clusters). A host is shown at the
 * address it last connected to (the resolved IP), or as configured before its first connection;
 * `hostname` is the configured name (the pod's DNS name).
 */
import type { Cluster, UpstreamHost } from './cluster.ts';

function address(host: UpstreamHost): { readonly ip: string; readonly port: number } {
  const last = host.pool.lastAddress;
  if (last === undefined) return { ip: host.endpoint.address, port: host.endpoint.port };
  const i = last.lastIndexOf(':');
  return { ip: last.slice(0, i), port: Number(last.slice(i + 1)) };
}

function hostStats(host: UpstreamHost): [string, number][] {
  return [
    ['cx_active', host.pool.connections],
    ['rq_active', host.active],
    ['rq_error', host.rqError],
    ['rq_success', host.rqSuccess],
    ['rq_timeout', host.rqTimeout],
    ['rq_total', host.rqTotal],
  ];
}

export function clustersText(clusters: Iterable<Cluster>): string {
  const lines: string[] = [];
  for (const c of clusters) {
    const cb = c.config.circuitBreakers;
    lines.push(`${c.name}::observability_name::${c.name}`);
    lines.push(`${c.name}::default_priority::max_connections::${cb.maxConnections}`);
    lines.push(`${c.name}::default_priority::max_pending_requests::${cb.maxPendingRequests}`);
    lines.push(`${c.name}::default_priority::max_requests::${cb.maxRequests}`);
    lines.push(`${c.name}::default_priority::max_retries::${cb.maxRetries}`);
    lines.push(`${c.name}::added_via_api::false`);
    for (const h of c.hosts) {
      const a = address(h);
      const at = `${c.name}::${a.ip}:${a.port}`;
      for (const [name, value] of hostStats(h)) lines.push(`${at}::${name}::${value}`);
      lines.push(`${at}::hostname::${h.endpoint.address}`);
      lines.push(`${at}::health_flags::${h.outlier.ejected ? '/failed_outlier_check' : 'healthy'}`);
      lines.push(`${at}::weight::1`);
      lines.push(`${at}::success_rate::-1`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function clustersJson(clusters: Iterable<Cluster>): unknown {
  return {
    cluster_statuses: [...clusters].map((c) => ({
      name: c.name,
      observability_name: c.name,
      added_via_api: false,
      circuit_breakers: {
        thresholds: [
          {
            priority: 'DEFAULT',
            max_connections: c.config.circuitBreakers.maxConnections,
            max_pending_requests: c.config.circuitBreakers.maxPendingRequests,
            max_requests: c.config.circuitBreakers.maxRequests,
            max_retries: c.config.circuitBreakers.maxRetries,
          },
        ],
      },
      host_statuses: c.hosts.map((h) => {
        const a = address(h);
        return {
          address: { socket_address: { address: a.ip, port_value: a.port } },
          hostname: h.endpoint.address,
          stats: hostStats(h).map(([name, value]) => ({ name, value: String(value), ...(name === 'cx_active' || name === 'rq_active' ? { type: 'GAUGE' } : {}) })),
          health_status: { ...(h.outlier.ejected ? { failed_outlier_check: true } : {}), eds_health_status: 'HEALTHY' },
          weight: 1,
        };
      }),
    })),
  };
}
