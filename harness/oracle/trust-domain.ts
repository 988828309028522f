/**
 * Trust-domain aliasing of principals (istio-semantics.md §2 "Trust domains"; istiod
 * trustdomain/bundle.go): a principal whose trust domain is the mesh's, an alias, or
 * `cluster.local` stands for the same identity in every trust domain of the bundle.
 */

/** The bundle: the mesh trust domain first, then its aliases. */
export function trustDomainBundle(trustDomain: string, aliases: readonly string[]): string[] {
  return [trustDomain, ...aliases];
}

function wildcardMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

/** ReplaceTrustDomainAliases: expands each principal to every trust domain of the bundle. */
export function expandPrincipals(principals: readonly string[], bundle: readonly string[]): string[] {
  const out: string[] = [];
  for (const principal of principals) {
    const parts = principal.split('/');
    // Not `td/ns/x/sa/y`, or trust domain `*`: the trust domain is not checked; keep as written.
    if (parts.length !== 5 || parts[0] === '*') {
      out.push(principal);
      continue;
    }
    const td = parts[0] ?? '';
    if (!bundle.some((b) => wildcardMatch(td, b) || wildcardMatch(b, td)) && td !== 'cluster.local') {
      out.push(principal);
      continue;
    }
    for (const b of bundle) {
      const next = td.startsWith('*') && b.endsWith(td.slice(1)) ? principal : [b, ...parts.slice(1)].join('/');
      if (!out.includes(next)) out.push(next);
    }
  }
  return out;
}

/** ExpandTrustDomainAliases: a `trustDomains` value in the bundle stands for the whole bundle. */
export function expandTrustDomains(values: readonly string[], bundle: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const x of bundle.includes(v) ? bundle : [v]) if (!out.includes(x)) out.push(x);
  return out;
}
