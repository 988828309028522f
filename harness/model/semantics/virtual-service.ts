/**
 * VirtualService rules beyond the schema, for the parts meshproof reads: timeouts, retries and
 * fault injection (istio-semantics.md §4; Istio's validateHTTPRetry and validateHTTPFaultInjection).
 */
import type { Issue } from '../issues.ts';
import type { VirtualService } from '../resources.ts';
import type { DocumentSource } from '../source-map.ts';
import { IssueCollector } from './checks.ts';

/** Envoy x-envoy-retry-on and x-envoy-retry-grpc-on tokens that Istio accepts in retryOn. */
export const RETRY_ON_TOKENS: ReadonlySet<string> = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx',
  'refused-stream', 'retriable-status-codes', 'retriable-headers', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

export function validateVirtualService(vs: VirtualService, source: DocumentSource): Issue[] {
  const c = new IssueCollector(source);
  const spec = vs.spec;
  if (spec.hosts === undefined || spec.hosts.length === 0) c.error(['spec', 'hosts'], 'VirtualService must have at least one host');
  spec.hosts?.forEach((h, i) => {
    if (h === '') c.error(['spec', 'hosts', i], 'host must not be empty');
  });
  if (spec.gateways !== undefined && spec.gateways.length > 0 && !spec.gateways.includes('mesh')) {
    c.warning(['spec', 'gateways'], "this VirtualService binds to gateways only (no 'mesh'), so sidecars ignore it");
  }
  spec.http?.forEach((route, i) => {
    const at = ['spec', 'http', i];
    c.duration([...at, 'timeout'], route.timeout, 0);
    const r = route.retries;
    if (r !== undefined) {
      c.nonNegative([...at, 'retries', 'attempts'], r.attempts);
      c.duration([...at, 'retries', 'perTryTimeout'], r.perTryTimeout);
      c.duration([...at, 'retries', 'backoff'], r.backoff);
      if (r.retryOn !== undefined) {
        r.retryOn.split(',').map((t) => t.trim()).forEach((token) => {
          if (token === '') return;
          if (/^\d+$/.test(token)) {
            if (Number(token) < 100 || Number(token) > 599) c.error([...at, 'retries', 'retryOn'], `${token} is not an HTTP status code`);
          } else if (!RETRY_ON_TOKENS.has(token)) {
            c.error([...at, 'retries', 'retryOn'], `'${token}' is not a valid retryOn policy`, `use one of ${[...RETRY_ON_TOKENS].join(', ')} or a status code`);
          }
        });
      }
    }
    const f = route.fault;
    if (f !== undefined) {
      const p = [...at, 'fault'];
      if (f.delay === undefined && f.abort === undefined) c.error(p, 'fault must have a delay or an abort');
      if (f.abort !== undefined) {
        const a = f.abort;
        const kinds = [a.httpStatus, a.grpcStatus, a.http2Error].filter((x) => x !== undefined).length;
        if (kinds !== 1) c.error([...p, 'abort'], 'abort needs exactly one of httpStatus, grpcStatus or http2Error');
        if (a.httpStatus !== undefined && (a.httpStatus < 200 || a.httpStatus > 599)) c.error([...p, 'abort', 'httpStatus'], `httpStatus must be in range 200..599, found ${a.httpStatus}`);
        c.range([...p, 'abort', 'percentage', 'value'], a.percentage?.value, 0, 100);
      }
      if (f.delay !== undefined) {
        const d = f.delay;
        if (d.exponentialDelay !== undefined) c.warning([...p, 'delay', 'exponentialDelay'], 'exponentialDelay is not supported by Istio: the delay is dropped');
        else if (d.fixedDelay === undefined) c.error([...p, 'delay'], 'delay needs fixedDelay');
        c.duration([...p, 'delay', 'fixedDelay'], d.fixedDelay);
        c.range([...p, 'delay', 'percentage', 'value'], d.percentage?.value, 0, 100);
        c.range([...p, 'delay', 'percent'], d.percent, 0, 100);
      }
    }
  });
  return c.issues;
}
