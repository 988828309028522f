/**
 * Resilience consequences in plain sentences, with Istio's defaults filled in: pool limits,
 * retries, timeouts, fault injection, outlier detection removed, and a DestinationRule only one
 * caller namespace sees.
 */
import { expect } from 'chai';
import { policiesFromYaml } from '../model/load-policies.ts';
import { resolveMesh, type ResolvedMesh } from '../model/resolve.ts';
import { loadTopology } from '../model/topology.ts';
import { resilienceChanges } from './resilience-changes.ts';

const topology = loadTopology('fixtures/seed/topology.yaml');
const mesh = (yaml: string): ResolvedMesh => resolveMesh(policiesFromYaml(yaml), topology);

const dr = (trafficPolicy: string, namespace = 'prod-namespace'): string =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: pay, namespace: ${namespace}}\nspec:\n  host: payment-service.prod-namespace.svc.cluster.local\n  trafficPolicy:\n${trafficPolicy}`;
const vs = (route: string): string => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: pay, namespace: prod-namespace}\nspec:\n  hosts: [payment-service]\n  http:\n  - name: pay\n${route}\n    route:\n    - destination: {host: payment-service}`;

function sentences(base: string, head: string): { aspect: string; direction: string; text: string; callers?: readonly string[] }[] {
  return resilienceChanges(mesh(base), mesh(head)).map((c) => ({ aspect: c.aspect, direction: c.direction, text: c.text, ...(c.callers === undefined ? {} : { callers: c.callers }) }));
}

describe('meshproof diff: resilience consequences', function () {
  it('connection-pool limits against Istio defaults (no limit, 10 s connect timeout), with what overflow looks like', function () {
    const out = sentences(dr('    connectionPool:\n      tcp: {maxConnections: 100}\n      http: {maxRequestsPerConnection: 10}'), dr('    connectionPool:\n      tcp: {maxConnections: 10, connectTimeout: 1s}\n      http: {http1MaxPendingRequests: 5, maxRequestsPerConnection: 1}'));
    expect(out).to.deep.equal([
      {
        aspect: 'pool',
        direction: 'stricter',
        text: 'payment-service:80: connections to the service at once: 10 instead of 100; requests waiting for a connection: 5 instead of no limit; requests per connection: 1 (keep-alive off) instead of 10; connecting gives up after 1 s instead of 10 s; past a limit the caller gets 503 with x-envoy-overloaded (UO)',
      },
    ]);
  });

  it('retries, per-try timeout and route timeout; a VirtualService removed falls back to Istio’s default route', function () {
    const base = vs('    timeout: 3s\n    retries: {attempts: 3, perTryTimeout: 1s, retryOn: "5xx,gateway-error"}');
    expect(sentences(base, vs('    timeout: 1s\n    retries: {attempts: 1, perTryTimeout: 2s, retryOn: "5xx"}'))).to.deep.equal([
      { aspect: 'retries', direction: 'looser', text: 'payment-service:80 route "pay": a failed request is now retried up to 1 time(s) instead of 3; retried on 5xx instead of 5xx,gateway-error; each try times out after 2 s instead of 1 s' },
      { aspect: 'timeout', direction: 'stricter', text: 'payment-service:80 route "pay": the whole request now times out after 1 s instead of 3 s (then 504 UT)' },
    ]);
    expect(sentences(base, 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x, namespace: prod-namespace}')).to.deep.equal([
      {
        aspect: 'retries',
        direction: 'looser',
        text: 'payment-service:80 route "pay" (removed; now Istio\'s default route): a failed request is now retried up to 2 time(s) instead of 3; retried on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes instead of 5xx,gateway-error; each try times out after the route timeout instead of 1 s',
      },
      { aspect: 'timeout', direction: 'looser', text: 'payment-service:80 route "pay" (removed; now Istio\'s default route): the request no longer times out (it did after 3 s)' },
    ]);
  });

  it('fault injection added, and outlier detection removed', function () {
    expect(sentences(vs('    timeout: 3s'), vs('    timeout: 3s\n    fault: {abort: {httpStatus: 503, percentage: {value: 10}}}'))).to.deep.equal([
      { aspect: 'fault', direction: 'other', text: 'payment-service:80 route "pay": the caller\'s sidecar now aborts 10% of requests with 503 (fault injection; retries and the timeout do not apply to an abort)' },
    ]);
    expect(sentences(dr('    outlierDetection: {consecutive5xxErrors: 3}'), dr('    connectionPool: {tcp: {maxConnections: 100}}'))).to.deep.include({
      aspect: 'outlier',
      direction: 'looser',
      text: 'payment-service:80: outlier detection is removed: a failing endpoint is never ejected and keeps its share of requests (it was ejected after 3 consecutive 5xx)',
    });
  });

  it('a DestinationRule in one caller namespace changes what only its callers see', function () {
    const withLegacyCaller = loadTopology('fixtures/seed/topology.yaml');
    const t = { ...withLegacyCaller, clients: [...withLegacyCaller.clients, { name: 'legacy-meshed', namespace: 'legacy', sidecar: true, serviceAccount: 'legacy-sa' }] };
    const none = resolveMesh(policiesFromYaml('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x, namespace: prod-namespace}'), t);
    const legacyRule = resolveMesh(policiesFromYaml(dr('    outlierDetection: {consecutive5xxErrors: 2, maxEjectionPercent: 100}', 'legacy')), t);
    expect(resilienceChanges(none, legacyRule).map((c) => ({ callers: c.callers, text: c.text }))).to.deep.equal([
      { callers: ['legacy'], text: 'payment-service:80: failing endpoints are now ejected: after 2 consecutive 5xx, for 30 s at first, at most 4 of 4 endpoint(s) out at once (there was no outlier detection)' },
    ]);
  });
});
