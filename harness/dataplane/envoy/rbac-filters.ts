/**
 * The istiod translation's RBAC filters (istiod/rbac.ts, Envoy's `config.rbac.v3` in proto-JSON
 * form) written as Envoy HTTP and network filters. Nothing is decided here: only the three
 * shorthands of the translated form are expanded (a CIDR string → `{address_prefix, prefix_len}`,
 * a path template → a typed `uri_template` extension, a metadata path → `[{key}]`), and field
 * names are written in snake_case as the rest of the bootstrap is.
 */
import type { Cidr, HeaderMatcher, MetadataMatcher, Permission, Principal, RbacFilter, RbacRules, StringMatcher, ValueMatcher } from '../istiod/rbac.ts';
import { typeUrl, type JsonObject } from './json.ts';

export const RBAC_HTTP_FILTER = 'envoy.filters.http.rbac';
export const RBAC_NETWORK_FILTER = 'envoy.filters.network.rbac';
const RBAC_HTTP_TYPE = typeUrl('envoy.extensions.filters.http.rbac.v3.RBAC');
const RBAC_NETWORK_TYPE = typeUrl('envoy.extensions.filters.network.rbac.v3.RBAC');
const URI_TEMPLATE_TYPE = typeUrl('envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig');
/** istiod's stat prefix of network RBAC filters. */
const TCP_STAT_PREFIX = 'tcp.';

export function stringMatcherJson(m: StringMatcher): JsonObject {
  if ('safeRegex' in m) return { safe_regex: { regex: m.safeRegex.regex } };
  const ignore = m.ignoreCase === true ? { ignore_case: true } : {};
  if ('exact' in m) return { exact: m.exact, ...ignore };
  if ('prefix' in m) return { prefix: m.prefix, ...ignore };
  if ('suffix' in m) return { suffix: m.suffix, ...ignore };
  return { contains: m.contains, ...ignore };
}

function headerJson(h: HeaderMatcher): JsonObject {
  return {
    name: h.name,
    ...(h.stringMatch === undefined ? {} : { string_match: stringMatcherJson(h.stringMatch) }),
    ...(h.presentMatch === undefined ? {} : { present_match: h.presentMatch }),
    ...(h.invertMatch === true ? { invert_match: true } : {}),
  };
}

function cidrJson(c: Cidr): JsonObject {
  const [address = '', length] = c.split('/');
  return { address_prefix: address, prefix_len: length === undefined ? (address.includes(':') ? 128 : 32) : Number(length) };
}

function valueJson(v: ValueMatcher): JsonObject {
  if ('stringMatch' in v) return { string_match: stringMatcherJson(v.stringMatch) };
  if ('listMatch' in v) return { list_match: { one_of: valueJson(v.listMatch.oneOf) } };
  return { or_match: { value_matchers: v.orMatch.valueMatchers.map(valueJson) } };
}

function metadataJson(m: MetadataMatcher): JsonObject {
  return { filter: m.filter, path: m.path.map((key) => ({ key })), value: valueJson(m.value) };
}

export function permissionJson(p: Permission): JsonObject {
  if ('any' in p) return { any: true };
  if ('andRules' in p) return { and_rules: { rules: p.andRules.rules.map(permissionJson) } };
  if ('orRules' in p) return { or_rules: { rules: p.orRules.rules.map(permissionJson) } };
  if ('notRule' in p) return { not_rule: permissionJson(p.notRule) };
  if ('header' in p) return { header: headerJson(p.header) };
  if ('urlPath' in p) return { url_path: { path: stringMatcherJson(p.urlPath.path) } };
  if ('uriTemplate' in p) return { uri_template: { name: 'uri-template', typed_config: { '@type': URI_TEMPLATE_TYPE, path_template: p.uriTemplate.pathTemplate } } };
  if ('destinationIp' in p) return { destination_ip: cidrJson(p.destinationIp) };
  if ('destinationPort' in p) return { destination_port: p.destinationPort };
  if ('requestedServerName' in p) return { requested_server_name: stringMatcherJson(p.requestedServerName) };
  return { metadata: metadataJson(p.metadata) };
}

export function principalJson(p: Principal): JsonObject {
  if ('any' in p) return { any: true };
  if ('andIds' in p) return { and_ids: { ids: p.andIds.ids.map(principalJson) } };
  if ('orIds' in p) return { or_ids: { ids: p.orIds.ids.map(principalJson) } };
  if ('notId' in p) return { not_id: principalJson(p.notId) };
  if ('authenticated' in p) return { authenticated: p.authenticated.principalName === undefined ? {} : { principal_name: stringMatcherJson(p.authenticated.principalName) } };
  if ('directRemoteIp' in p) return { direct_remote_ip: cidrJson(p.directRemoteIp) };
  if ('remoteIp' in p) return { remote_ip: cidrJson(p.remoteIp) };
  if ('header' in p) return { header: headerJson(p.header) };
  return { metadata: metadataJson(p.metadata) };
}

function rulesJson(r: RbacRules): JsonObject {
  const policies: Record<string, JsonObject> = {};
  for (const name of Object.keys(r.policies).sort()) {
    const policy = r.policies[name]!;
    policies[name] = { permissions: policy.permissions.map(permissionJson), principals: policy.principals.map(principalJson) };
  }
  return { action: r.action, policies };
}

function configJson(f: RbacFilter): JsonObject {
  return {
    ...(f.rules === undefined ? {} : { rules: rulesJson(f.rules) }),
    ...(f.shadowRules === undefined ? {} : { shadow_rules: rulesJson(f.shadowRules) }),
    ...(f.shadowRulesStatPrefix === undefined ? {} : { shadow_rules_stat_prefix: f.shadowRulesStatPrefix }),
  };
}

/** `envoy.filters.http.rbac`, one per translated filter, in chain order. */
export function rbacHttpFilters(filters: readonly RbacFilter[]): JsonObject[] {
  return filters.map((f) => ({ name: RBAC_HTTP_FILTER, typed_config: { '@type': RBAC_HTTP_TYPE, ...configJson(f) } }));
}

/** `envoy.filters.network.rbac` (stat prefix `tcp.`), one per translated filter, for a TCP chain. */
export function rbacNetworkFilters(filters: readonly RbacFilter[]): JsonObject[] {
  return filters.map((f) => {
    const { rules, ...rest } = configJson(f);
    return { name: RBAC_NETWORK_FILTER, typed_config: { '@type': RBAC_NETWORK_TYPE, ...(rules === undefined ? {} : { rules }), stat_prefix: TCP_STAT_PREFIX, ...rest } };
  });
}
