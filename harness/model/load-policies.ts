/**
 * Loads Istio policy YAML (one file, many, or a directory of multi-document files) into a typed,
 * validated PolicySet.
 *
 * Each document is checked in three steps, and every problem is kept with its file:line:field:
 * 1. YAML syntax (the `yaml` package);
 * 2. Istio's CRD schema (@kubernetes-models/istio) plus unknown fields (schema/);
 * 3. Istio's semantic rules, i.e. its CEL rules and admission webhook (semantics/).
 */
import { dirname } from 'node:path';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { hasErrors, throwIfErrors, type Issue } from './issues.ts';
import { defaultMeshSettings, meshSettingsFromConfigMap, type MeshSettings } from './mesh-config.ts';
import type {
  AuthorizationPolicy,
  DestinationRule,
  PeerAuthentication,
  PolicyResource,
  RequestAuthentication,
  ResourceMeta,
  ServiceAccount,
  VirtualService,
} from './resources.ts';
import { SUPPORTED_KINDS, validateAgainstCrd } from './schema/crd-validation.ts';
import { closestName } from './schema/known-fields.ts';
import { validateAuthorizationPolicy } from './semantics/authorization-policy.ts';
import { validateDestinationRule } from './semantics/destination-rule.ts';
import { validatePeerAuthentication } from './semantics/peer-authentication.ts';
import { validateRequestAuthentication } from './semantics/request-authentication.ts';
import { validateVirtualService } from './semantics/virtual-service.ts';
import { readYamlFiles, readYamlText, type YamlDocument, type YamlReadResult } from './yaml-files.ts';

export interface PolicySet {
  readonly mesh: MeshSettings;
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthentication[];
  readonly destinationRules: readonly DestinationRule[];
  readonly virtualServices: readonly VirtualService[];
  readonly serviceAccounts: readonly ServiceAccount[];
  /** Files read, in load order. */
  readonly files: readonly string[];
  /** Valid but noteworthy findings (ignored fields, unsupported features). */
  readonly warnings: readonly Issue[];
}

export interface PolicyLoadResult {
  /** Everything that loaded; resources with errors are left out. */
  readonly set: PolicySet;
  /** Errors and warnings, in file order. */
  readonly issues: readonly Issue[];
}

/** Kinds in a policy directory that are not policies: skipped without a word. */
const SKIPPED_KINDS = new Set(['Topology']);
/**
 * Every kind Istio's API groups serve (its CRDs, 1.30). A kind meshproof does not model is
 * reported as a warning; a kind that is not here in an Istio group does not exist, and the API
 * server would refuse it, so it is an error (a misspelt `AuthorisationPolicy` would otherwise
 * drop an intended policy without a word).
 */
const ISTIO_KINDS: Readonly<Record<string, readonly string[]>> = {
  'security.istio.io': ['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication'],
  'networking.istio.io': ['DestinationRule', 'VirtualService', 'Gateway', 'ServiceEntry', 'Sidecar', 'WorkloadEntry', 'WorkloadGroup', 'EnvoyFilter', 'ProxyConfig'],
  'telemetry.istio.io': ['Telemetry'],
  'extensions.istio.io': ['WasmPlugin', 'TrafficExtension'],
};
const DEFAULT_NAMESPACE = 'default';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function metaOf(doc: YamlDocument, data: Record<string, unknown>): ResourceMeta {
  const metadata = (data['metadata'] ?? {}) as Record<string, unknown>;
  // Kubernetes keeps creation times in whole seconds, and istiod's ordering compares them so.
  const parsed = typeof metadata['creationTimestamp'] === 'string' ? Date.parse(metadata['creationTimestamp']) : undefined;
  const timestamp = parsed === undefined ? undefined : Math.floor(parsed / 1000) * 1000;
  return {
    apiVersion: String(data['apiVersion']),
    name: String(metadata['name']),
    namespace: typeof metadata['namespace'] === 'string' && metadata['namespace'] !== '' ? metadata['namespace'] : DEFAULT_NAMESPACE,
    labels: (metadata['labels'] ?? {}) as Record<string, string>,
    annotations: (metadata['annotations'] ?? {}) as Record<string, string>,
    ...(timestamp !== undefined && !Number.isNaN(timestamp) ? { creationTimestamp: timestamp } : {}),
    origin: { location: doc.source.locate([]), order: doc.order },
  };
}

/** A kind meshproof does not read: a warning, unless it is no kind of the Istio group it names (an error). */
function unsupportedKindIssue(apiVersion: string, kind: string, at: (path: (string | number)[]) => Issue['location']): Issue {
  const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
  const where = { ...at(['kind']), field: 'kind' };
  if (!group.endsWith('istio.io')) return { severity: 'warning', message: `${kind} ignored: not an Istio policy kind meshproof reads`, location: where };
  const kinds = ISTIO_KINDS[group];
  if (kinds?.includes(kind) === true) return { severity: 'warning', message: `${kind} ignored: meshproof does not model this Istio kind`, location: where };
  const servedBy = Object.entries(ISTIO_KINDS).find(([, ks]) => ks.includes(kind))?.[0];
  const guess = closestName(kind, kinds ?? Object.values(ISTIO_KINDS).flat());
  const hint = servedBy !== undefined ? `${kind} is served by ${servedBy}: use apiVersion ${servedBy}/v1` : guess !== undefined ? `did you mean '${guess}'?` : `kinds of ${group}: ${(kinds ?? []).join(', ') || '(none: not an Istio API group)'}`;
  const what = kinds === undefined ? `${group} is not an Istio API group` : `${kind} is not a kind of ${group}`;
  return { severity: 'error', message: `${what}: Kubernetes would refuse this resource, so it would not apply`, location: kinds === undefined ? { ...at(['apiVersion']), field: 'apiVersion' } : where, hint };
}

