/**
 * An outbound HTTP listener's route configuration, compiled: virtual hosts by Host header (lower
 * case, exact, as rendered with and without the port), and per virtual host its routes in order.
 * A route matches when any of its match entries does (none: always); an entry matches when all
 * its conditions hold: path (without the query; exact, prefix, or an RE2 regex over the whole
 * path; `ignoreUriCase` for exact and prefix), method, authority, and headers (absent header:
 * no match). This is the sidecar's own matcher; the oracle has its own (route-match.ts).
 */
import type { OutboundListenerConfig, RouteConfig, RouteMatchConfig, StringMatchConfig } from '../../../istiod/outbound-config.ts';

export interface RouteInput {
  readonly path: string;
  readonly method: string;
  readonly authority: string;
  readonly header: (name: string) => string | undefined;
}

export interface CompiledRoute {
  readonly config: RouteConfig;
  readonly totalWeight: number;
  matches(input: RouteInput): boolean;
}

export interface CompiledListener {
  readonly config: OutboundListenerConfig;
  /** Domain → routes of its virtual host. */
  readonly hosts: ReadonlyMap<string, { readonly name: string; readonly routes: readonly CompiledRoute[] }>;
}

type Test = (value: string | undefined) => boolean;

function compileString(m: StringMatchConfig, ignoreCase: boolean): Test {
  if (m.exact !== undefined) {
    const want = ignoreCase ? m.exact.toLowerCase() : m.exact;
    return ignoreCase ? (v) => v !== undefined && v.toLowerCase() === want : (v) => v === want;
  }
  if (m.prefix !== undefined) {
    const want = ignoreCase ? m.prefix.toLowerCase() : m.prefix;
    return ignoreCase ? (v) => v !== undefined && v.toLowerCase().startsWith(want) : (v) => v !== undefined && v.startsWith(want);
  }
  const re = new RegExp(`^(?:${m.regex ?? ''})$`);
  return (v) => v !== undefined && re.test(v);
}

function compileMatch(m: RouteMatchConfig): (input: RouteInput) => boolean {
  const tests: ((input: RouteInput) => boolean)[] = [];
  if (m.uri !== undefined) {
    const t = compileString(m.uri, m.ignoreUriCase === true);
    tests.push((i) => t(i.path));
  }
  if (m.method !== undefined) {
    const t = compileString(m.method, false);
    tests.push((i) => t(i.method));
  }
  if (m.authority !== undefined) {
    const t = compileString(m.authority, false);
    tests.push((i) => t(i.authority));
  }
  for (const [name, sm] of Object.entries(m.headers ?? {})) {
    const t = compileString(sm, false);
    tests.push((i) => t(i.header(name)));
  }
  return (input) => tests.every((t) => t(input));
}

export function compileRoute(config: RouteConfig): CompiledRoute {
  const entries = config.match.map(compileMatch);
  return {
    config,
    totalWeight: config.clusters.reduce((n, c) => n + c.weight, 0),
    matches: entries.length === 0 ? () => true : (input) => entries.some((e) => e(input)),
  };
}

export function compileListener(config: OutboundListenerConfig): CompiledListener {
  const hosts = new Map<string, { name: string; routes: CompiledRoute[] }>();
  for (const vh of config.virtualHosts ?? []) {
    const compiled = { name: vh.name, routes: vh.routes.map(compileRoute) };
    for (const domain of vh.domains) if (!hosts.has(domain.toLowerCase())) hosts.set(domain.toLowerCase(), compiled);
  }
  return { config, hosts };
}
