/**
 * DestinationRule rules beyond the schema: validateOutlierDetection and validateConnectionPool
 * from Istio's validation.go (istio-semantics.md §3).
 */
import type { Issue } from '../issues.ts';
import type { DestinationRule, TrafficPolicy } from '../resources.ts';
import type { DocumentSource, FieldPath } from '../source-map.ts';
import { IssueCollector } from './checks.ts';

function validateTrafficPolicy(c: IssueCollector, at: FieldPath, policy: TrafficPolicy | undefined): void {
  if (policy === undefined) return;
  const od = policy.outlierDetection;
  if (od !== undefined) {
    const p = [...at, 'outlierDetection'];
    c.nonNegative([...p, 'consecutiveErrors'], od.consecutiveErrors);
    c.nonNegative([...p, 'consecutive5xxErrors'], od.consecutive5xxErrors);
    c.nonNegative([...p, 'consecutiveGatewayErrors'], od.consecutiveGatewayErrors);
    c.nonNegative([...p, 'consecutiveLocalOriginFailures'], od.consecutiveLocalOriginFailures);
    c.duration([...p, 'interval'], od.interval);
    c.duration([...p, 'baseEjectionTime'], od.baseEjectionTime);
    c.range([...p, 'maxEjectionPercent'], od.maxEjectionPercent, 0, 100);
    c.range([...p, 'minHealthPercent'], od.minHealthPercent, 0, 100);
    if (od.consecutiveLocalOriginFailures !== undefined && od.splitExternalLocalOriginErrors !== true) {
      c.error([...p, 'consecutiveLocalOriginFailures'], 'consecutiveLocalOriginFailures requires splitExternalLocalOriginErrors: true', 'without the split, local-origin failures already count as 5xx');
    }
    if (od.consecutiveErrors !== undefined) c.warning([...p, 'consecutiveErrors'], 'consecutiveErrors is deprecated; istiod reads it as consecutiveGatewayErrors (502/503/504 only) and stops 5xx ejection', 'use consecutive5xxErrors or consecutiveGatewayErrors');
  }
  const cp = policy.connectionPool;
  if (cp !== undefined) {
    const p = [...at, 'connectionPool'];
    if (cp.tcp === undefined && cp.http === undefined) c.error(p, 'connectionPool must have at least one of tcp or http');
    c.nonNegative([...p, 'tcp', 'maxConnections'], cp.tcp?.maxConnections);
    c.duration([...p, 'tcp', 'connectTimeout'], cp.tcp?.connectTimeout);
    c.duration([...p, 'tcp', 'idleTimeout'], cp.tcp?.idleTimeout, 0);
    c.duration([...p, 'tcp', 'maxConnectionDuration'], cp.tcp?.maxConnectionDuration);
    c.nonNegative([...p, 'http', 'http1MaxPendingRequests'], cp.http?.http1MaxPendingRequests);
    c.nonNegative([...p, 'http', 'http2MaxRequests'], cp.http?.http2MaxRequests);
    c.nonNegative([...p, 'http', 'maxRequestsPerConnection'], cp.http?.maxRequestsPerConnection);
    c.nonNegative([...p, 'http', 'maxRetries'], cp.http?.maxRetries);
    c.duration([...p, 'http', 'idleTimeout'], cp.http?.idleTimeout, 0);
  }
}

export function validateDestinationRule(rule: DestinationRule, source: DocumentSource): Issue[] {
  const c = new IssueCollector(source);
  if (rule.spec.host === '') c.error(['spec', 'host'], 'host must not be empty');
  validateTrafficPolicy(c, ['spec', 'trafficPolicy'], rule.spec.trafficPolicy);
  rule.spec.trafficPolicy?.portLevelSettings?.forEach((pls, i) => {
    if (pls.port?.number === undefined) c.error(['spec', 'trafficPolicy', 'portLevelSettings', i, 'port'], 'port.number is required in portLevelSettings');
    validateTrafficPolicy(c, ['spec', 'trafficPolicy', 'portLevelSettings', i], pls);
  });
  rule.spec.subsets?.forEach((subset, i) => validateTrafficPolicy(c, ['spec', 'subsets', i, 'trafficPolicy'], subset.trafficPolicy));
  return c.issues;
}
