/**
 * The public barrel of the harness. Suites, the CLI and benchmarks import from here only.
 * Each module keeps its internals to itself; add an export here when something becomes public.
 */
export * from './errors.ts';
export * from './events.ts';
export * from './config/timeouts.ts';
export * from './runtime/types.ts';
export { DockerRuntime, type DockerRuntimeOptions } from './runtime/docker/docker-runtime.ts';
export { newRunId } from './spec/run.ts';
export * from './traffic/types.ts';
export { call, senderFor, type Sender } from './traffic/caller.ts';
export { AgentClient, AGENT_SOCKET } from './traffic/agent-client.ts';
export {
  MeshCa,
  DEFAULT_WORKLOAD_TTL_MS,
  MAX_WORKLOAD_TTL_MS,
  type MeshCaSettings,
  type CreateMeshCaOptions,
  type SignRequest,
  type SignedCertificate,
  type IssueOptions,
} from './pki/mesh-ca.ts';
export { CertificateBundle, type CertificateBundleFields } from './pki/certificate-bundle.ts';
export { WorkloadCredentials } from './pki/workload-credentials.ts';
export { BadCertKind, BAD_CERT_KINDS, BadCertificate, isBadCertKind, makeBadCertificate, makeAttackerKit, type BadCertOptions, type RejectingCheck } from './pki/attacker-kit.ts';
export { CertRotator, DEFAULT_GRACE_RATIO, type CertRotatorOptions } from './pki/cert-rotator.ts';
export { WORKLOAD_FILES, writeWorkloadFiles, readWorkloadFiles } from './pki/workload-files.ts';
export { PkiWorkspace, type PkiWorkspaceOptions } from './pki/pki-workspace.ts';
export { PLUGIN_CA_FILES } from './pki/plugin-ca.ts';
export { JwtIssuer, JWT_TOKEN_KINDS, isJwtTokenKind, type JwtTokenKind, type TokenClaims } from './pki/jwt-issuer.ts';
export { createCsr, type WorkloadCsr } from './pki/csr.ts';
export { KeyAlgorithm, KEY_ALGORITHMS, DEFAULT_KEY_ALGORITHM, isKeyAlgorithm } from './pki/key-algorithm.ts';
export { spiffeUri, parseSpiffeUri, type WorkloadRef, type SpiffeIdentity } from './pki/spiffe.ts';
export {
  inspectCertificate,
  summarizeCertificate,
  fingerprint256,
  splitPemCertificates,
  EKU_SERVER_AUTH,
  EKU_CLIENT_AUTH,
  type CertificateInfo,
  type CertificateSummary,
} from './pki/certificate-info.ts';
export { runOpenssl, type OpensslResult } from './pki/openssl-cli.ts';
export { sanMismatch, trustDomainMatchers, secureNamingMatchers, type SanMatcher } from './pki/san-match.ts';
// Policy model (issue 4): load, validate, resolve. Shared by the oracle and the data planes.
export * from './model/resources.ts';
export { type Issue, type IssueSeverity, formatIssue, hasErrors, throwIfErrors } from './model/issues.ts';
export { readPolicies, loadPolicies, parsePolicies, policiesFromYaml, type PolicySet, type PolicyLoadResult } from './model/load-policies.ts';
export { defaultMeshSettings, DEFAULT_ROOT_NAMESPACE, DEFAULT_TRUST_DOMAIN, type MeshSettings, type PathNormalization } from './model/mesh-config.ts';
export { parseTopology, loadTopology, topologyFromYaml, TOPOLOGY_SCHEMA, type Topology, type Workload, type WorkloadPort, type Service, type ServicePort, type Client, type PortProtocol } from './model/topology.ts';
export { resolveMesh, destinationFor, findWorkload, findDestination, type ResolvedMesh, type ResolvedWorkload, type ResolvedPort, type ResolvedDestination, type ResolvedServicePort, type ResolvedClient } from './model/resolve.ts';
export { policyRef, byAge, type PolicyRef, type MtlsStep, type EffectiveMtlsMode } from './model/resolve-peer-authentication.ts';
export { serviceFqdn, resolveHost, trafficPolicyForPort, CLUSTER_DOMAIN } from './model/resolve-destination.ts';
export { spiffeId, principalOf, toPrincipal, parseIdentity, type ParsedIdentity } from './model/identity.ts';
export { parseDuration, durationMs, formatDuration, scaleMs } from './model/duration.ts';
export { selectorMatches } from './model/labels.ts';
export { readPolicyInputs, defaultTopologyPath, type PolicyInputs } from './model/policy-inputs.ts';
// Oracle (issue 4): what Istio says must happen. Never imported by harness/dataplane.
export type { Decision, DecisionOutcome, ExpectedObservation, DecidingRule, Basis } from './oracle/decision.ts';
export { InboundOracle, defaultHost, type InboundRequest, type RequestSource, type CertificateProblem } from './oracle/inbound.ts';
export type { JwtClaims } from './oracle/authz-context.ts';
export { normalizePath, removeDotSegments, type NormalizedPath } from './oracle/path-normalization.ts';
export { generateProbes, ruleCoverage, type Probe, type ProbeKind } from './oracle/probe-generator.ts';
export { simulateOutlierDetection, type OutlierSimulationInput, type OutlierSimulationResult, type OutlierEvent, type UpstreamResult, type TimelineEntry, type RoutedRequest, type OutlierStats, type EjectionType } from './oracle/outlier-simulation.ts';
export { effectiveOutlierDetection, maxEjectedHosts, type EffectiveOutlierDetection } from './oracle/outlier-settings.ts';
export { replicaFaultReading, allowedOutcomes, outcomeKey, REPLICA_FAULTS, MESH_DEFAULT_CONNECT_TIMEOUT_MS, type ReplicaFault, type ReplicaFaultReading, type ReplicaFaultPath, type ReplicaFaultSettings } from './oracle/replica-fault.ts';
export { requestOutcome, effectiveRetryPolicy, parseRetryOn, DEFAULT_RETRY_ON, DEFAULT_RETRIES, type AttemptResult, type RequestOutcome, type RequestOutcomeInput, type EffectiveRetryPolicy } from './oracle/retry-outcome.ts';
export { selectRoute, matchRequest, type RouteRequest } from './oracle/route-match.ts';
export { EnvoyAdapter } from './dataplane/envoy/envoy-adapter.ts';
export { createDataPlane, type CreateDataPlaneOptions } from './dataplane/create-data-plane.ts';
export { ENVOY_RECIPE, ENVOY_OFFICIAL_RECIPE, ENVOY_READY_LINE, type EnvoyAdapterOptions } from './dataplane/envoy/envoy-adapter.ts';
export { renderEnvoyConfig, renderMeshEnvoyConfigs, type EnvoyConfig, type MeshEnvoyConfig } from './dataplane/envoy/envoy-config.ts';
export { checkEnvoyAvailability, imageProbe, ENVOY_IMAGE, PROJECT_ENVOY_BINARY, ENVOY_BINARY_ENV, ENVOY_PROJECT_ENV, ENVOY_PULL_ENV, type EnvoyAvailability, type EnvoySource, type ImageProbe } from './dataplane/envoy/availability.ts';
export { dockerImageQuestions } from './runtime/docker/image-questions.ts';
export { checkEnvoyConfig, type FileProblem } from './dataplane/envoy/static-check.ts';
export type { EnvoyRenderOptions } from './dataplane/envoy/render-options.ts';
// Conformance runs and the report (issue 9).
export type { ConformanceCase, CaseContext } from './conformance/case.ts';
export * from './conformance/checks.ts';
export { classifyTlsRefusal, versionRefusedByServer, type TlsRefusal } from './conformance/tls-refusal.ts';
export { awaitConvergence, type ConvergenceOptions, type Converged } from './util/await-convergence.ts';
export { Feature, ALL_FEATURES, AREA_PROMISE, type Area } from './spec/features.ts';
export { describeObservation, type CallEvidence } from './traffic/evidence.ts';
export { SeededRandom, deriveSeed } from './util/seeded-random.ts';
export { coarseClockTick, type CoarseClockTick } from './util/coarse-clock.ts';
export { JitterMonitor, measureSchedulingJitter, summarizeLateness, worstWindow, type JitterMonitorOptions } from './util/scheduling-jitter.ts';
export type { JitterSummary } from './spec/run.ts';
export { marginFromJitter, marginTooThin, MARGIN_FLOOR_MS, MARGIN_PER_P99 } from './conformance/timing-margin.ts';
export { parseRequestSource } from './oracle/request-source.ts';
export { runCase, type CaseResult, type RunCaseOptions } from './conformance/case-runner.ts';
export { currentRun, type RunContext } from './run/current-run.ts';
export { conformanceSuite, reflectOutcome, ConformanceFailure, InfrastructureError, CASE_META, caseMetaOf, type CaseSuite, type SuiteSetup, type SuiteRuntimeInfo, type CaseMeta } from './run/mocha-cases.ts';
export { resolveRunOptions, runOptionsFromEnv, runOptionsToEnv, pinRunOptions, suiteFile, runIdFromEnv, RUN_ID_ENV, ENV_NAMES, FLAG_NAMES, type RunOptionsInput } from './run/run-options.ts';
export { replayCommand, DEFAULT_TIME_SCALE, SUITE_AREAS, type RunOptions } from './spec/run.ts';
export { DATA_PLANES, type DataPlaneName } from './spec/data-plane.ts';
export { parseIntents, readIntentFile, checkIntents, intentDecisionOf, INTENT_DECISIONS, type Intent, type IntentDecision, type IntentCheck } from './conformance/intent-file.ts';
// Policy change review (issue 20): meshproof diff, and the contract of its --live confirmation.
export { reviewChange, type ChangeInput, type ChangeSideInput, type ReviewResult } from './change/review-change.ts';
export { changeDecisionOf, type ChangeReview, type ChangeDecision, type LiveConfirmation, type LiveChangeProbe, type LiveSideResult } from './change/change-review.ts';
export { sourceLabel, requestLabel } from './change/decision-changes.ts';
export { unionProbes, requestKey, type SidedProbe } from './change/probe-union.ts';
export { LIVE_CHANGE_MODULE, type ConfirmChangeLive, type LiveChangeRequest, type LiveChangeOutcome } from './change/live-change.ts';
export * from './report/schema.ts';
export { buildReport, type RunDescription, type MissingSuite } from './report/build-report.ts';
export { verdictFor, verdictResult, countOutcomes, exitCodeForReport, AREAS } from './report/verdict.ts';
export { sanitizeEvidence, scrubPem } from './report/sanitize-evidence.ts';
export { writeReport, renderJson, REPORT_FILES, type WrittenReport } from './report/write-report.ts';
export { renderJunit } from './report/junit-xml.ts';
export { renderHtml } from './report/html/render-html.ts';
export { validateReport } from './report/report-validator.ts';
// Data planes and the mesh environment (issue 5): the adapter interface, the reference sidecar, and the glue suites use.
export { SIDECAR_CERT_DIR, type DataPlaneAdapter, type ProxyTarget, type RenderOptions, type RenderedProxy, type LiveReload, type OutboundPorts } from './dataplane/types.ts';
export { unixGet, type UnixGetResult } from './dataplane/unix-http.ts';
export { ReferenceDataPlane, REFERENCE_APP_PORT, SIDECAR_IMAGE, type ReferenceDataPlaneOptions } from './dataplane/reference/reference-data-plane.ts';
export { renderSidecarConfig, SIDECAR_CONFIG_FILE, ADMIN_SOCKET, ACCESS_LOG_FILE, type ReferenceRenderOptions } from './dataplane/reference/render.ts';
export { ISTIO_CIPHER_SUITES, ISTIO_MTLS_ALPNS, ISTIO_CLIENT_ALPN, MESH_PROBE_ALPN } from './dataplane/istiod/istio-constants.ts';
export { translateProxy, OUTBOUND_BASE_PORT, type ProxyConfig, type ProxyNode, type ProxyMesh, type ProxyInboundPort, type PolicySource } from './dataplane/istiod/proxy-config.ts';
// The reference sidecar's outbound side (issue 6).
export { ISTIO_UNLIMITED, type OutboundConfig, type OutboundListenerConfig, type ClusterConfig, type EndpointConfig, type RouteConfig, type RetryConfig, type FaultConfig, type OutlierDetectionConfig, type CircuitBreakersConfig } from './dataplane/istiod/outbound-config.ts';
export { SIDECAR_CONFIG_API, parseSidecarConfig, type SidecarConfig, type SidecarNode, type SidecarMesh, type InboundConfig } from './dataplane/reference/config.ts';
export { translateAuthorization, expandTrustDomains, type TranslateOptions, type TranslatedAuthorization, type TranslateNote } from './dataplane/istiod/authz-translator.ts';
export type { RbacFilter, RbacRules, RbacPolicy, RbacAction, Permission as RbacPermission, Principal as RbacPrincipal, StringMatcher as RbacStringMatcher, HeaderMatcher as RbacHeaderMatcher } from './dataplane/istiod/rbac.ts';
export { MeshEnvironment, type MeshEnvironmentOptions, type MeshPod } from './mesh/mesh-environment.ts';
export type { MeshCall, CallTarget } from './mesh/mesh-call.ts';
export { countFlags, receiptsOf, requestIndexOf, type ForwardReceipt, type MeshForward, type MeshForwardResult, type MeshForwardEvidence } from './mesh/mesh-forward.ts';
export { findCluster, parseClusters, type ClusterStatus, type ClusterHostStatus } from './mesh/cluster-status.ts';
export { comparable, gaugeDisagreement, sampleClusterWhile, steady, type ClusterSample } from './mesh/cluster-sampler.ts';
export { planParticipants, findParticipant, workloadPod, clientPod, type Participant, type ParticipantKind } from './mesh/participants.ts';
export { MetricSamples } from './mesh/metrics.ts';
// Chaos (issue 8): faults, seeded fault schedules and experiments for the resilience suite.
export { FaultSet, withFaults, type Fault } from './chaos/fault.ts';
export { failingEndpoint, flakyEndpoint, slowEndpoint, resettingEndpoint, hungEndpoint, killedContainer, pausedContainer, partitionedPod, expiredCertificate, type EchoTarget } from './chaos/faults.ts';
export { FaultSchedule, runSchedule, type FaultWindow, type GlitchPlan, type ScheduleDriver } from './chaos/fault-schedule.ts';
export { runExperiment, successRatioAtLeast, type Experiment, type ExperimentOutcome, type SteadyStateHypothesis, type HypothesisResult, type JournalPhase } from './chaos/experiment.ts';
// The wire (issue 22): what an eavesdropper on the pod network sees.
export { WireObserver, DEFAULT_WIRE_BOUNDS } from './mesh/wire-observer.ts';
export { readCapture, readProbe, findNeedle, tlsViewOf, type WireCapture, type WireReading, type ProbeOnWire, type CanarySighting, type ConnectionReading, type TlsView } from './wire/wire-capture.ts';
export { checkWire, ISTIO_MTLS_ALPN_VALUES, type WireExpectation, type WireVerdict, type WireSeen, type TlsSeen, type WireCheckOptions } from './wire/wire-checks.ts';
export { redactedExcerpt, redactSecrets, CANARY_MARK } from './wire/excerpt.ts';
