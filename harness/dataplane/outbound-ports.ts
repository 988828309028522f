/** Where the app reaches its proxy's outbound side, read off the translated outbound listeners (both data planes). */
import type { OutboundConfig } from './istiod/outbound-config.ts';
import type { OutboundPorts } from './types.ts';

export function outboundPorts(outbound: OutboundConfig): OutboundPorts {
  const http = new Map<number, number>();
  const tcp = new Map<string, number>();
  for (const l of outbound.listeners) {
    if (l.protocol === 'http') http.set(l.servicePort, l.port);
    else {
      const cluster = outbound.clusters.find((c) => c.name === l.cluster);
      if (cluster !== undefined) tcp.set(`${cluster.service}:${cluster.port}`, l.port);
    }
  }
  return { http, tcp };
}
