import { expect } from 'chai';
import { formatIssue } from '../issues.ts';
import { parsePolicies } from '../load-policies.ts';
import { ISTIO_RULES, countRules } from './istio-rules.ts';

const meta = (kind: string, api: string, extra = ''): string => `apiVersion: ${api}\nkind: ${kind}\nmetadata:\n  name: x\n  namespace: prod\n${extra}`;
const ap = (spec: string, extra = ''): string => `${meta('AuthorizationPolicy', 'security.istio.io/v1', extra)}spec:\n${spec}`;
const pa = (spec: string, extra = ''): string => `${meta('PeerAuthentication', 'security.istio.io/v1', extra)}spec:\n${spec}`;
const dr = (spec: string, extra = ''): string => `${meta('DestinationRule', 'networking.istio.io/v1', extra)}spec:\n${spec}`;
const vs = (spec: string, extra = ''): string => `${meta('VirtualService', 'networking.istio.io/v1', extra)}spec:\n${spec}`;
/** A DestinationRule whose top-level traffic policy is `tp` (YAML flow mapping). */
const tp = (policy: string): string => dr(`  host: pay\n  trafficPolicy: ${policy}`);
/** A VirtualService with one HTTP route `route` (YAML flow mapping); `hosts` default [pay]. */
const route = (r: string, hosts = '[pay]'): string => vs(`  hosts: ${hosts}\n  http:\n  - ${r}`);
const DEST = 'route: [{destination: {host: pay}}]';
const ruleWith = (when: string): string => ap(`  rules:\n  - when: [${when}]`);
const source = (s: string, action = ''): string => ap(`${action}  rules:\n  - from: [{source: ${s}}]`);
const operation = (o: string): string => ap(`  rules:\n  - to: [{operation: ${o}}]`);

