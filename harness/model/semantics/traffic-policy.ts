/**
 * A DestinationRule traffic policy (top level, per port, per subset), as Istio validates it:
 * validation.go validateTrafficPolicy, validateOutlierDetection, validateConnectionPool,
 * validatePortTrafficPolicies, validateTunnelSettings, validateProxyProtocol
 * (istio-semantics.md §3).
 */
import type { TrafficPolicy } from '../resources.ts';
import type { FieldPath } from '../source-map.ts';
import type { IssueCollector } from './checks.ts';
import { validateClientTls } from './client-tls.ts';
import { fqdnProblem, isIpAddress } from './hostnames.ts';
import { validateLoadBalancer } from './load-balancer.ts';

type PortPolicy = NonNullable<TrafficPolicy['portLevelSettings']>[number];
const given = (v: unknown): boolean => v !== undefined && v !== null;

function validateOutlierDetection(c: IssueCollector, p: FieldPath, od: TrafficPolicy['outlierDetection']): void {
  if (!given(od) || od === undefined) return;
  c.duration([...p, 'baseEjectionTime'], od.baseEjectionTime);
  if (given(od.consecutiveErrors) && od.consecutiveErrors !== 0) {
    c.warning([...p, 'consecutiveErrors'], 'outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead', 'istiod reads it as consecutiveGatewayErrors (502/503/504 only) and stops 5xx ejection');
  }
  if (od.splitExternalLocalOriginErrors !== true && (od.consecutiveLocalOriginFailures ?? 0) > 0) {
    c.error([...p, 'consecutiveLocalOriginFailures'], 'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false (consecutiveLocalOriginFailures requires splitExternalLocalOriginErrors: true)', 'without the split, local-origin failures already count as 5xx');
  }
  c.duration([...p, 'interval'], od.interval);
  c.range([...p, 'maxEjectionPercent'], od.maxEjectionPercent, 0, 100);
  c.range([...p, 'minHealthPercent'], od.minHealthPercent, 0, 100);
  // uint32 in the proto: a negative count never reaches the webhook (the API server cannot decode it).
  c.nonNegative([...p, 'consecutive5xxErrors'], od.consecutive5xxErrors);
  c.nonNegative([...p, 'consecutiveGatewayErrors'], od.consecutiveGatewayErrors);
  c.nonNegative([...p, 'consecutiveLocalOriginFailures'], od.consecutiveLocalOriginFailures);
}

function validateConnectionPool(c: IssueCollector, p: FieldPath, cp: TrafficPolicy['connectionPool']): void {
  if (!given(cp) || cp === undefined) return;
  if (!given(cp.tcp) && !given(cp.http)) return c.error(p, 'connection pool must have at least one field (tcp or http)');
  const http = cp.http;
  if (given(http) && http !== undefined) {
    const h = [...p, 'http'];
    c.nonNegative([...h, 'http1MaxPendingRequests'], http.http1MaxPendingRequests);
    c.nonNegative([...h, 'http2MaxRequests'], http.http2MaxRequests);
    c.nonNegative([...h, 'maxRequestsPerConnection'], http.maxRequestsPerConnection);
    c.nonNegative([...h, 'maxRetries'], http.maxRetries);
    c.duration([...h, 'idleTimeout'], http.idleTimeout);
    if (http.h2UpgradePolicy === 'UPGRADE' && http.useClientProtocol === true) c.error([...h, 'useClientProtocol'], 'use client protocol must not be true when H2UpgradePolicy is UPGRADE');
    c.nonNegative([...h, 'maxConcurrentStreams'], http.maxConcurrentStreams);
  }
  const tcp = cp.tcp;
  if (given(tcp) && tcp !== undefined) {
    const t = [...p, 'tcp'];
    c.nonNegative([...t, 'maxConnections'], tcp.maxConnections);
    c.duration([...t, 'connectTimeout'], tcp.connectTimeout);
    c.duration([...t, 'maxConnectionDuration'], tcp.maxConnectionDuration);
    c.duration([...t, 'idleTimeout'], tcp.idleTimeout, { allowZero: true });
    c.duration([...t, 'tcpKeepalive', 'time'], tcp.tcpKeepalive?.time);
    c.duration([...t, 'tcpKeepalive', 'interval'], tcp.tcpKeepalive?.interval);
  }
}

function validateTunnel(c: IssueCollector, p: FieldPath, tunnel: TrafficPolicy['tunnel']): void {
  if (!given(tunnel) || tunnel === undefined) return;
  if (tunnel.protocol !== undefined && tunnel.protocol !== '' && tunnel.protocol !== 'CONNECT' && tunnel.protocol !== 'POST') c.error([...p, 'protocol'], 'tunnel protocol must be "CONNECT" or "POST"');
  const host = tunnel.targetHost ?? '';
  const fqdn = fqdnProblem(host);
  if (fqdn !== undefined && !isIpAddress(host)) c.error([...p, 'targetHost'], `tunnel target host must be valid FQDN or IP address: ${fqdn}`);
  const port = tunnel.targetPort ?? 0;
  if (!(port >= 1 && port <= 65535)) c.error([...p, 'targetPort'], `tunnel target port is invalid: port number ${port} must be in the range 1..65535`);
}

/** The sections every traffic policy shares; `at` is the policy itself. */
function validateSections(c: IssueCollector, at: FieldPath, namespace: string, policy: Omit<TrafficPolicy, 'portLevelSettings'>): void {
  validateOutlierDetection(c, [...at, 'outlierDetection'], policy.outlierDetection);
  validateConnectionPool(c, [...at, 'connectionPool'], policy.connectionPool);
  validateLoadBalancer(c, [...at, 'loadBalancer'], policy.loadBalancer, given(policy.outlierDetection));
  validateClientTls(c, [...at, 'tls'], namespace, policy.tls);
}

function validatePortPolicy(c: IssueCollector, at: FieldPath, namespace: string, pls: PortPolicy | null): void {
  if (pls === null || typeof pls !== 'object') return c.error(at, 'traffic policy may not be null');
  if (!given(pls.port)) c.error([...at, 'port'], 'portTrafficPolicy must have valid port (port.number is required in portLevelSettings)');
  if (!given(pls.outlierDetection) && !given(pls.connectionPool) && !given(pls.loadBalancer) && !given(pls.tls)) {
    return c.error(at, 'port traffic policy must have at least one field', 'set outlierDetection, connectionPool, loadBalancer or tls');
  }
  validateSections(c, at, namespace, pls);
}

export function validateTrafficPolicy(c: IssueCollector, at: FieldPath, namespace: string, policy: TrafficPolicy | undefined | null): void {
  if (!given(policy) || policy === undefined || policy === null) return;
  const fields = ['outlierDetection', 'connectionPool', 'loadBalancer', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'] as const;
  if (fields.every((f) => !given(policy[f]))) return c.error(at, 'traffic policy must have at least one field');
  if (given(policy.tunnel) && given(policy.proxyProtocol)) return c.error(at, 'tunnel and proxyProtocol must not be set together');
  validateSections(c, at, namespace, policy);
  policy.portLevelSettings?.forEach((pls, i) => validatePortPolicy(c, [...at, 'portLevelSettings', i], namespace, pls));
  validateTunnel(c, [...at, 'tunnel'], policy.tunnel);
}