/**
 * An Envoy bootstrap or SDS resource as `meshproof render` writes them (`node.metadata.meshproof`,
 * or `resources` of `type.googleapis.com/envoy.…`): configuration made from policies, not policy.
 */
function isRenderOutput(data: Record<string, unknown>): boolean {
  const node = data['node'];
  if (isObject(node) && isObject(node['metadata']) && node['metadata']['meshproof'] !== undefined) return true;
  if ('static_resources' in data && 'node' in data) return true;
  const resources = data['resources'];
  return Array.isArray(resources) && resources.length > 0 && resources.every((r) => isObject(r) && typeof r['@type'] === 'string' && r['@type'].startsWith('type.googleapis.com/envoy.'));
}

/** One error for all render output found, naming the folder that holds it. */
function renderOutputIssue(files: readonly string[]): Issue {
  const dirs = files.map((f) => dirname(f));
  let common = dirs[0]!;
  while (!dirs.every((d) => d === common || d.startsWith(`${common}/`)) && dirname(common) !== common) common = dirname(common);
  return {
    severity: 'error',
    message: `${files.length} file(s) under ${common} are Envoy configuration written by 'meshproof render', not Istio policies`,
    location: { file: files[0]! },
    hint: 'render into a folder outside the policy folder (meshproof render … --out DIR), or move that output away',
  };
}

