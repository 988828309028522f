/**
 * VirtualService `tcp` and `tls` routes, validated as Istio's validateTCPRoute and
 * validateTLSRoute do (validation.go, Istio 1.30.3).
 */
import type { L4MatchAttributes, TcpRoute, TlsRoute, VirtualServiceSpec } from '../resources.ts';
import type { FieldPath } from '../source-map.ts';
import { isIpOrCidr, type IssueCollector } from './checks.ts';
import { gatewayDomainProblem, hostSubsetOf, isIpAddress, wildcardDomainProblem } from './hostnames.ts';
import { validateGatewayNames, validatePort, validateRouteDestinations } from './route-parts.ts';
import { validateLabels } from './selectors.ts';

/** Bound to gateways only (no `mesh` among several gateways): host rules differ there. */
export function appliesToGatewayOnly(spec: VirtualServiceSpec): boolean {
  return (spec.gateways?.length ?? 0) > 0 && !(spec.gateways ?? []).includes('mesh');
}

function validateL4Match(c: IssueCollector, at: FieldPath, match: L4MatchAttributes): void {
  match.destinationSubnets?.forEach((subnet, i) => {
    if (!isIpOrCidr(subnet)) c.error([...at, 'destinationSubnets', i], subnet.split('/').length === 2 ? `${subnet} is not a valid CIDR block` : `${subnet} is not a valid IP`);
  });
  if (match.port !== undefined && match.port !== 0) validatePort(c, [...at, 'port'], match.port);
  validateLabels(c, [...at, 'sourceLabels'], match.sourceLabels);
  validateGatewayNames(c, [...at, 'gateways'], match.gateways);
}

export function validateTcpRoute(c: IssueCollector, at: FieldPath, tcp: TcpRoute | null): void {
  if (tcp === null || typeof tcp !== 'object') return;
  tcp.match?.forEach((match, j) => {
    if (match === null || typeof match !== 'object') return c.error([...at, 'match', j], 'tcp match may not be nil');
    validateL4Match(c, [...at, 'match', j], match);
  });
  if ((tcp.route?.length ?? 0) === 0) c.error(at, 'TCP route is required', 'add route: [{destination: {host: …}}]');
  validateRouteDestinations(c, [...at, 'route'], tcp.route);
}

/** An SNI host must be a valid (wildcard) domain and a subset of one of the VirtualService's hosts. */
function validateSniHost(c: IssueCollector, at: FieldPath, sni: string, spec: VirtualServiceSpec): void {
  // Istio's isGateway here is "no `mesh` among the gateways" (true with no gateways at all), so
  // `outbound_.<port>_._.<host>` names (AUTO_PASSTHROUGH) are accepted unless `mesh` is named.
  const problem = (spec.gateways ?? []).includes('mesh') ? wildcardDomainProblem(sni) : gatewayDomainProblem(true, sni);
  if (problem !== undefined) {
    if (isIpAddress(sni)) c.warning(at, `using an IP address (${JSON.stringify(sni)}) goes against SNI spec and most clients do not support this`);
    else c.error(at, problem);
    return;
  }
  if (!(spec.hosts ?? []).some((h) => hostSubsetOf(sni, h))) c.error(at, `SNI host ${JSON.stringify(sni)} is not a compatible subset of any of the virtual service hosts: [${(spec.hosts ?? []).join(', ')}]`);
}

export function validateTlsRoute(c: IssueCollector, at: FieldPath, tls: TlsRoute | null, spec: VirtualServiceSpec): void {
  if (tls === null || typeof tls !== 'object') return;
  if ((tls.match?.length ?? 0) === 0) c.error(at, 'TLS route must have at least one match condition');
  tls.match?.forEach((match, j) => {
    const m = [...at, 'match', j];
    if (match === null || typeof match !== 'object') return c.error(m, 'TLS match may not be null');
    if ((match.sniHosts?.length ?? 0) === 0) c.error([...m, 'sniHosts'], 'TLS match must have at least one SNI host');
    match.sniHosts?.forEach((sni, k) => validateSniHost(c, [...m, 'sniHosts', k], sni, spec));
    validateL4Match(c, m, match);
  });
  if ((tls.route?.length ?? 0) === 0) c.error(at, 'TLS route is required', 'add route: [{destination: {host: …}}]');
  validateRouteDestinations(c, [...at, 'route'], tls.route);
}
