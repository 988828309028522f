/**
 * Host names as Istio's validation reads them (pkg/config/validation/agent: ValidateWildcardDomain,
 * ValidateFQDN; pkg/config/labels: IsDNS1123Label, IsWildcardDNS1123Label; pkg/config/host:
 * Name.Matches and Name.SubsetOf). Each check returns the problem as a sentence, or undefined.
 */
import { isIP } from 'node:net';

const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** `*`, or a DNS-1123 label optionally prefixed by `*` or `*-`. */
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;
const MAX_LABEL = 63;
const MAX_NAME = 255;
const INT64_MAX = 9223372036854775807n;

export function isDns1123Label(value: string): boolean {
  return value.length <= MAX_LABEL && DNS1123_LABEL.test(value);
}

export function isWildcardDns1123Label(value: string): boolean {
  return value.length <= MAX_LABEL && WILDCARD_LABEL.test(value);
}

/** An IPv4 or IPv6 address (no prefix length). */
export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

function preconditionProblem(name: string): string | undefined {
  if (name.length > MAX_NAME) return `domain name ${JSON.stringify(name)} too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

/** Go's strconv.Atoi succeeds: an optional sign and decimal digits that fit in an int64. */
function isGoInt(text: string): boolean {
  if (!/^[+-]?\d+$/.test(text)) return false;
  const n = BigInt(text);
  return n <= INT64_MAX && n >= -INT64_MAX - 1n;
}

function labelsProblem(domain: string, whole: string): string | undefined {
  const parts = domain.split('.');
  const top = parts[parts.length - 1] ?? '';
  if (isGoInt(top)) return `domain name ${JSON.stringify(whole)} invalid (top level domain ${JSON.stringify(top)} cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i] ?? '';
    // A trailing dot (`istio.io.`) is allowed.
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isDns1123Label(label)) return `domain name ${JSON.stringify(whole)} invalid (label ${JSON.stringify(label)} invalid)`;
  }
  return undefined;
}

/** A fully qualified domain name: DNS-1123 labels, no wildcard. */
export function fqdnProblem(fqdn: string): string | undefined {
  return preconditionProblem(fqdn) ?? labelsProblem(fqdn, fqdn);
}

/** A domain whose first label may be a wildcard (`*`, `*.example.com`, `*foo.example.com`). */
export function wildcardDomainProblem(domain: string): string | undefined {
  const pre = preconditionProblem(domain);
  if (pre !== undefined) return pre;
  const dot = domain.indexOf('.');
  const first = dot === -1 ? domain : domain.slice(0, dot);
  if (!isWildcardDns1123Label(first)) return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(first)} invalid)`;
  return dot === -1 ? undefined : labelsProblem(domain.slice(dot + 1), domain);
}

const isWildcarded = (h: string): boolean => h.startsWith('*');

/** host.Name.Matches: the two names overlap (either may be a wildcard). */
export function hostsOverlap(a: string, b: string): boolean {
  if (isWildcarded(a)) {
    if (isWildcarded(b)) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
    return b.endsWith(a.slice(1));
  }
  if (isWildcarded(b)) return a.endsWith(b.slice(1));
  return a === b;
}

/** host.Name.SubsetOf: every name `a` matches is also matched by `b`. */
export function hostSubsetOf(a: string, b: string): boolean {
  if (isWildcarded(a)) {
    if (!isWildcarded(b)) return false;
    return a.length >= b.length && a.slice(1).endsWith(b.slice(1));
  }
  if (isWildcarded(b)) return a.endsWith(b.slice(1));
  return a === b;
}

const AUTO_SNI_FORMAT = 'outbound_.<port>_._.<hostname>';

/**
 * ValidateWildcardDomainForVirtualServiceBoundToGateway: as wildcardDomainProblem, but with `sni`
 * a name istiod generates for AUTO_PASSTHROUGH (`outbound_.8080_._.pay.prod.svc.cluster.local`)
 * is valid too.
 */
export function gatewayDomainProblem(sni: boolean, domain: string): string | undefined {
  const pre = preconditionProblem(domain);
  if (pre !== undefined) return pre;
  if (!sni || !domain.startsWith('outbound_')) return wildcardDomainProblem(domain);
  const parts = domain.split('_');
  if (parts.length < 4) return `domain name ${domain} invalid, should follow '${AUTO_SNI_FORMAT}' format`;
  const trimDots = (s: string): string => s.replace(/^\.+|\.+$/g, '');
  const port = trimDots(parts[1] ?? '');
  const host = trimDots(parts[3] ?? '');
  if (!/[0-9]/.test(port)) return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(port)} invalid). should follow ${AUTO_SNI_FORMAT} format`;
  if (!/[a-zA-Z]/.test(host)) return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(host)} invalid). should follow ${AUTO_SNI_FORMAT} format`;
  return undefined;
}
