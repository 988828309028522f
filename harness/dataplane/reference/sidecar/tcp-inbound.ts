/**
 * The TCP chain: the network RBAC filter, then tcp_proxy to the app. RBAC decides as soon as
 * the connection is set up (Envoy's network filter decides on the first data; a client that
 * connects and sends nothing is refused here at once rather than later). A denied connection is
 * closed with no bytes sent (istio-semantics.md §2 "What a denied request gets").
 */
import { connect, type Socket } from 'node:net';
import type { AccessLog } from './access-log.ts';
import type { Downstream } from './downstream.ts';
import type { SidecarStats } from './stats.ts';

export interface TcpInboundDeps {
  readonly pod: string;
  readonly stats: SidecarStats;
  readonly accessLog: AccessLog;
}

export function proxyTcp(socket: Socket, d: Downstream, deps: TcpInboundDeps): void {
  const time = new Date().toISOString();
  const started = performance.now();
  const facts = { ...(d.peerUri === undefined ? {} : { sourcePrincipal: d.peerUri }), protocol: 'tcp' as const, responseCode: 0, mutualTls: d.mutualTls };
  const log = (flags: string, details: string | undefined, upstreamHost?: string): void =>
    deps.accessLog.write({
      time,
      direction: 'inbound',
      pod: deps.pod,
      downstreamAddress: d.address,
      ...(d.peerUri === undefined ? {} : { downstreamPrincipal: d.peerUri }),
      status: 0,
      responseFlags: flags,
      ...(details === undefined ? {} : { responseCodeDetails: details }),
      ...(upstreamHost === undefined ? {} : { upstreamHost }),
      connectionSecurity: d.mutualTls ? 'mutual_tls' : 'none',
      durationMs: Math.round(performance.now() - started),
    });
  const decision = d.state.rbac.tcp.evaluate({ connection: d.facts });
  deps.stats.rbac('tcp', d.statPrefix, decision.filters);
  if (!decision.allowed) {
    log('-', decision.responseCodeDetails);
    socket.destroy();
    return;
  }
  const upstreamHost = `${d.state.config.inbound.appAddress}:${d.port.appPort}`;
  const upstream = connect({ host: d.state.config.inbound.appAddress, port: d.port.appPort });
  deps.stats.istioTcp({ ...facts, responseFlags: '-' }, 'opened');
  let connected = false;
  let received = 0;
  let sent = 0;
  let closed = false;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  upstream.on('data', (chunk: Buffer) => (sent += chunk.length));
  upstream.once('connect', () => (connected = true));
  const finish = (): void => {
    if (closed) return;
    closed = true;
    const flags = connected ? '-' : 'UF';
    log(flags, connected ? undefined : 'upstream_connection_failure', upstreamHost);
    deps.stats.istioTcp({ ...facts, responseFlags: flags }, 'closed', { sent, received });
    socket.destroy();
    upstream.destroy();
  };
  socket.pipe(upstream);
  upstream.pipe(socket);
  socket.once('close', finish);
  upstream.once('close', finish);
  socket.on('error', finish);
  upstream.on('error', finish);
  socket.resume();
}
