/**
 * The catalogue of Istio's own validation rules for the four kinds meshproof reads, and whether
 * `check-policies` applies each. Read from istio/istio 1.30.3: pkg/config/validation/validation.go
 * (validateMetadata, ValidateAuthorizationPolicy, ValidatePeerAuthentication,
 * ValidateDestinationRule, ValidateVirtualService and what they call), virtualservice.go,
 * agent/validation.go and pkg/config/security/security.go.
 *
 * One entry is one check with its own message. A helper used in several places (durations, host
 * names, label maps) is one entry per check, counted once. Checks that cannot be reached for
 * these kinds (ServiceEntry-only branches, an `else` after an exhaustive `if`) are not listed.
 * istio-rules.test.ts holds an example for every applied rule and fails when one is not rejected
 * (or warned about) as described; `meshproof check-policies --istio-rules` prints the list.
 */

export type IstioRuleKind = 'AuthorizationPolicy' | 'PeerAuthentication' | 'DestinationRule' | 'VirtualService';

export interface IstioRule {
  readonly id: string;
  readonly kinds: readonly IstioRuleKind[];
  readonly severity: 'error' | 'warning';
  /** What Istio checks, in a few words. */
  readonly rule: string;
  /** The Go function that has it. */
  readonly source: string;
  /** Applied by meshproof's semantic checks, by the CRD schema check, or not, with the reason. */
  readonly applied: 'semantics' | 'schema' | { readonly not: string };
}

const AP: readonly IstioRuleKind[] = ['AuthorizationPolicy'];
const PA: readonly IstioRuleKind[] = ['PeerAuthentication'];
const DR: readonly IstioRuleKind[] = ['DestinationRule'];
const VS: readonly IstioRuleKind[] = ['VirtualService'];
const ALL: readonly IstioRuleKind[] = ['AuthorizationPolicy', 'PeerAuthentication', 'DestinationRule', 'VirtualService'];
const SELECTOR: readonly IstioRuleKind[] = ['AuthorizationPolicy', 'PeerAuthentication', 'DestinationRule'];
const DR_VS: readonly IstioRuleKind[] = ['DestinationRule', 'VirtualService'];

const e = (id: string, kinds: readonly IstioRuleKind[], source: string, rule: string, applied: IstioRule['applied'] = 'semantics'): IstioRule => ({ id, kinds, severity: 'error', rule, source, applied });
const w = (id: string, kinds: readonly IstioRuleKind[], source: string, rule: string, applied: IstioRule['applied'] = 'semantics'): IstioRule => ({ id, kinds, severity: 'warning', rule, source, applied });

