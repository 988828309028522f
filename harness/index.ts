/**
 * The public barrel of the harness. Suites, the CLI and benchmarks import from here only.
 * Each module keeps its internals to itself; add an export here when something becomes public.
 */
export * from './errors.ts';
export * from './events.ts';
export * from './config/timeouts.ts';
export * from './runtime/types.ts';
export { DockerRuntime, newRunId, type DockerRuntimeOptions } from './runtime/docker/docker-runtime.ts';
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
export { createCsr, type WorkloadCsr } from './pki/csr.ts';
export { KeyAlgorithm, KEY_ALGORITHMS, DEFAULT_KEY_ALGORITHM, isKeyAlgorithm } from './pki/key-algorithm.ts';
export { DEFAULT_TRUST_DOMAIN, spiffeUri, parseSpiffeUri, type WorkloadRef, type SpiffeIdentity } from './pki/spiffe.ts';
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
export { sanMismatch, trustDomainMatchers, secureNamingMatchers, type SanMatcher } from './pki/san-match.ts';
