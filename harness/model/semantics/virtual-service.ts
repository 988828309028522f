/**
 * VirtualService rules beyond the schema: Istio's ValidateVirtualService (validation.go and
 * virtualservice.go, Istio 1.30.3). The top level is here: delegates, gateways, hosts, JWT-claim
 * routing, the need for a route, exportTo and unreachable rules; each route is checked in
 * http-route.ts and l4-routes.ts.
 */
import type { Issue } from '../issues.ts';
import type { VirtualService } from '../resources.ts';
import type { DocumentSource } from '../source-map.ts';
import { IssueCollector } from './checks.ts';
import { validateExportTo } from './export-to.ts';
import { gatewayDomainProblem, hostsOverlap, isIpAddress, wildcardDomainProblem } from './hostnames.ts';
import { validateHttpRoute } from './http-route.ts';
import { appliesToGatewayOnly, validateTcpRoute, validateTlsRoute } from './l4-routes.ts';
import { validateMetadata } from './metadata.ts';
import { isJwtClaimRoute, validateGatewayNames } from './route-parts.ts';
import { warnUnreachableRoutes } from './unreachable-routes.ts';

export { RETRY_ON_TOKENS } from './http-route.ts';

export function validateVirtualService(vs: VirtualService, source: DocumentSource): Issue[] {
  const c = new IssueCollector(source);
  const spec = vs.spec;
  const hosts = spec.hosts ?? [];
  const delegate = hosts.length === 0;
  validateMetadata(c, vs);
  if (delegate) {
    // A VirtualService without hosts is a delegate, reached only through another's `delegate`.
    if ((spec.gateways?.length ?? 0) > 0) c.error(['spec', 'gateways'], 'delegate virtual service must have no gateways specified');
    if ((spec.tls?.length ?? 0) > 0) c.error(['spec', 'tls'], 'delegate virtual service must have no tls route specified');
    if ((spec.tcp?.length ?? 0) > 0) c.error(['spec', 'tcp'], 'delegate virtual service must have no tcp route specified');
  }
  const gatewayOnly = appliesToGatewayOnly(spec);
  if ((spec.gateways?.length ?? 0) > 0) validateGatewayNames(c, ['spec', 'gateways'], spec.gateways);
  if (!gatewayOnly) {
    spec.http?.forEach((route, i) => {
      route?.match?.forEach((match, j) => {
        for (const field of ['headers', 'withoutHeaders'] as const) {
          for (const key of Object.keys(match?.[field] ?? {})) {
            if (isJwtClaimRoute(key)) {
              c.error(['spec', 'http', i, 'match', j, field, key], `JWT claim based routing (key: ${key}) is only supported for gateway, found no gateways: [${(spec.gateways ?? []).join(' ')}]`, 'sidecars do not route on JWT claims; bind the VirtualService to an ingress gateway');
            }
          }
        }
      });
    });
  }
  const isSni = (spec.tls ?? []).some((t) => (t?.match ?? []).some((m) => (m?.sniHosts?.length ?? 0) > 0));
  let allHostsValid = true;
  hosts.forEach((host, i) => {
    const problem = gatewayOnly ? gatewayDomainProblem(isSni, host) : wildcardDomainProblem(host);
    if (problem !== undefined) {
      if (!isIpAddress(host)) {
        c.error(['spec', 'hosts', i], problem);
        allHostsValid = false;
      }
    } else if (!gatewayOnly && host === '*') {
      c.error(['spec', 'hosts', i], 'wildcard host * is not allowed for virtual services bound to the mesh gateway', 'name the services (e.g. *.example.com or pay.prod.svc.cluster.local)');
      allHostsValid = false;
    }
  });
  if (allHostsValid) {
    hosts.forEach((a, i) => {
      hosts.slice(i + 1).forEach((b, k) => {
        if (hostsOverlap(a, b)) c.error(['spec', 'hosts', i + 1 + k], `duplicate hosts in virtual service: ${a} & ${b}`);
      });
    });
  }
  if ((spec.http?.length ?? 0) === 0 && (spec.tcp?.length ?? 0) === 0 && (spec.tls?.length ?? 0) === 0) {
    c.error(['spec'], 'http, tcp or tls must be provided in virtual service', 'add an http, tcp or tls route');
  }
  spec.http?.forEach((route, i) => {
    if (route === null || typeof route !== 'object') return c.error(['spec', 'http', i], 'http route may not be null');
    validateHttpRoute(c, ['spec', 'http', i], route, delegate ? 'delegate' : route.delegate !== undefined && route.delegate !== null ? 'root' : 'independent');
  });
  spec.tls?.forEach((route, i) => validateTlsRoute(c, ['spec', 'tls', i], route, spec));
  spec.tcp?.forEach((route, i) => validateTcpRoute(c, ['spec', 'tcp', i], route));
  validateExportTo(c, ['spec', 'exportTo'], vs.namespace, spec.exportTo);
  warnUnreachableRoutes(c, 'http', spec.http);
  warnUnreachableRoutes(c, 'tcp', spec.tcp);
  warnUnreachableRoutes(c, 'tls', spec.tls);
  if (gatewayOnly) c.warning(['spec', 'gateways'], "this VirtualService binds to gateways only (no 'mesh'), so sidecars ignore it");
  return c.issues;
}