export const ISTIO_RULES: readonly IstioRule[] = [
  // ---- metadata, every kind
  e('meta.dry-run-kind', ['PeerAuthentication', 'DestinationRule', 'VirtualService'], 'checkDryRunAnnotation', 'istio.io/dry-run only on an AuthorizationPolicy'),
  e('meta.dry-run-action', AP, 'checkDryRunAnnotation', 'istio.io/dry-run only with action ALLOW or DENY'),
  e('meta.dry-run-value', AP, 'checkDryRunAnnotation', 'istio.io/dry-run value parses as a Go bool'),
  e('meta.always-reject', ALL, 'validateMetadata', 'no internal.istio.io/webhook-always-reject annotation'),
  e('meta.parent-namespace', ALL, 'validateMetadata', 'no internal.istio.io/parent-namespace annotation'),
  e('meta.parents', ALL, 'validateMetadata', 'no internal.istio.io/parents annotation'),
  // ---- workload selector (AP selector, PA selector, DR workloadSelector)
  e('selector.empty-key', SELECTOR, 'validateWorkloadSelector', 'no empty label key'),
  e('selector.wildcard', SELECTOR, 'validateWorkloadSelector', 'no * in a label key or value'),
  w('selector.no-labels', SELECTOR, 'validateWorkloadSelector', 'a selector without labels'),
  // ---- AuthorizationPolicy
  e('ap.one-of-selector', AP, 'validateOneOfSelectorType', 'only one of selector, targetRef, targetRefs'),
  e('ap.target-name', AP, 'validatePolicyTargetReference', 'targetRef name set', 'schema'),
  e('ap.target-namespace', AP, 'validatePolicyTargetReference', 'targetRef namespace not set'),
  e('ap.target-kind', AP, 'validatePolicyTargetReference', 'targetRef group/kind is Service, ServiceEntry, Gateway or GatewayClass'),
  e('ap.custom-no-rules', AP, 'ValidateAuthorizationPolicy', 'CUSTOM needs rules'),
  e('ap.custom-provider', AP, 'ValidateAuthorizationPolicy', 'CUSTOM with rules needs provider.name'),
  e('ap.custom-source', AP, 'ValidateAuthorizationPolicy', 'CUSTOM rules use no principals, namespaces, serviceAccounts, trustDomains, requestPrincipals (nor their not*)'),
  e('ap.custom-when-nil', AP, 'ValidateAuthorizationPolicy', 'CUSTOM: no null when entry', 'schema'),
  e('ap.custom-when-key', AP, 'ValidateAuthorizationPolicy', 'CUSTOM: no source.namespace/serviceAccount/trustDomain/principal or request.auth.* condition'),
  e('ap.provider-not-custom', AP, 'ValidateAuthorizationPolicy', 'provider only with CUSTOM'),
  e('ap.deny-no-rules', AP, 'ValidateAuthorizationPolicy', 'DENY needs rules'),
  e('ap.rule-nil', AP, 'ValidateAuthorizationPolicy', 'no null rule', 'schema'),
  e('ap.from-empty', AP, 'ValidateAuthorizationPolicy', '`from` not an empty list'),
  e('ap.from-nil', AP, 'ValidateAuthorizationPolicy', 'no null from entry', 'schema'),
  e('ap.source-nil', AP, 'ValidateAuthorizationPolicy', 'from entry has a source'),
  e('ap.sa-with-principals', AP, 'ValidateAuthorizationPolicy', 'serviceAccounts not with principals or namespaces'),
  e('ap.source-empty', AP, 'ValidateAuthorizationPolicy', 'source sets at least one field'),
  e('ap.ip-blocks', AP, 'security.ValidateIPs', 'ipBlocks/remoteIpBlocks (and not*) are IPs or CIDRs'),
  e('ap.empty-value', AP, 'security.CheckEmptyValues', 'no empty value in a source or operation field'),
  e('ap.sa-count', AP, 'security.CheckServiceAccount', 'at most 16 serviceAccounts', 'schema'),
  e('ap.sa-wildcard', AP, 'security.CheckServiceAccount', 'no * in serviceAccounts'),
  e('ap.sa-format', AP, 'security.CheckServiceAccount', "serviceAccounts are 'sa' or 'ns/sa'"),
  e('ap.sa-length', AP, 'security.CheckServiceAccount', 'serviceAccounts at most 320 characters', 'schema'),
  e('ap.sa-empty-part', AP, 'security.CheckServiceAccount', "no empty namespace or name in 'ns/sa'"),
  e('ap.wildcard-count', AP, 'security.CheckWildcardValues', 'trust domains (and source.trustDomain) have at most one *'),
  e('ap.wildcard-position', AP, 'security.CheckWildcardValues', 'a * in a trust domain is at the start or the end'),
  e('ap.trust-domain-slash', AP, 'security.CheckTrustDomainValues', "no '/' in trustDomains"),
  e('ap.to-empty', AP, 'ValidateAuthorizationPolicy', '`to` not an empty list'),
  e('ap.to-nil', AP, 'ValidateAuthorizationPolicy', 'no null to entry', 'schema'),
  e('ap.operation-nil', AP, 'ValidateAuthorizationPolicy', 'to entry has an operation'),
  e('ap.operation-empty', AP, 'ValidateAuthorizationPolicy', 'operation sets at least one field'),
  e('ap.ports', AP, 'security.ValidatePorts', 'ports/notPorts are numbers 0-65535'),
  e('ap.path-any-last', AP, 'security.CheckValidPathTemplate', '{**} is the last path operator'),
  e('ap.path-braces', AP, 'security.CheckValidPathTemplate', 'no { or } outside {*} and {**}'),
  e('ap.path-literal', AP, 'security.CheckValidPathTemplate', 'other segments of a path template are RFC 3986 pchars'),
  e('ap.when-key', AP, 'ValidateAuthorizationPolicy', 'a condition has a key'),
  e('ap.when-values', AP, 'ValidateAuthorizationPolicy', 'a condition has values or notValues'),
  e('ap.when-empty-value', AP, 'security.ValidateAttribute', 'no empty value in a condition'),
  e('ap.when-map-key', AP, 'security.ValidateAttribute', 'request.headers / request.auth.claims / experimental keys are a[b]'),
  e('ap.when-ip', AP, 'security.ValidateAttribute', 'source.ip, remote.ip, destination.ip values are IPs or CIDRs'),
  e('ap.when-service-account', AP, 'security.ValidateAttribute', 'source.serviceAccount values as serviceAccounts'),
  e('ap.when-port', AP, 'security.ValidateAttribute', 'destination.port values are ports'),
  e('ap.when-destination-namespace', AP, 'security.ValidateAttribute', 'no destination.namespace key'),
  e('ap.when-destination-labels', AP, 'security.ValidateAttribute', 'no destination.labels key'),
  e('ap.when-destination-name', AP, 'security.ValidateAttribute', 'no destination.name or destination.user key'),
  e('ap.when-unknown', AP, 'security.ValidateAttribute', 'no unknown key'),
  w('ap.deny-http-only', AP, 'ValidateAuthorizationPolicy', 'a DENY rule with only HTTP attributes denies all TCP traffic in scope'),
  // ---- PeerAuthentication
  e('pa.port-level-selector', PA, 'ValidatePeerAuthentication', 'portLevelMtls needs a workload selector'),
  e('pa.port-level-empty', PA, 'ValidatePeerAuthentication', 'portLevelMtls, if set, not empty', 'schema'),
  e('pa.port-range', PA, 'ValidatePeerAuthentication', 'portLevelMtls ports 1-65535'),
  // ---- host names (DR host, VS hosts, destinations, SNI hosts, gateway names)
  e('host.empty', DR_VS, 'agent.CheckDNS1123Preconditions', 'a host is not empty'),
  e('host.too-long', DR_VS, 'agent.CheckDNS1123Preconditions', 'a host is at most 255 characters'),
  e('host.first-label', DR_VS, 'agent.ValidateWildcardDomain', 'the first label is a DNS label or a wildcard (*, *foo, *-foo)'),
  e('host.label', DR_VS, 'agent.ValidateDNS1123Labels', 'the other labels are DNS labels'),
  e('host.numeric-tld', DR_VS, 'agent.ValidateDNS1123Labels', 'the top-level label is not all digits'),
  e('host.auto-sni', VS, 'agent.ValidateWildcardDomainForVirtualServiceBoundToGateway', 'outbound_.<port>_._.<host> names on gateways have a port and a host'),
  // ---- label maps (subset labels, sourceLabels)
  e('labels.key', DR_VS, 'labels.Instance.Validate', 'label keys are [prefix/]name'),
  e('labels.prefix-length', DR_VS, 'labels.Instance.Validate', 'label key prefix at most 253 characters'),
  e('labels.name-length', DR_VS, 'labels.Instance.Validate', 'label key name at most 63 characters'),
  e('labels.value', DR_VS, 'labels.Instance.Validate', 'label values are qualified names or empty'),
  // ---- exportTo
  e('export.duplicate', DR_VS, 'validateExportTo', 'no duplicate exportTo entry (. is the own namespace)'),
  e('export.none', DR_VS, 'visibility.Instance.Validate', 'no ~ in exportTo'),
  e('export.value', DR_VS, 'visibility.Instance.Validate', 'exportTo entries are ., * or a namespace'),
  e('export.selector-beyond', DR, 'validateExportTo', 'a DestinationRule with workloadSelector exports to its own namespace'),
  e('export.selector-multiple', DR, 'validateExportTo', 'a DestinationRule with workloadSelector has one exportTo entry'),
  e('export.public-alone', DR_VS, 'validateExportTo', '* is the only exportTo entry'),
  // ---- durations (agent.ValidateDuration), everywhere a duration is
  e('duration.min', DR_VS, 'agent.ValidateDuration', 'durations at least 1ms (tcp idleTimeout may be 0)'),
  e('duration.ms', DR_VS, 'agent.ValidateDuration', 'durations in whole milliseconds'),
  // ---- DestinationRule
  e('dr.subset-nil', DR, 'ValidateDestinationRule', 'no null subset', 'schema'),
  e('dr.subset-duplicate', DR, 'ValidateDestinationRule', 'subset names unique'),
  e('dr.subset-name-empty', DR, 'validateSubsetName', 'subset name not empty'),
  e('dr.subset-name', DR, 'validateSubsetName', 'subset name a DNS label'),
  e('tp.empty', DR, 'validateTrafficPolicy', 'a traffic policy sets at least one field'),
  e('tp.tunnel-proxy-protocol', DR, 'validateTrafficPolicy', 'not both tunnel and proxyProtocol'),
  w('od.consecutive-errors', DR, 'validateOutlierDetection', 'consecutiveErrors is deprecated'),
  e('od.local-origin', DR, 'validateOutlierDetection', 'consecutiveLocalOriginFailures > 0 needs splitExternalLocalOriginErrors'),
  e('od.percent', DR, 'ValidatePercent', 'maxEjectionPercent and minHealthPercent 0-100'),
  e('cp.empty', DR, 'validateConnectionPool', 'connectionPool sets tcp or http'),
  e('cp.http1-max-pending', DR, 'validateConnectionPool', 'http1MaxPendingRequests >= 0'),
  e('cp.http2-max-requests', DR, 'validateConnectionPool', 'http2MaxRequests >= 0'),
  e('cp.max-requests-per-connection', DR, 'validateConnectionPool', 'maxRequestsPerConnection >= 0'),
  e('cp.max-retries', DR, 'validateConnectionPool', 'maxRetries >= 0'),
  e('cp.upgrade-client-protocol', DR, 'validateConnectionPool', 'no useClientProtocol with h2UpgradePolicy UPGRADE'),
  e('cp.max-concurrent-streams', DR, 'validateConnectionPool', 'maxConcurrentStreams >= 0'),
  e('cp.max-connections', DR, 'validateConnectionPool', 'maxConnections >= 0'),
  e('lb.cookie-name', DR, 'validateLoadBalancer', 'httpCookie has a name', 'schema'),
  e('lb.cookie-attribute-name', DR, 'validateLoadBalancer', 'httpCookie attributes have names', 'schema'),
  e('lb.cookie-attribute-duplicate', DR, 'validateLoadBalancer', 'httpCookie attribute names unique'),
  w('lb.minimum-ring-size', DR, 'validateLoadBalancer', 'consistentHash.minimumRingSize is deprecated'),
  e('lb.minimum-ring-size-with-algorithm', DR, 'validateLoadBalancer', 'not minimumRingSize with maglev or ringHash'),
  e('lb.maglev-size-set', DR, 'validateLoadBalancer', 'maglev tableSize set'),
  e('lb.maglev-size-max', DR, 'validateLoadBalancer', 'maglev tableSize < 5000011'),
  e('lb.maglev-size-prime', DR, 'validateLoadBalancer', 'maglev tableSize prime'),
  e('locality.distribute-and-failover', DR, 'agent.ValidateLocalityLbSetting', 'not both distribute and failover'),
  e('locality.failover-priority', DR, 'agent.ValidateLocalityLbSetting', 'failover not with topology labels in failoverPriority'),
  e('locality.weight', DR, 'agent.ValidateLocalityLbSetting', 'locality weights 1-100'),
  e('locality.weight-total', DR, 'agent.ValidateLocalityLbSetting', 'locality weights add up to 100'),
  e('locality.wildcard', DR, 'agent.validateLocalities', 'at most one * in a locality, at the end'),
  e('locality.empty-part', DR, 'agent.validateLocalities', 'no empty region/zone/subzone'),
  e('locality.overlap', DR, 'agent.validateLocalities', 'localities do not overlap'),
  w('locality.failover-outlier', DR, 'agent.ValidateLocalityLbSetting', 'failover without outlierDetection'),
  e('locality.failover-same', DR, 'agent.ValidateLocalityLbSetting', 'failover from and to differ'),
  e('locality.failover-region', DR, 'agent.ValidateLocalityLbSetting', 'failover names regions only (no /)'),
  e('locality.failover-wildcard', DR, 'agent.ValidateLocalityLbSetting', 'no * in failover'),
  e('warmup.duration-required', DR, 'validateLoadBalancer', 'warmup has a duration', 'schema'),
  e('warmup.minimum-percent', DR, 'validateLoadBalancer', 'warmup minimumPercent <= 100', 'schema'),
  e('warmup.aggression', DR, 'validateLoadBalancer', 'warmup aggression >= 1'),
  e('tls.configmap-name', DR, 'agent.ValidateTLS', 'configmap:// credentialName is namespace/name'),
  e('tls.configmap-namespace', DR, 'agent.ValidateTLS', "configmap:// credentialName in the rule's namespace"),
  e('tls.insecure-simple', DR, 'agent.ValidateTLS', 'SIMPLE insecureSkipVerify without caCertificates, credentialName, subjectAltNames'),
  e('tls.insecure-mutual', DR, 'agent.ValidateTLS', 'MUTUAL insecureSkipVerify without caCertificates, subjectAltNames'),
  e('tls.credential-and-files', DR, 'agent.ValidateTLS', 'credentialName not with certificate, key, CA or CRL files'),
  e('tls.mutual-certificate', DR, 'agent.ValidateTLS', 'MUTUAL (without credentialName) needs clientCertificate'),
  e('tls.mutual-key', DR, 'agent.ValidateTLS', 'MUTUAL (without credentialName) needs privateKey'),
  e('pls.nil', DR, 'validatePortTrafficPolicies', 'no null portLevelSettings entry', 'schema'),
  e('pls.port', DR, 'validatePortTrafficPolicies', 'portLevelSettings entry has a port'),
  e('pls.empty', DR, 'validatePortTrafficPolicies', 'portLevelSettings entry sets outlierDetection, connectionPool, loadBalancer or tls'),
  e('tunnel.protocol', DR, 'validateTunnelSettings', 'tunnel protocol CONNECT or POST'),
  e('tunnel.host', DR, 'validateTunnelSettings', 'tunnel targetHost an FQDN or IP'),
  e('tunnel.port', DR, 'validateTunnelSettings', 'tunnel targetPort 1-65535'),
  e('proxy-protocol.version', DR, 'validateProxyProtocol', 'proxyProtocol version V1 or V2', 'schema'),
  // ---- VirtualService: top level
  e('vs.delegate-gateways', VS, 'ValidateVirtualService', 'a delegate (no hosts) has no gateways'),
  e('vs.delegate-tls', VS, 'ValidateVirtualService', 'a delegate has no tls routes'),
  e('vs.delegate-tcp', VS, 'ValidateVirtualService', 'a delegate has no tcp routes'),
  w('gateway.legacy-name', VS, 'validateGatewayNames', 'gateway written name.namespace instead of namespace/name'),
  e('gateway.empty-part', VS, 'validateGatewayNames', 'no empty namespace or name in namespace/name'),
  e('gateway.namespace', VS, 'validateGatewayNames', 'gateway namespace a DNS label'),
  e('gateway.name', VS, 'validateGatewayNames', 'gateway name a DNS label'),
  e('vs.jwt-claim-route', VS, 'ValidateVirtualService', 'no @request.auth.claims header match unless bound to gateways only'),
  e('vs.mesh-wildcard-host', VS, 'ValidateVirtualService', 'no host * for the mesh'),
  e('vs.duplicate-hosts', VS, 'ValidateVirtualService', 'hosts do not overlap'),
  e('vs.no-routes', VS, 'ValidateVirtualService', 'http, tcp or tls routes'),
  e('vs.http-nil', VS, 'ValidateVirtualService', 'no null http route', 'schema'),
  // ---- VirtualService: HTTP routes
  e('http.root-redirect', VS, 'validateHTTPRouteConflict', 'a route with delegate has no redirect'),
  e('http.root-route', VS, 'validateHTTPRouteConflict', 'a route with delegate has no route'),
  e('http.delegate-delegate', VS, 'validateHTTPRouteConflict', 'a delegate VirtualService has no delegate'),
  e('http.redirect-route', VS, 'validateHTTPRouteConflict', 'not redirect and route'),
  e('http.redirect-fault', VS, 'validateHTTPRouteConflict', 'not redirect and fault'),
  e('http.redirect-rewrite', VS, 'validateHTTPRouteConflict', 'not redirect and rewrite'),
  e('http.redirect-direct-response', VS, 'validateHTTPRouteConflict', 'not redirect and directResponse'),
  e('http.direct-response-route', VS, 'validateHTTPRouteConflict', 'not directResponse and route'),
  e('http.direct-response-fault', VS, 'validateHTTPRouteConflict', 'not directResponse and fault'),
  e('http.direct-response-rewrite', VS, 'validateHTTPRouteConflict', 'not directResponse and rewrite'),
  e('http.no-action', VS, 'validateHTTPRouteConflict', 'a route, redirect or directResponse'),
  e('http.mirror-and-mirrors', VS, 'validateHTTPRouteConflict', 'not mirror and mirrors'),
  e('match.header-nil', VS, 'validateHTTPRouteMatchRequest', 'no null header match', 'schema'),
  e('match.header-name', VS, 'ValidateHTTPHeaderNameOrJwtClaimRoute', 'header match names are tokens, pseudo-headers or JWT claims'),
  e('match.empty-prefix', VS, 'validateStringMatch', 'no empty prefix (except uri)'),
  e('match.empty-regex', VS, 'validateStringMatchRegexp', 'no empty regex'),
  e('match.regex-size', VS, 'validateStringRegexp', 'regex at most 1024 characters'),
  e('match.regex', VS, 'validateStringRegexp', 'regex compiles as RE2'),
  e('match.port', VS, 'agent.ValidatePort', 'ports 1-65535 (matches, destinations, redirects)'),
  e('match.source-namespace', VS, 'validateHTTPRouteMatchRequest', 'sourceNamespace a DNS label'),
  e('header.name-empty', VS, 'ValidateHTTPHeader*OperationName', 'header manipulation names not empty'),
  e('header.pseudo', VS, 'ValidateHTTPHeader*OperationName', 'no : header set, added or removed (except :authority on requests)'),
  e('header.host', VS, 'ValidateHTTPHeaderOperationName', 'Host not removed nor set on responses'),
  e('header.value-chars', VS, 'ValidateHTTPHeaderValue', 'header values without control characters'),
  e('header.value-format', VS, 'validateHeaderValue', "header values follow Envoy's %VAR% grammar"),
  e('cors.origin', VS, 'validateAllowOrigins', 'allowOrigins entries have a value'),
  e('cors.method', VS, 'validateCORSHTTPMethod', 'allowMethods are HTTP methods'),
  e('cors.header', VS, 'ValidateCORSHTTPHeaderName', 'allowHeaders/exposeHeaders are tokens or *'),
  e('cors.max-age-seconds', VS, 'validateCORSPolicy', 'maxAge in whole seconds'),
  e('fault.empty', VS, 'validateHTTPFaultInjection', 'fault has abort or delay'),
  e('fault.percentage', VS, 'validatePercentage', 'fault percentage 0 or 0.0001-100'),
  e('fault.grpc-status', VS, 'validateGRPCStatus', 'abort grpcStatus a gRPC code name'),
  e('fault.http2-error', VS, 'validateHTTPFaultInjectionAbort', 'no http2Error abort (not supported)'),
  e('fault.http-status', VS, 'validateHTTPStatus', 'abort httpStatus 200-600'),
  w('fault.abort-type', VS, 'validateHTTPFaultInjectionAbort', 'abort without an error type'),
  e('fault.exponential-delay', VS, 'validateHTTPFaultInjectionDelay', 'no exponentialDelay (not supported)'),
  e('mirror.percent-max', VS, 'validateHTTPRoute', 'mirrorPercent <= 100'),
  w('mirror.percent-deprecated', VS, 'validateHTTPRoute', 'mirrorPercent is deprecated'),
  e('mirror.percentage-max', VS, 'validateHTTPRoute', 'mirrorPercentage <= 100'),
  e('mirror.percentage-min', VS, 'validateHTTPRoute', 'mirrorPercentage >= 0', 'schema'),
  e('destination.wildcard', VS, 'validateDestination', 'destination host not *'),
  e('destination.subset', VS, 'validateSubsetName', 'destination subset a DNS label'),
  e('mirrors.nil', VS, 'validateHTTPMirrors', 'no null mirrors entry', 'schema'),
  e('mirrors.destination', VS, 'validateHTTPMirrors', 'mirrors entry has a destination', 'schema'),
  e('mirrors.percentage-max', VS, 'validateHTTPMirrors', 'mirrors percentage <= 100'),
  e('mirrors.percentage-min', VS, 'validateHTTPMirrors', 'mirrors percentage >= 0', 'schema'),
  e('redirect.empty', VS, 'validateHTTPRedirect', 'redirect sets uri, authority, scheme or port'),
  e('redirect.code', VS, 'validateHTTPRedirect', 'redirectCode 3xx'),
  e('redirect.scheme', VS, 'validateHTTPRedirect', 'redirect scheme http or https'),
  e('direct-response.size', VS, 'validateHTTPDirectResponse', 'directResponse body under 1MB'),
  w('direct-response.large', VS, 'validateHTTPDirectResponse', 'directResponse body over 100kB'),
  e('direct-response.status', VS, 'validateHTTPDirectResponse', 'directResponse status 200-600'),
  e('retry.attempts', VS, 'validateHTTPRetry', 'attempts >= 0'),
  e('retry.disabled', VS, 'validateHTTPRetry', 'attempts 0 without perTryTimeout, retryOn, retryRemoteLocalities'),
  e('retry.retry-on', VS, 'validateHTTPRetry', 'retryOn entries are Envoy policies or HTTP status codes'),
  e('rewrite.uri-and-regex', VS, 'validateHTTPRewrite', 'not uri and uriRegexRewrite'),
  e('rewrite.empty', VS, 'validateHTTPRewrite', 'rewrite sets uri, uriRegexRewrite or authority'),
  e('rewrite.regex-fields', VS, 'validateURIRegexRewrite', 'uriRegexRewrite has match and rewrite'),
  e('rewrite.authority-twice', VS, 'validateAuthorityRewrite', ':authority set in one place only (rewrite or a request header)'),
  e('route.weight-nil', VS, 'validateHTTPRouteDestinations', 'no null route entry', 'schema'),
  e('route.destination', VS, 'validateHTTPRouteDestinations', 'route entry has a destination', 'schema'),
  e('route.weight', VS, 'validateWeight', 'weights >= 0'),
  e('route.total-weight', VS, 'validateHTTPRouteDestinations', 'several destinations do not all weigh 0'),
  // ---- VirtualService: TLS and TCP routes
  e('tls.match-required', VS, 'validateTLSRoute', 'a tls route has a match', 'schema'),
  e('tls.match-nil', VS, 'validateTLSMatch', 'no null tls match', 'schema'),
  e('tls.sni-required', VS, 'validateTLSMatch', 'a tls match has sniHosts', 'schema'),
  w('tls.sni-ip', VS, 'validateSniHost', 'an IP address as SNI host'),
  e('tls.sni-subset', VS, 'validateSniHost', 'SNI hosts within the VirtualService hosts'),
  e('l4.subnet', VS, 'agent.ValidateIPSubnet', 'destinationSubnets are IPs or CIDRs'),
  e('tls.route-required', VS, 'validateTLSRoute', 'a tls route has a route'),
  e('tcp.match-nil', VS, 'validateTCPMatch', 'no null tcp match', 'schema'),
  e('tcp.route-required', VS, 'validateTCPRoute', 'a tcp route has a route'),
  // ---- VirtualService: unreachable rules (warnings)
  w('unreachable.second-catch-all', VS, 'analyzeUnreachable*Rules', 'only the last rule can have no matches'),
  w('unreachable.after-catch-all', VS, 'analyzeUnreachable*Rules', 'a rule after one without matches'),
  w('unreachable.all-duplicate', VS, 'analyzeUnreachable*Rules', 'a rule whose matches all appear earlier'),
  w('unreachable.duplicate-match', VS, 'analyzeUnreachable*Rules', 'a match that appears earlier'),
  w('unreachable.prefix-covered', VS, 'coveredValidation', 'a uri prefix match an earlier, shorter prefix covers'),
  // ---- not applied
  e('vs.gateway-semantics', VS, 'ValidateVirtualService', 'with internal.istio.io/route-semantics: gateway, destinations and gateway-name labels are not checked', {
    not: 'istiod sets this annotation on VirtualServices it converts from Gateway API routes; meshproof reads user YAML, where it checks them always (stricter only for a resource that carries istiod\'s internal annotation)',
  }),
];

export interface RuleCount {
  readonly total: number;
  readonly applied: number;
  readonly bySchema: number;
  readonly notApplied: readonly IstioRule[];
}

export function countRules(kind?: IstioRuleKind): RuleCount {
  const rules = ISTIO_RULES.filter((r) => kind === undefined || r.kinds.includes(kind));
  const notApplied = rules.filter((r) => typeof r.applied === 'object');
  return { total: rules.length, applied: rules.length - notApplied.length, bySchema: rules.filter((r) => r.applied === 'schema').length, notApplied };
}