/** Loads from already-read documents; shared by readPolicies and parsePolicies. */
function buildPolicySet(read: YamlReadResult): PolicyLoadResult {
  const issues: Issue[] = [...read.issues];
  const accepted: { doc: YamlDocument; data: Record<string, unknown>; kind: string; valid: boolean }[] = [];
  const renderOutput: string[] = [];
  for (const doc of read.documents) {
    const data = doc.data;
    const at = (path: (string | number)[]): Issue['location'] => doc.source.locate(path);
    if (!isObject(data)) {
      issues.push({ severity: 'error', message: 'a Kubernetes resource must be a YAML mapping with apiVersion and kind', location: at([]) });
      continue;
    }
    const kind = data['kind'];
    const apiVersion = data['apiVersion'];
    if (kind === undefined && isRenderOutput(data)) {
      renderOutput.push(doc.source.file);
      continue;
    }
    if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
      issues.push({ severity: 'error', message: 'missing apiVersion or kind', location: { ...at([]), field: typeof kind !== 'string' ? 'kind' : 'apiVersion' }, hint: 'every document needs apiVersion and kind, e.g. apiVersion: security.istio.io/v1 and kind: AuthorizationPolicy' });
      continue;
    }
    if (SKIPPED_KINDS.has(kind)) continue;
    const typeKey = `${apiVersion}/${kind}`;
    if (SUPPORTED_KINDS[typeKey] === undefined) {
      const known = Object.keys(SUPPORTED_KINDS).filter((k) => k.endsWith(`/${kind}`));
      if (known.length > 0) {
        issues.push({ severity: 'error', message: `${kind} is not served at apiVersion ${apiVersion}`, location: { ...at(['apiVersion']), field: 'apiVersion' }, hint: `use one of ${known.map((k) => k.slice(0, -kind.length - 1)).join(', ')}` });
      } else {
        issues.push(unsupportedKindIssue(apiVersion, kind, at));
      }
      continue;
    }
    const metadata = data['metadata'];
    if (!isObject(metadata) || typeof metadata['name'] !== 'string' || metadata['name'] === '') {
      issues.push({ severity: 'error', message: 'metadata.name is required', location: { ...at(['metadata']), field: 'metadata.name' } });
      continue;
    }
    const schema = validateAgainstCrd(typeKey, kind, data, doc.source);
    issues.push(...schema.structural, ...schema.unknownFields);
    if (hasErrors(schema.structural)) continue;
    accepted.push({ doc, data, kind, valid: !hasErrors(schema.unknownFields) });
  }

  if (renderOutput.length > 0) issues.push(renderOutputIssue(renderOutput));

  // Mesh settings first: the root namespace changes how the rest is read.
  let mesh = defaultMeshSettings;
  const meshMaps = accepted.filter((a) => a.kind === 'ConfigMap' && (a.data['metadata'] as Record<string, unknown>)['name'] === 'istio');
  if (meshMaps.length > 1) {
    for (const extra of meshMaps.slice(1)) issues.push({ severity: 'error', message: `a second 'istio' mesh ConfigMap; the first is at ${meshMaps[0]?.doc.source.file}:${meshMaps[0]?.doc.source.startLine}`, location: extra.doc.source.locate(['metadata', 'name']) });
  }
  const meshMap = meshMaps[0];
  if (meshMap !== undefined) {
    const meta = metaOf(meshMap.doc, meshMap.data);
    const namespace = (meshMap.data['metadata'] as Record<string, unknown>)['namespace'] === undefined ? defaultMeshSettings.rootNamespace : meta.namespace;
    const result = meshSettingsFromConfigMap(namespace, meshMap.data, meshMap.doc.source);
    mesh = result.settings;
    issues.push(...result.issues);
  }

  const seen = new Map<string, YamlDocument>();
  const resources: PolicyResource[] = [];
  for (const { doc, data, kind, valid } of accepted) {
    if (kind === 'ConfigMap') continue;
    const meta = metaOf(doc, data);
    const key = `${kind}/${meta.namespace}/${meta.name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({ severity: 'error', message: `duplicate ${kind} ${meta.namespace}/${meta.name}; the first is at ${first.source.file}:${first.source.startLine}`, location: doc.source.locate(['metadata', 'name']) });
      continue;
    }
    seen.set(key, doc);
    const spec = (data['spec'] ?? {}) as never;
    let own: Issue[] = [];
    let resource: PolicyResource;
    switch (kind) {
      case 'PeerAuthentication': {
        const r: PeerAuthentication = { ...meta, kind, spec };
        own = validatePeerAuthentication(r, doc.source, mesh.rootNamespace);
        resource = r;
        break;
      }
      case 'AuthorizationPolicy': {
        const rules = (data['spec'] as { rules?: unknown } | undefined)?.rules;
        const ruleLines = Array.isArray(rules) ? rules.map((_, i) => doc.source.locate(['spec', 'rules', i]).line ?? doc.source.startLine) : undefined;
        const r: AuthorizationPolicy = { ...meta, kind, spec, ...(ruleLines === undefined ? {} : { ruleLines }) };
        own = validateAuthorizationPolicy(r, doc.source);
        resource = r;
        break;
      }
      case 'RequestAuthentication': {
        const r: RequestAuthentication = { ...meta, kind, spec };
        own = validateRequestAuthentication(r, doc.source);
        resource = r;
        break;
      }
      case 'DestinationRule': {
        const r: DestinationRule = { ...meta, kind, spec };
        own = validateDestinationRule(r, doc.source);
        resource = r;
        break;
      }
      case 'VirtualService': {
        const r: VirtualService = { ...meta, kind, spec };
        own = validateVirtualService(r, doc.source);
        resource = r;
        break;
      }
      case 'ServiceAccount':
        resource = { ...meta, kind };
        break;
      default:
        throw new MeshproofError(ErrorCode.Internal, `no loader for supported kind ${kind}`);
    }
    issues.push(...own);
    if (valid && !hasErrors(own)) resources.push(resource);
  }
  const of = <K extends PolicyResource['kind']>(k: K): Extract<PolicyResource, { kind: K }>[] =>
    resources.filter((r): r is Extract<PolicyResource, { kind: K }> => r.kind === k);
  const set: PolicySet = {
    mesh,
    peerAuthentications: of('PeerAuthentication'),
    authorizationPolicies: of('AuthorizationPolicy'),
    requestAuthentications: of('RequestAuthentication'),
    destinationRules: of('DestinationRule'),
    virtualServices: of('VirtualService'),
    serviceAccounts: of('ServiceAccount'),
    files: read.files,
    warnings: issues.filter((i) => i.severity === 'warning'),
  };
  return { set, issues: sortIssues(issues, read.files) };
}

/** File order (as loaded), then line, then column. */
function sortIssues(issues: Issue[], files: readonly string[]): Issue[] {
  const rank = (file: string): number => {
    const i = files.findIndex((f) => f === file || f.endsWith(file));
    return i === -1 ? files.length : i;
  };
  return [...issues].sort((a, b) => rank(a.location.file) - rank(b.location.file) || (a.location.line ?? 0) - (b.location.line ?? 0) || (a.location.column ?? 0) - (b.location.column ?? 0));
}

/** Reads and validates; never throws for bad content (see `issues`), only for unreadable paths. */
export function readPolicies(paths: readonly string[], options: { exclude?: (file: string) => boolean } = {}): PolicyLoadResult {
  return buildPolicySet(readYamlFiles(paths, options));
}

/** Reads and validates; throws MeshproofError (PolicyInvalid, exit code 2) listing every error. */
export function loadPolicies(paths: readonly string[], options: { exclude?: (file: string) => boolean } = {}): PolicySet {
  const result = readPolicies(paths, options);
  throwIfErrors(result.issues);
  return result.set;
}

/** Policies from YAML text (tests, fixtures built in code). `file` names it in messages. */
export function parsePolicies(text: string, file = '<inline>'): PolicyLoadResult {
  return buildPolicySet(readYamlText(file, text));
}

/** parsePolicies that throws on errors. */
export function policiesFromYaml(text: string, file = '<inline>'): PolicySet {
  const result = parsePolicies(text, file);
  throwIfErrors(result.issues);
  return result.set;
}