/** Rule id → a document that breaks it, the field the issue must name, and words of its message. */
const examples: Readonly<Record<string, readonly [string, string, RegExp]>> = {
  'meta.dry-run-kind': [pa('  mtls: {mode: STRICT}', '  annotations: {istio.io/dry-run: "true"}\n'), 'metadata.annotations["istio.io/dry-run"]', /unsupported annotation istio\.io\/dry-run/],
  'meta.dry-run-action': [ap('  action: AUDIT\n  rules: [{}]', '  annotations: {istio.io/dry-run: "true"}\n'), 'metadata.annotations["istio.io/dry-run"]', /only supports action ALLOW\/DENY/],
  'meta.dry-run-value': [ap('  rules: [{}]', '  annotations: {istio.io/dry-run: "yes"}\n'), 'metadata.annotations["istio.io/dry-run"]', /invalid value \(yes\)/],
  'meta.always-reject': [dr('  host: pay', '  annotations: {internal.istio.io/webhook-always-reject: "x"}\n'), 'metadata.annotations["internal.istio.io/webhook-always-reject"]', /annotation found, rejecting/],
  'meta.parent-namespace': [vs(`  hosts: [pay]\n  http: [{${DEST}}]`, '  annotations: {internal.istio.io/parent-namespace: "x"}\n'), 'metadata.annotations["internal.istio.io/parent-namespace"]', /may not be set by users/],
  'meta.parents': [pa('  mtls: {mode: STRICT}', '  annotations: {internal.istio.io/parents: "x"}\n'), 'metadata.annotations["internal.istio.io/parents"]', /may not be set by users/],
  'selector.empty-key': [pa('  selector: {matchLabels: {"": a}}'), 'spec.selector.matchLabels[""]', /empty key is not supported/],
  'selector.wildcard': [dr('  host: pay\n  workloadSelector: {matchLabels: {app: "*"}}'), 'spec.workloadSelector.matchLabels.app', /wildcard is not supported in selector/],
  'selector.no-labels': [pa('  selector: {}\n  mtls: {mode: STRICT}'), 'spec.selector', /workload selector specified without labels/],
  'ap.one-of-selector': [ap('  selector: {matchLabels: {app: pay}}\n  targetRef: {kind: Service, group: "", name: pay}'), 'spec', /only one of targetRefs or workloadSelector/],
  'ap.target-name': [ap('  targetRef: {kind: Service, group: ""}'), 'spec.targetRef.name', /required field 'name'/],
  'ap.target-namespace': [ap('  targetRef: {kind: Service, group: "", name: pay, namespace: other}'), 'spec.targetRef.namespace', /cross namespace referencing is not supported/],
  'ap.target-kind': [ap('  targetRefs: [{kind: Pod, group: "", name: pay}]'), 'spec.targetRefs[0]', /but was \/Pod/],
  'ap.custom-no-rules': [ap('  action: CUSTOM\n  provider: {name: ext}'), 'spec.rules', /CUSTOM action without `rules`/],
  'ap.custom-provider': [ap('  action: CUSTOM\n  rules: [{}]'), 'spec.provider', /`provider.name` must not be empty/],
  'ap.custom-source': [source('{namespaces: [a]}', '  action: CUSTOM\n  provider: {name: ext}\n'), 'spec.rules[0].from[0].source.namespaces', /namespaces is not supported with the CUSTOM action/],
  'ap.custom-when-nil': [ap('  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - when: [null]'), 'spec.rules[0].when[0]', /must be of type object/],
  'ap.custom-when-key': [ap('  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - when: [{key: request.auth.principal, values: [a]}]'), 'spec.rules[0].when[0].key', /request\.auth\.principal is not supported with the CUSTOM action/],
  'ap.provider-not-custom': [ap('  action: DENY\n  provider: {name: ext}\n  rules: [{}]'), 'spec.provider', /must not be with non CUSTOM action, found DENY/],
  'ap.deny-no-rules': [ap('  action: DENY'), 'spec.rules', /DENY action without `rules`/],
  'ap.rule-nil': [ap('  rules: [null]'), 'spec.rules[0]', /must be of type object/],
  'ap.from-empty': [ap('  rules:\n  - from: []'), 'spec.rules[0].from', /`from` must not be empty/],
  'ap.from-nil': [ap('  rules:\n  - from: [null]'), 'spec.rules[0].from[0]', /must be of type object/],
  'ap.source-nil': [ap('  rules:\n  - from: [{}]'), 'spec.rules[0].from[0].source', /`from.source` must not be nil/],
  'ap.sa-with-principals': [source('{serviceAccounts: [a], namespaces: [b]}'), 'spec.rules[0].from[0].source.serviceAccounts', /cannot set serviceAccounts with namespaces or principals/],
  'ap.source-empty': [source('{principals: []}'), 'spec.rules[0].from[0].source', /`from.source` must not be empty/],
  'ap.ip-blocks': [source('{remoteIpBlocks: ["10.0.0.256"]}'), 'spec.rules[0].from[0].source.remoteIpBlocks[0]', /not an IP address or CIDR/],
  'ap.empty-value': [operation('{methods: [GET, ""]}'), 'spec.rules[0].to[0].operation.methods[1]', /empty value not allowed, found in methods/],
  'ap.sa-count': [source('{serviceAccounts: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q]}'), 'spec.rules[0].from[0].source.serviceAccounts', /more than 16 items/],
  'ap.sa-wildcard': [source('{serviceAccounts: ["prod/*"]}'), 'spec.rules[0].from[0].source.serviceAccounts[0]', /wildcard not allowed/],
  'ap.sa-format': [source('{notServiceAccounts: ["a/b/c"]}'), 'spec.rules[0].from[0].source.notServiceAccounts[0]', /expected format 'serviceAccount' or 'namespace\/serviceAccount'/],
  'ap.sa-length': [source(`{serviceAccounts: ["${'a'.repeat(321)}"]}`), 'spec.rules[0].from[0].source.serviceAccounts[0]', /longer than 320 characters/],
  'ap.sa-empty-part': [source('{serviceAccounts: ["prod/"]}'), 'spec.rules[0].from[0].source.serviceAccounts[0]', /found empty serviceAccount/],
  'ap.wildcard-count': [source('{trustDomains: ["*.a.*"]}'), 'spec.rules[0].from[0].source.trustDomains[0]', /at most one wildcard is allowed/],
  'ap.wildcard-position': [ruleWith('{key: source.trustDomain, values: ["a*b"]}'), 'spec.rules[0].when[0].values[0]', /wildcard is only allowed at the start or end/],
  'ap.trust-domain-slash': [source('{notTrustDomains: ["td/ns"]}'), 'spec.rules[0].from[0].source.notTrustDomains[0]', /trust domain must not contain '\/'/],
  'ap.to-empty': [ap('  rules:\n  - to: []'), 'spec.rules[0].to', /`to` must not be empty/],
  'ap.to-nil': [ap('  rules:\n  - to: [null]'), 'spec.rules[0].to[0]', /must be of type object/],
  'ap.operation-nil': [ap('  rules:\n  - to: [{}]'), 'spec.rules[0].to[0].operation', /`to.operation` must not be nil/],
  'ap.operation-empty': [operation('{}'), 'spec.rules[0].to[0].operation', /`to.operation` must not be empty/],
  'ap.ports': [operation('{notPorts: ["70000"]}'), 'spec.rules[0].to[0].operation.notPorts[0]', /not a port number/],
  'ap.path-any-last': [operation('{paths: ["/{**}/a/{*}"]}'), 'spec.rules[0].to[0].operation.paths[0]', /\{\*\*\} is not the last operator/],
  'ap.path-braces': [operation('{notPaths: ["/a/{id}"]}'), 'spec.rules[0].to[0].operation.notPaths[0]', /contains '\{' or '\}' beyond a supported path template/],
  'ap.path-literal': [operation('{paths: ["/a/{*}/b c"]}'), 'spec.rules[0].to[0].operation.paths[0]', /invalid string literal/],
  'ap.when-key': [ruleWith('{key: "", values: [a]}'), 'spec.rules[0].when[0].key', /`key` must not be empty/],
  'ap.when-values': [ruleWith('{key: source.ip}'), 'spec.rules[0].when[0]', /at least one of `values` or `notValues`/],
  'ap.when-empty-value': [ruleWith('{key: source.namespace, values: [""]}'), 'spec.rules[0].when[0].values[0]', /empty value not allowed/],
  'ap.when-map-key': [ruleWith('{key: "request.headers[]", values: [a]}'), 'spec.rules[0].when[0].key', /should have format a\[b\]/],
  'ap.when-ip': [ruleWith('{key: destination.ip, notValues: ["1.2.3"]}'), 'spec.rules[0].when[0].notValues[0]', /not an IP address or CIDR/],
  'ap.when-service-account': [ruleWith('{key: source.serviceAccount, values: ["a/b/c"]}'), 'spec.rules[0].when[0].values[0]', /expected format/],
  'ap.when-port': [ruleWith('{key: destination.port, values: ["http"]}'), 'spec.rules[0].when[0].values[0]', /not a port number/],
  'ap.when-destination-namespace': [ruleWith('{key: destination.namespace, values: [a]}'), 'spec.rules[0].when[0].key', /replaced by the metadata\.namespace/],
  'ap.when-destination-labels': [ruleWith('{key: "destination.labels[app]", values: [a]}'), 'spec.rules[0].when[0].key', /replaced by the workload selector/],
  'ap.when-destination-name': [ruleWith('{key: destination.user, values: [a]}'), 'spec.rules[0].when[0].key', /only supported in v1alpha1/],
  'ap.when-unknown': [ruleWith('{key: source.name, values: [a]}'), 'spec.rules[0].when[0].key', /unknown attribute: source\.name/],
  'ap.deny-http-only': [ap('  action: DENY\n  rules:\n  - from: [{source: {requestPrincipals: ["*"]}}]'), 'spec.rules[0]', /deny all traffic to TCP ports/],
  'pa.port-level-selector': [pa('  portLevelMtls: {"80": {mode: STRICT}}'), 'spec.portLevelMtls', /portLevelMtls requires selector/],
  'pa.port-level-empty': [pa('  selector: {matchLabels: {app: a}}\n  portLevelMtls: {}'), 'spec.portLevelMtls', /must NOT have less than 1 property/],
  'pa.port-range': [pa('  selector: {matchLabels: {app: a}}\n  portLevelMtls: {"0": {mode: STRICT}}'), 'spec.portLevelMtls["0"]', /port must be in range 1\.\.65535/],
  'host.empty': [dr('  host: ""'), 'spec.host', /empty domain name not allowed/],
  'host.too-long': [dr(`  host: ${'a.'.repeat(128)}com`), 'spec.host', /too long \(max 255\)/],
  'host.first-label': [dr('  host: "*a*.example.com"'), 'spec.host', /label "\*a\*" invalid/],
  'host.label': [route(DEST, '[pay.ex_ample.com]'), 'spec.hosts[0]', /label "ex_ample" invalid/],
  'host.numeric-tld': [dr('  host: pay.123'), 'spec.host', /top level domain "123" cannot be all-numeric/],
  'host.auto-sni': [vs('  hosts: ["*.example.com"]\n  gateways: [istio-system/gw]\n  tls:\n  - match: [{sniHosts: ["outbound_.x_._.pay"]}]\n    route: [{destination: {host: pay}}]'), 'spec.tls[0].match[0].sniHosts[0]', /should follow outbound_\.<port>_\._\.<hostname> format/],
  'labels.key': [dr('  host: pay\n  subsets: [{name: v1, labels: {"-bad": a}}]'), 'spec.subsets[0].labels["-bad"]', /invalid tag key/],
  'labels.prefix-length': [dr(`  host: pay\n  subsets: [{name: v1, labels: {"${'a.'.repeat(127)}a/k": a}}]`), `spec.subsets[0].labels["${'a.'.repeat(127)}a/k"]`, /DNS prefix is too long/],
  'labels.name-length': [route(`match: [{sourceLabels: {${'k'.repeat(64)}: a}}]\n    ${DEST}`), `spec.http[0].match[0].sourceLabels.${'k'.repeat(64)}`, /name is too long/],
  'labels.value': [dr('  host: pay\n  subsets: [{name: v1, labels: {app: "a b"}}]'), 'spec.subsets[0].labels.app', /invalid tag value/],
  'export.duplicate': [dr('  host: pay\n  exportTo: [prod, "."]'), 'spec.exportTo[1]', /duplicate entries in exportTo: \. and current namespace prod/],
  'export.none': [route(DEST).replace('  hosts:', '  exportTo: ["~"]\n  hosts:'), 'spec.exportTo[0]', /exportTo ~ \(none\) is not allowed/],
  'export.value': [dr('  host: pay\n  exportTo: [Bad_NS]'), 'spec.exportTo[0]', /only \.,\*, or a valid DNS 1123 label/],
  'export.selector-beyond': [dr('  host: pay\n  workloadSelector: {matchLabels: {app: a}}\n  exportTo: [other]'), 'spec.exportTo', /cannot have exportTo beyond current namespace/],
  'export.selector-multiple': [dr('  host: pay\n  workloadSelector: {matchLabels: {app: a}}\n  exportTo: [., other]'), 'spec.exportTo', /cannot have multiple entries in exportTo/],
  'export.public-alone': [dr('  host: pay\n  exportTo: ["*", other]'), 'spec.exportTo', /cannot have both public \(\*\) and non-public/],
  'duration.min': [route(`timeout: 0s\n    ${DEST}`), 'spec.http[0].timeout', /duration must be greater than 1ms/],
  'duration.ms': [tp('{outlierDetection: {interval: 1500us}}'), 'spec.trafficPolicy.outlierDetection.interval', /only durations to ms precision/],
  'dr.subset-nil': [dr('  host: pay\n  subsets: [null]'), 'spec.subsets[0]', /must be of type object/],
  'dr.subset-duplicate': [dr('  host: pay\n  subsets: [{name: a}, {name: a}]'), 'spec.subsets[1].name', /duplicate subset names: a/],
  'dr.subset-name-empty': [dr('  host: pay\n  subsets: [{name: ""}]'), 'spec.subsets[0].name', /subset name cannot be empty/],
  'dr.subset-name': [dr('  host: pay\n  subsets: [{name: v1.2}]'), 'spec.subsets[0].name', /subset name is invalid: v1\.2/],
  'tp.empty': [tp('{}'), 'spec.trafficPolicy', /traffic policy must have at least one field/],
  'tp.tunnel-proxy-protocol': [tp('{tunnel: {targetHost: a.b, targetPort: 80}, proxyProtocol: {version: V1}}'), 'spec.trafficPolicy', /tunnel and proxyProtocol must not be set together/],
  'od.consecutive-errors': [tp('{outlierDetection: {consecutiveErrors: 3}}'), 'spec.trafficPolicy.outlierDetection.consecutiveErrors', /consecutive errors is deprecated/],
  'od.local-origin': [tp('{outlierDetection: {consecutiveLocalOriginFailures: 2}}'), 'spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures', /split external local origin errors is set to false/],
  'od.percent': [tp('{outlierDetection: {minHealthPercent: 101}}'), 'spec.trafficPolicy.outlierDetection.minHealthPercent', /between 0 and 100/],
  'cp.empty': [tp('{connectionPool: {}}'), 'spec.trafficPolicy.connectionPool', /connection pool must have at least one field/],
  'cp.http1-max-pending': [tp('{connectionPool: {http: {http1MaxPendingRequests: -1}}}'), 'spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests', /must not be negative/],
  'cp.http2-max-requests': [tp('{connectionPool: {http: {http2MaxRequests: -1}}}'), 'spec.trafficPolicy.connectionPool.http.http2MaxRequests', /must not be negative/],
  'cp.max-requests-per-connection': [tp('{connectionPool: {http: {maxRequestsPerConnection: -1}}}'), 'spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection', /must not be negative/],
  'cp.max-retries': [tp('{connectionPool: {http: {maxRetries: -1}}}'), 'spec.trafficPolicy.connectionPool.http.maxRetries', /must not be negative/],
  'cp.upgrade-client-protocol': [tp('{connectionPool: {http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}}}'), 'spec.trafficPolicy.connectionPool.http.useClientProtocol', /must not be true when H2UpgradePolicy is UPGRADE/],
  'cp.max-concurrent-streams': [tp('{connectionPool: {http: {maxConcurrentStreams: -1}}}'), 'spec.trafficPolicy.connectionPool.http.maxConcurrentStreams', /must not be negative/],
  'cp.max-connections': [tp('{connectionPool: {tcp: {maxConnections: -1}}}'), 'spec.trafficPolicy.connectionPool.tcp.maxConnections', /must not be negative/],
  'lb.cookie-name': [tp('{loadBalancer: {consistentHash: {httpCookie: {ttl: 10s}}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name', /required field 'name'/],
  'lb.cookie-attribute-name': [tp('{loadBalancer: {consistentHash: {httpCookie: {name: c, attributes: [{value: v}]}}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[0].name', /required field 'name'/],
  'lb.cookie-attribute-duplicate': [tp('{loadBalancer: {consistentHash: {httpCookie: {name: c, attributes: [{name: a}, {name: a}]}}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[1].name', /duplicate cookie attribute name: a/],
  'lb.minimum-ring-size': [tp('{loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 1024}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize', /MinimumRingSize is deprecated/],
  'lb.minimum-ring-size-with-algorithm': [tp('{loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 1024, maglev: {tableSize: 65537}}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize', /only one of MinimumRingSize or Maglev\/Ringhash/],
  'lb.maglev-size-set': [tp('{loadBalancer: {consistentHash: {useSourceIp: true, maglev: {}}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', /tableSize must be set for maglev/],
  'lb.maglev-size-max': [tp('{loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 5000011}}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', /tableSize must be less than 5000011/],
  'lb.maglev-size-prime': [tp('{loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65536}}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', /tableSize must be a prime number/],
  'locality.distribute-and-failover': [tp('{outlierDetection: {}, loadBalancer: {localityLbSetting: {distribute: [{from: a, to: {b: 100}}], failover: [{from: a, to: b}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting', /can not simultaneously specify 'distribute' and 'failover'/],
  'locality.failover-priority': [tp('{outlierDetection: {}, loadBalancer: {localityLbSetting: {failover: [{from: a, to: b}], failoverPriority: [topology.kubernetes.io/zone]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting.failoverPriority', /can not simultaneously set 'failover' and topology label/],
  'locality.weight': [tp('{loadBalancer: {localityLbSetting: {distribute: [{from: a, to: {b: 0, c: 100}}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to', /locality weight must be in range \[1, 100\]/],
  'locality.weight-total': [tp('{loadBalancer: {localityLbSetting: {distribute: [{from: a, to: {b: 50}}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to', /total locality weight 50 != 100/],
  'locality.wildcard': [tp('{loadBalancer: {localityLbSetting: {distribute: [{from: "a/*/c", to: {b: 100}}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute', /wildcard '\*' number can not exceed 1 and must be in the end/],
  'locality.empty-part': [tp('{loadBalancer: {localityLbSetting: {distribute: [{from: a, to: {"b//c": 100}}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to', /must not contain empty region\/zone\/subzone/],
  'locality.overlap': [tp('{loadBalancer: {localityLbSetting: {distribute: [{from: "us/*", to: {b: 100}}, {from: us/east, to: {b: 100}}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute', /locality us\/east overlap with previous specified ones/],
  'locality.failover-outlier': [tp('{loadBalancer: {localityLbSetting: {failover: [{from: a, to: b}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting', /outlier detection policy must be provided for failover/],
  'locality.failover-same': [tp('{outlierDetection: {}, loadBalancer: {localityLbSetting: {failover: [{from: a, to: a}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]', /must specify different regions/],
  'locality.failover-region': [tp('{outlierDetection: {}, loadBalancer: {localityLbSetting: {failover: [{from: a/z, to: b}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]', /only specify region/],
  'locality.failover-wildcard': [tp('{outlierDetection: {}, loadBalancer: {localityLbSetting: {failover: [{from: a, to: "*"}]}}}'), 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]', /should not contain '\*' wildcard/],
  'warmup.duration-required': [tp('{loadBalancer: {warmup: {minimumPercent: 10}}}'), 'spec.trafficPolicy.loadBalancer.warmup.duration', /required field 'duration'/],
  'warmup.minimum-percent': [tp('{loadBalancer: {warmup: {duration: 10s, minimumPercent: 101}}}'), 'spec.trafficPolicy.loadBalancer.warmup.minimumPercent', /must be <= 100/],
  'warmup.aggression': [tp('{loadBalancer: {warmup: {duration: 10s, aggression: 0.5}}}'), 'spec.trafficPolicy.loadBalancer.warmup.aggression', /aggression should be greater than or equal to 1/],
  'tls.configmap-name': [tp('{tls: {mode: SIMPLE, credentialName: "configmap://only-name"}}'), 'spec.trafficPolicy.tls.credentialName', /Expected namespace and name/],
  'tls.configmap-namespace': [tp('{tls: {mode: SIMPLE, credentialName: "configmap://other/ca"}}'), 'spec.trafficPolicy.tls.credentialName', /namespace must match the configuration namespace "prod"/],
  'tls.insecure-simple': [tp('{tls: {mode: SIMPLE, insecureSkipVerify: true, subjectAltNames: [pay]}}'), 'spec.trafficPolicy.tls.insecureSkipVerify', /cannot specify CaCertificates or CredentialName or SubjectAltNames/],
  'tls.insecure-mutual': [tp('{tls: {mode: MUTUAL, insecureSkipVerify: true, caCertificates: /ca.pem, clientCertificate: /c.pem, privateKey: /k.pem}}'), 'spec.trafficPolicy.tls.insecureSkipVerify', /cannot specify CaCertificates or SubjectAltNames/],
  'tls.credential-and-files': [tp('{tls: {mode: MUTUAL, credentialName: cred, privateKey: /k.pem}}'), 'spec.trafficPolicy.tls.credentialName', /cannot specify client certificates or CA certificate or CA CRL If credentialName is set/],
  'tls.mutual-certificate': [tp('{tls: {mode: MUTUAL, privateKey: /k.pem}}'), 'spec.trafficPolicy.tls.clientCertificate', /client certificate required for mutual tls/],
  'tls.mutual-key': [tp('{tls: {mode: MUTUAL, clientCertificate: /c.pem}}'), 'spec.trafficPolicy.tls.privateKey', /private key required for mutual tls/],
  'pls.nil': [tp('{portLevelSettings: [null]}'), 'spec.trafficPolicy.portLevelSettings[0]', /must be of type object/],
  'pls.port': [tp('{portLevelSettings: [{tls: {mode: ISTIO_MUTUAL}}]}'), 'spec.trafficPolicy.portLevelSettings[0].port', /portTrafficPolicy must have valid port/],
  'pls.empty': [tp('{portLevelSettings: [{port: {number: 80}}]}'), 'spec.trafficPolicy.portLevelSettings[0]', /port traffic policy must have at least one field/],
  'tunnel.protocol': [tp('{tunnel: {protocol: GET, targetHost: a.b, targetPort: 80}}'), 'spec.trafficPolicy.tunnel.protocol', /tunnel protocol must be "CONNECT" or "POST"/],
  'tunnel.host': [tp('{tunnel: {targetHost: "a b", targetPort: 80}}'), 'spec.trafficPolicy.tunnel.targetHost', /must be valid FQDN or IP address/],
  'tunnel.port': [tp('{tunnel: {targetHost: 10.0.0.1, targetPort: 0}}'), 'spec.trafficPolicy.tunnel.targetPort', /tunnel target port is invalid/],
  'proxy-protocol.version': [tp('{proxyProtocol: {version: V3}}'), 'spec.trafficPolicy.proxyProtocol.version', /must be one of "V1", "V2"/],
  'vs.delegate-gateways': [vs(`  gateways: [gw]\n  http: [{${DEST}}]`), 'spec.gateways', /delegate virtual service must have no gateways/],
  'vs.delegate-tls': [vs(`  http: [{${DEST}}]\n  tls: [{match: [{sniHosts: [a.b]}], ${DEST}}]`), 'spec.tls', /delegate virtual service must have no tls route/],
  'vs.delegate-tcp': [vs(`  tcp: [{${DEST}}]`), 'spec.tcp', /delegate virtual service must have no tcp route/],
  'gateway.legacy-name': [vs(`  hosts: [pay.example.com]\n  gateways: [gw.istio-system]\n  http: [{${DEST}}]`), 'spec.gateways[0]', /using legacy gatewayName format "gw\.istio-system"; prefer the <namespace>\/<name> format: "istio-system\/gw"/],
  'gateway.empty-part': [route(`match: [{gateways: ["ns/"]}]\n    ${DEST}`), 'spec.http[0].match[0].gateways[0]', /config namespace and gateway name cannot be empty/],
  'gateway.namespace': [vs(`  hosts: [pay.example.com]\n  gateways: ["Istio_System/gw"]\n  http: [{${DEST}}]`), 'spec.gateways[0]', /invalid value for namespace: "Istio_System"/],
  'gateway.name': [vs(`  hosts: [pay.example.com]\n  gateways: [istio-system/gw.1]\n  http: [{${DEST}}]`), 'spec.gateways[0]', /invalid value for gateway name: "gw\.1"/],
  'vs.jwt-claim-route': [route(`match: [{withoutHeaders: {"@request.auth.claims[group]": {exact: a}}}]\n    ${DEST}`), 'spec.http[0].match[0].withoutHeaders["@request.auth.claims[group]"]', /JWT claim based routing/],
  'vs.mesh-wildcard-host': [vs(`  hosts: ["*"]\n  gateways: [mesh, istio-system/gw]\n  http: [{${DEST}}]`), 'spec.hosts[0]', /wildcard host \* is not allowed/],
  'vs.duplicate-hosts': [route(DEST, '[pay, pay]'), 'spec.hosts[1]', /duplicate hosts in virtual service: pay & pay/],
  'vs.no-routes': [vs('  hosts: [pay]\n  http: []'), 'spec', /http, tcp or tls must be provided/],
  'vs.http-nil': [vs('  hosts: [pay]\n  http: [null]'), 'spec.http[0]', /must be of type object/],
  'http.root-redirect': [route('delegate: {name: d}\n    redirect: {uri: /x}'), 'spec.http[0].redirect', /root HTTP route {2}must not specify redirect/],
  'http.root-route': [route(`delegate: {name: d}\n    ${DEST}`), 'spec.http[0].route', /must not specify route/],
  'http.delegate-delegate': [vs(`  http: [{delegate: {name: d}, ${DEST}}]`), 'spec.http[0].delegate', /delegate HTTP route cannot contain delegate/],
  'http.redirect-route': [route(`redirect: {uri: /x}\n    ${DEST}`), 'spec.http[0].redirect', /cannot contain both route and redirect/],
  'http.redirect-fault': [route('redirect: {uri: /x}\n    fault: {abort: {httpStatus: 500, percentage: {value: 1}}}'), 'spec.http[0].redirect', /cannot contain both fault and redirect/],
  'http.redirect-rewrite': [route('redirect: {uri: /x}\n    rewrite: {uri: /y}'), 'spec.http[0].redirect', /cannot contain both rewrite and redirect/],
  'http.redirect-direct-response': [route('redirect: {uri: /x}\n    directResponse: {status: 200}'), 'spec.http[0].redirect', /cannot contain both direct_response and redirect/],
  'http.direct-response-route': [route(`directResponse: {status: 200}\n    ${DEST}`), 'spec.http[0].directResponse', /cannot contain both route and direct_response/],
  'http.direct-response-fault': [route('directResponse: {status: 200}\n    fault: {delay: {fixedDelay: 1s}}'), 'spec.http[0].directResponse', /cannot contain both fault and direct_response/],
  'http.direct-response-rewrite': [route('directResponse: {status: 200}\n    rewrite: {uri: /y}'), 'spec.http[0].directResponse', /cannot contain both rewrite and direct_response/],
  'http.no-action': [route('timeout: 1s'), 'spec.http[0]', /HTTP route, redirect or direct_response is required/],
  'http.mirror-and-mirrors': [route(`mirror: {host: m}\n    mirrors: [{destination: {host: n}}]\n    ${DEST}`), 'spec.http[0].mirrors', /cannot contain both mirror and mirrors/],
  'match.header-nil': [route(`match: [{headers: {x-a: null}}]\n    ${DEST}`), 'spec.http[0].match[0].headers.x-a', /must be of type object/],
  'match.header-name': [route(`match: [{headers: {"x a": {exact: b}}}]\n    ${DEST}`), 'spec.http[0].match[0].headers["x a"]', /header name x a is not a valid header name/],
  'match.empty-prefix': [route(`match: [{authority: {prefix: ""}}]\n    ${DEST}`), 'spec.http[0].match[0].authority.prefix', /prefix string match should not be empty/],
  'match.empty-regex': [route(`match: [{queryParams: {q: {regex: ""}}}]\n    ${DEST}`), 'spec.http[0].match[0].queryParams.q.regex', /regex string match should not be empty/],
  'match.regex-size': [route(`match: [{uri: {regex: "${'a'.repeat(1025)}"}}]\n    ${DEST}`), 'spec.http[0].match[0].uri.regex', /regex is too large/],
  'match.regex': [route(`match: [{method: {regex: "(G|P"}}]\n    ${DEST}`), 'spec.http[0].match[0].method.regex', /Istio uses RE2 style regex/],
  'match.port': [route(`match: [{port: 70000}]\n    ${DEST}`), 'spec.http[0].match[0].port', /port number 70000 must be in the range 1\.\.65535/],
  'match.source-namespace': [route(`match: [{sourceNamespace: Prod_NS}]\n    ${DEST}`), 'spec.http[0].match[0].sourceNamespace', /sourceNamespace match Prod_NS is invalid/],
  'header.name-empty': [route(`headers: {request: {remove: [""]}}\n    ${DEST}`), 'spec.http[0].headers.request.remove[0]', /header name cannot be empty/],
  'header.pseudo': [route(`headers: {request: {set: {":path": /x}}}\n    ${DEST}`), 'spec.http[0].headers.request.set[":path"]', /header cannot have ":" prefix/],
  'header.host': [route(`headers: {response: {set: {Host: x}}}\n    ${DEST}`), 'spec.http[0].headers.response.set.Host', /cannot set Host header/],
  'header.value-chars': [route(`route: [{destination: {host: pay}, headers: {request: {add: {x-a: "a\\u0001"}}}}]`), 'spec.http[0].route[0].headers.request.add.x-a', /header value configuration .* is invalid/],
  'header.value-format': [route(`headers: {response: {add: {x-a: "100%"}}}\n    ${DEST}`), 'spec.http[0].headers.response.add.x-a', /Un-escaped %/],
  'cors.origin': [route(`corsPolicy: {allowOrigins: [{exact: ""}]}\n    ${DEST}`), 'spec.http[0].corsPolicy.allowOrigins[0]', /is not a valid match type for CORS allow origins/],
  'cors.method': [route(`corsPolicy: {allowMethods: [get]}\n    ${DEST}`), 'spec.http[0].corsPolicy.allowMethods[0]', /"get" is not a supported HTTP method/],
  'cors.header': [route(`corsPolicy: {exposeHeaders: ["x y"]}\n    ${DEST}`), 'spec.http[0].corsPolicy.exposeHeaders[0]', /is not a valid header name/],
  'cors.max-age-seconds': [route(`corsPolicy: {maxAge: 1500ms}\n    ${DEST}`), 'spec.http[0].corsPolicy.maxAge', /accurate only to seconds precision/],
  'fault.empty': [route(`fault: {}\n    ${DEST}`), 'spec.http[0].fault', /must have an abort and\/or a delay/],
  'fault.percentage': [route(`fault: {delay: {fixedDelay: 1s, percentage: {value: 0.00001}}}\n    ${DEST}`), 'spec.http[0].fault.delay.percentage.value', /neither 0\.0, nor in range \[0\.0001, 100\.0\]/],
  'fault.grpc-status': [route(`fault: {abort: {grpcStatus: UNAVAILABLE_NOW, percentage: {value: 1}}}\n    ${DEST}`), 'spec.http[0].fault.abort.grpcStatus', /gRPC status "UNAVAILABLE_NOW" is not supported/],
  'fault.http2-error': [route(`fault: {abort: {http2Error: CANCEL, percentage: {value: 1}}}\n    ${DEST}`), 'spec.http[0].fault.abort.http2Error', /HTTP\/2 abort fault injection not supported yet/],
  'fault.http-status': [route(`fault: {abort: {httpStatus: 199, percentage: {value: 1}}}\n    ${DEST}`), 'spec.http[0].fault.abort.httpStatus', /HTTP status 199 is not in range 200-599/],
  'fault.abort-type': [route(`fault: {abort: {percentage: {value: 1}}}\n    ${DEST}`), 'spec.http[0].fault.abort', /abort configured, but error type not set/],
  'fault.exponential-delay': [route(`fault: {delay: {exponentialDelay: 1s}}\n    ${DEST}`), 'spec.http[0].fault.delay.exponentialDelay', /exponentialDelay not supported yet/],
  'mirror.percent-max': [route(`mirror: {host: m}\n    mirrorPercent: 101\n    ${DEST}`), 'spec.http[0].mirrorPercent', /mirror_percent must have a max value of 100/],
  'mirror.percent-deprecated': [route(`mirror: {host: m}\n    mirrorPercent: 10\n    ${DEST}`), 'spec.http[0].mirrorPercent', /deprecated setting "mirrorPercent"/],
  'mirror.percentage-max': [route(`mirror: {host: m}\n    mirrorPercentage: {value: 100.5}\n    ${DEST}`), 'spec.http[0].mirrorPercentage.value', /mirror_percentage must have a max value of 100/],
  'mirror.percentage-min': [route(`mirror: {host: m}\n    mirrorPercentage: {value: -1}\n    ${DEST}`), 'spec.http[0].mirrorPercentage.value', /must be >= 0|min value of 0/],
  'destination.wildcard': [route('route: [{destination: {host: "*"}}]'), 'spec.http[0].route[0].destination.host', /invalid destination host \*/],
  'destination.subset': [route('route: [{destination: {host: pay, subset: V_1}}]'), 'spec.http[0].route[0].destination.subset', /subset name is invalid: V_1/],
  'mirrors.nil': [route(`mirrors: [null]\n    ${DEST}`), 'spec.http[0].mirrors[0]', /must be of type object/],
  'mirrors.destination': [route(`mirrors: [{percentage: {value: 5}}]\n    ${DEST}`), 'spec.http[0].mirrors[0].destination', /required field 'destination'/],
  'mirrors.percentage-max': [route(`mirrors: [{destination: {host: m}, percentage: {value: 120}}]\n    ${DEST}`), 'spec.http[0].mirrors[0].percentage.value', /mirror percentage must have a max value of 100/],
  'mirrors.percentage-min': [route(`mirrors: [{destination: {host: m}, percentage: {value: -5}}]\n    ${DEST}`), 'spec.http[0].mirrors[0].percentage.value', /must be >= 0|min value of 0/],
  'redirect.empty': [route('redirect: {redirectCode: 301}'), 'spec.http[0].redirect', /redirect must specify URI, authority, scheme, or port/],
  'redirect.code': [route('redirect: {uri: /x, redirectCode: 200}'), 'spec.http[0].redirect.redirectCode', /200 is not a valid redirect code, must be 3xx/],
  'redirect.scheme': [route('redirect: {uri: /x, scheme: ftp}'), 'spec.http[0].redirect.scheme', /invalid redirect scheme/],
  'direct-response.size': [route(`directResponse: {status: 200, body: {string: "${'x'.repeat(1024 * 1024 + 1)}"}}`), 'spec.http[0].directResponse.body', /must be less than 1MB/],
  'direct-response.large': [route(`directResponse: {status: 200, body: {string: "${'x'.repeat(100 * 1024 + 1)}"}}`), 'spec.http[0].directResponse.body', /large direct_responses may impact control plane performance$/],
  'direct-response.status': [route('directResponse: {status: 700}'), 'spec.http[0].directResponse.status', /HTTP status 700 is not in range 200-599/],
  'retry.attempts': [route(`retries: {attempts: -1}\n    ${DEST}`), 'spec.http[0].retries.attempts', /attempts cannot be negative/],
  'retry.disabled': [route(`retries: {attempts: 0, retryOn: 5xx}\n    ${DEST}`), 'spec.http[0].retries.attempts', /http retry policy configured when attempts are set to 0/],
  'retry.retry-on': [route(`retries: {attempts: 2, retryOn: "5xx, reset"}\n    ${DEST}`), 'spec.http[0].retries.retryOn', /" reset" is not a valid retryOn policy/],
  'rewrite.uri-and-regex': [route(`rewrite: {uri: /a, uriRegexRewrite: {match: a, rewrite: b}}\n    ${DEST}`), 'spec.http[0].rewrite', /rewrite may only contain one of URI or UriRegexRewrite/],
  'rewrite.empty': [route(`rewrite: {}\n    ${DEST}`), 'spec.http[0].rewrite', /rewrite must specify at least one of URI, UriRegexRewrite, or authority/],
  'rewrite.regex-fields': [route(`rewrite: {uriRegexRewrite: {match: "^/a"}}\n    ${DEST}`), 'spec.http[0].rewrite.uriRegexRewrite', /requires both Rewrite and Match/],
  'rewrite.authority-twice': [route(`headers: {request: {set: {host: a}, add: {":authority": b}}}\n    ${DEST}`), 'spec.http[0].headers.request.add[":authority"]', /authority header cannot be set multiple times: have "a", attempting to set "b"/],
  'route.weight-nil': [route('route: [null]'), 'spec.http[0].route[0]', /must be of type object/],
  'route.destination': [route('route: [{weight: 100}]'), 'spec.http[0].route[0].destination', /required field 'destination'/],
  'route.weight': [route('route: [{destination: {host: pay}, weight: -1}]'), 'spec.http[0].route[0].weight', /weight -1 < 0/],
  'route.total-weight': [route('route: [{destination: {host: a}}, {destination: {host: b}}]'), 'spec.http[0].route', /total destination weight = 0/],
  'tls.match-required': [vs(`  hosts: [a.example.com]\n  tls: [{${DEST}}]`), 'spec.tls[0].match', /required field 'match'/],
  'tls.match-nil': [vs(`  hosts: [a.example.com]\n  tls: [{match: [null], ${DEST}}]`), 'spec.tls[0].match[0]', /must be of type object/],
  'tls.sni-required': [vs(`  hosts: [a.example.com]\n  tls: [{match: [{port: 443}], ${DEST}}]`), 'spec.tls[0].match[0].sniHosts', /required field 'sniHosts'/],
  'tls.sni-ip': [vs(`  hosts: [a.example.com]\n  tls: [{match: [{sniHosts: [10.0.0.1]}], ${DEST}}]`), 'spec.tls[0].match[0].sniHosts[0]', /goes against SNI spec/],
  'tls.sni-subset': [vs(`  hosts: ["*.example.com"]\n  tls: [{match: [{sniHosts: ["*.com"]}], ${DEST}}]`), 'spec.tls[0].match[0].sniHosts[0]', /is not a compatible subset/],
  'l4.subnet': [vs(`  hosts: [pay]\n  tcp: [{match: [{destinationSubnets: ["10.0.0.0/40"]}], ${DEST}}]`), 'spec.tcp[0].match[0].destinationSubnets[0]', /10\.0\.0\.0\/40 is not a valid CIDR block/],
  'tls.route-required': [vs('  hosts: [a.example.com]\n  tls: [{match: [{sniHosts: [a.example.com]}]}]'), 'spec.tls[0]', /TLS route is required/],
  'tcp.match-nil': [vs(`  hosts: [pay]\n  tcp: [{match: [null], ${DEST}}]`), 'spec.tcp[0].match[0]', /must be of type object/],
  'tcp.route-required': [vs('  hosts: [pay]\n  tcp: [{match: [{port: 9000}]}]'), 'spec.tcp[0]', /TCP route is required/],
  'unreachable.second-catch-all': [vs(`  hosts: [pay]\n  http: [{${DEST}}, {${DEST}}]`), 'spec.http[1]', /virtualService rule #1 not used \(only the last rule can have no matches\)/],
  'unreachable.after-catch-all': [vs(`  hosts: [pay]\n  http: [{${DEST}}, {name: late, match: [{uri: {prefix: /a}}], ${DEST}}]`), 'spec.http[1]', /virtualService rule "late" not used \(route without matches defined before\)/],
  'unreachable.all-duplicate': [vs(`  hosts: [pay]\n  tcp: [{match: [{port: 9000}], ${DEST}}, {match: [{port: 9000}], ${DEST}}]`), 'spec.tcp[1]', /virtualService rule #1 not used \(all matches used by prior rules\)/],
  'unreachable.duplicate-match': [vs(`  hosts: [pay]\n  http: [{match: [{name: first, uri: {exact: /a}}], ${DEST}}, {match: [{uri: {exact: /a}}, {uri: {exact: /b}}], ${DEST}}]`), 'spec.http[1].match[0]', /rule #1 match #0 is not used \(duplicate\/overlapping match in rule #0\)/],
  'unreachable.prefix-covered': [vs(`  hosts: [pay]\n  http: [{match: [{uri: {prefix: /api}}], ${DEST}}, {match: [{uri: {prefix: /api/v1}}], ${DEST}}]`), 'spec.http[1].match[0]', /rule #1 match #0 of prefix \/api\/v1 is not used \(duplicate\/overlapping match in rule #0 of prefix \/api on #0\)/],
};

describe("Istio's validation rules: each one check-policies applies rejects (or warns about) an example", function () {
  for (const rule of ISTIO_RULES) {
    if (typeof rule.applied === 'object') continue;
    it(`${rule.id} (${rule.source}): ${rule.rule} → ${rule.severity}`, function () {
      const example = examples[rule.id];
      expect(example, `no example for applied rule ${rule.id}`).to.not.equal(undefined);
      if (example === undefined) return;
      const [yaml, field, message] = example;
      const { issues } = parsePolicies(yaml, 'rule.yaml');
      const all = issues.map(formatIssue).join('\n');
      const hit = issues.find((i) => i.severity === rule.severity && message.test(i.message));
      expect(hit, `no ${rule.severity} matching ${message} in:\n${all}`).to.not.equal(undefined);
      expect(hit?.location.field, all).to.equal(field);
      // The schema checks stop a document before the semantic checks; a semantic rule must not ride on a schema error.
      if (rule.applied === 'semantics') expect(all, all).to.not.match(/Istio CRD schema/);
      if (rule.severity === 'warning') expect(issues.filter((i) => i.severity === 'error'), all).to.deep.equal([]);
    });
  }

  it('every example belongs to a rule of the catalogue, and no rule id repeats', function () {
    const ids = ISTIO_RULES.map((r) => r.id);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(Object.keys(examples).filter((id) => !ids.includes(id))).to.deep.equal([]);
  });

  it('the count the README gives is the catalogue\'s', function () {
    const all = countRules();
    expect(all.applied + all.notApplied.length).to.equal(all.total);
    expect(all.notApplied.map((r) => r.id)).to.deep.equal(['vs.gateway-semantics']);
  });
});

describe('what Istio accepts, check-policies accepts', function () {
  const valid: readonly (readonly [string, string])[] = [
    ['dry-run spelt as Go reads a bool', ap('  rules: [{}]', '  annotations: {istio.io/dry-run: "1"}\n')],
    ['a delegate VirtualService (no hosts)', vs(`  http: [{${DEST}}]`)],
    ['a TCP-aware DENY rule (ports set)', ap('  action: DENY\n  rules:\n  - to: [{operation: {methods: [GET], ports: ["8080"]}}]')],
    ['consecutiveLocalOriginFailures: 0 without the split', tp('{outlierDetection: {consecutiveLocalOriginFailures: 0}}')],
    ['negative consecutiveErrors (int32: Istio only warns that it is deprecated)', tp('{outlierDetection: {consecutiveErrors: -1}}')],
    ['tcp idleTimeout 0s disables the timeout (Istio skips anything under 1ms there)', tp('{connectionPool: {tcp: {idleTimeout: 0s}}}')],
    ['tcp idleTimeout 500us (0 in whole milliseconds: not checked)', tp('{connectionPool: {tcp: {idleTimeout: 500us}}}')],
    ['a fault delay with only a percentage (no delay type)', route(`fault: {delay: {percentage: {value: 10}}}\n    ${DEST}`)],
    ['abort httpStatus 600 (Istio checks 200..600)', route(`fault: {abort: {httpStatus: 600, percentage: {value: 1}}}\n    ${DEST}`)],
    ['RE2 syntax JavaScript lacks: (?i) and [[:alpha:]]', route(`match: [{uri: {regex: "(?i)/api/[[:alpha:]]+"}}]\n    ${DEST}`)],
    ['an IP address as a host', route(DEST, '[10.0.0.1]')],
    ['an empty uri prefix', route(`match: [{uri: {prefix: ""}}]\n    ${DEST}`)],
    ['withoutHeaders regex "*" (present)', route(`match: [{withoutHeaders: {x-a: {regex: "*"}}}]\n    ${DEST}`)],
    ['JWT claim routing on a gateway', vs(`  hosts: [pay.example.com]\n  gateways: [istio-system/gw]\n  http:\n  - match: [{headers: {"@request.auth.claims.group": {exact: a}}}]\n    ${DEST}`)],
    ['an auto-passthrough SNI host on a gateway', vs(`  hosts: ["*.pay.svc.cluster.local"]\n  gateways: [istio-system/gw]\n  tls:\n  - match: [{sniHosts: ["outbound_.8080_._.a.pay.svc.cluster.local"]}]\n    ${DEST}`)],
    ['rewrite.authority alone', route(`rewrite: {authority: a.example.com}\n    ${DEST}`)],
    ['retryOn with status codes Go knows', route(`retries: {attempts: 2, retryOn: "503,429,gateway-error"}\n    ${DEST}`)],
  ];
  for (const [name, yaml] of valid) {
    it(name, function () {
      const { issues } = parsePolicies(yaml, 'ok.yaml');
      expect(issues.filter((i) => i.severity === 'error').map(formatIssue)).to.deep.equal([]);
    });
  }
});
