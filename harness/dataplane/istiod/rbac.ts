/**
 * Envoy's RBAC configuration, as a typed subset of `envoy.config.rbac.v3` in its proto-JSON form
 * (camelCase field names, one key per `oneof`). istiod translates AuthorizationPolicies into it
 * (authz-translator.ts does the same here); the reference sidecar evaluates it (sidecar/rbac-engine.ts);
 * an Envoy adapter can emit it nearly as is.
 *
 * Simplifications against the proto, each noted where it applies: `uriTemplate` carries the path
 * template directly instead of a typed extension config, and CIDR ranges are written as strings.
 */

/** `envoy.type.matcher.v3.StringMatcher`. `safeRegex` is RE2, matched against the whole value. */
export type StringMatcher =
  | { readonly exact: string; readonly ignoreCase?: boolean }
  | { readonly prefix: string; readonly ignoreCase?: boolean }
  | { readonly suffix: string; readonly ignoreCase?: boolean }
  | { readonly contains: string; readonly ignoreCase?: boolean }
  | { readonly safeRegex: { readonly regex: string } };

/**
 * `envoy.type.matcher.v3.ValueMatcher`, the part istiod uses on JWT claims: a string, a list with
 * one element matching, or any of several.
 */
export type ValueMatcher =
  | { readonly stringMatch: StringMatcher }
  | { readonly listMatch: { readonly oneOf: ValueMatcher } }
  | { readonly orMatch: { readonly valueMatchers: readonly ValueMatcher[] } };

/** `envoy.type.matcher.v3.MetadataMatcher`: the value at `path` (keys) in a filter's dynamic metadata. */
export interface MetadataMatcher {
  readonly filter: string;
  readonly path: readonly string[];
  readonly value: ValueMatcher;
}

/** `envoy.config.route.v3.HeaderMatcher` (names are matched case-insensitively, as Envoy lower-cases them). */
export interface HeaderMatcher {
  /** A header name, or a pseudo-header: `:method`, `:authority`, `:path`, `:scheme`. */
  readonly name: string;
  readonly stringMatch?: StringMatcher;
  readonly presentMatch?: boolean;
  readonly invertMatch?: boolean;
}

/** An IP address or CIDR block, `10.0.0.0/8` or `2001:db8::1` (Envoy: `{addressPrefix, prefixLen}`). */
export type Cidr = string;

/** `envoy.config.rbac.v3.Permission`: what the request does. */
export type Permission =
  | { readonly any: true }
  | { readonly andRules: { readonly rules: readonly Permission[] } }
  | { readonly orRules: { readonly rules: readonly Permission[] } }
  | { readonly notRule: Permission }
  | { readonly header: HeaderMatcher }
  | { readonly urlPath: { readonly path: StringMatcher } }
  /** Envoy: `uri_template` with a `UriTemplateMatchConfig{path_template}`; here the template itself. */
  | { readonly uriTemplate: { readonly pathTemplate: string } }
  | { readonly destinationIp: Cidr }
  | { readonly destinationPort: number }
  | { readonly requestedServerName: StringMatcher }
  /** Dynamic metadata (Istio: `experimental.envoy.filters.*` conditions). */
  | { readonly metadata: MetadataMatcher };

/** `envoy.config.rbac.v3.Principal`: who sends it. */
export type Principal =
  | { readonly any: true }
  | { readonly andIds: { readonly ids: readonly Principal[] } }
  | { readonly orIds: { readonly ids: readonly Principal[] } }
  | { readonly notId: Principal }
  /** The peer certificate: URI SANs, then DNS SANs, then the subject; no matcher means any peer certificate. */
  | { readonly authenticated: { readonly principalName?: StringMatcher } }
  | { readonly directRemoteIp: Cidr }
  | { readonly remoteIp: Cidr }
  | { readonly header: HeaderMatcher }
  /** Dynamic metadata: JWT claims the `envoy.filters.http.jwt_authn` filter wrote under `payload`. */
  | { readonly metadata: MetadataMatcher };

/** A policy matches when at least one permission and at least one principal match. */
export interface RbacPolicy {
  readonly permissions: readonly Permission[];
  readonly principals: readonly Principal[];
}

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

/** `envoy.config.rbac.v3.RBAC`. Envoy evaluates `policies` in key order; the first match is reported. */
export interface RbacRules {
  readonly action: RbacAction;
  readonly policies: Readonly<Record<string, RbacPolicy>>;
}

/** One RBAC filter (`envoy.extensions.filters.http.rbac.v3.RBAC`, or the network filter for TCP). */
export interface RbacFilter {
  /** What istiod built it from: `custom` (bad CUSTOM rules, fail-closed), `audit`, `deny-root`, `deny`, `allow`. */
  readonly source: 'custom' | 'audit' | 'deny-root' | 'deny' | 'allow';
  /** Enforced rules; absent when every policy of this action is a dry run. */
  readonly rules?: RbacRules;
  /** Dry-run rules (`istio.io/dry-run: "true"`): evaluated for stats only, never enforced. */
  readonly shadowRules?: RbacRules;
  /** `istio_dry_run_allow_` or `istio_dry_run_deny_`. */
  readonly shadowRulesStatPrefix?: string;
}
