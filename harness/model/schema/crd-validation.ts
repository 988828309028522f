/**
 * Structural validation of one resource against Istio's own CRD schemas.
 *
 * What the schemas give (via @kubernetes-models/istio, generated from Istio 1.29's CRDs):
 * types, enums (`action`, `mtls.mode`, …), required fields (`DestinationRule.spec.host`, …),
 * minimum/maximum and length limits. What they do not give, and where we add it:
 * - unknown fields (CRDs prune instead of reject): findUnknownFields over a tree derived from
 *   the package's declarations (known-fields.ts);
 * - the CRDs' CEL rules (`x-kubernetes-validations`, e.g. "portLevelMtls requires selector") and
 *   the admission webhook's checks (durations, DENY without rules, …): harness/model/semantics/.
 */
import { AuthorizationPolicy as AuthorizationPolicyV1 } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import { PeerAuthentication as PeerAuthenticationV1 } from '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication';
import { AuthorizationPolicy as AuthorizationPolicyV1beta1 } from '@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy';
import { PeerAuthentication as PeerAuthenticationV1beta1 } from '@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication';
import { RequestAuthentication as RequestAuthenticationV1 } from '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication';
import { RequestAuthentication as RequestAuthenticationV1beta1 } from '@kubernetes-models/istio/security.istio.io/v1beta1/RequestAuthentication';
import { DestinationRule as DestinationRuleV1 } from '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule';
import { VirtualService as VirtualServiceV1 } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import { DestinationRule as DestinationRuleV1beta1 } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import { VirtualService as VirtualServiceV1beta1 } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { DestinationRule as DestinationRuleV1alpha3 } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/DestinationRule';
import { VirtualService as VirtualServiceV1alpha3 } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/VirtualService';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { Issue } from '../issues.ts';
import { formatFieldPath, pointerToPath, type DocumentSource } from '../source-map.ts';
import { closestName, findUnknownFields, knownFields, type FieldTree } from './known-fields.ts';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/** Every apiVersion/kind meshproof reads, with the class that validates it. */
export const SUPPORTED_KINDS: Readonly<Record<string, ModelClass>> = {
  'security.istio.io/v1/AuthorizationPolicy': AuthorizationPolicyV1 as unknown as ModelClass,
  'security.istio.io/v1beta1/AuthorizationPolicy': AuthorizationPolicyV1beta1 as unknown as ModelClass,
  'security.istio.io/v1/PeerAuthentication': PeerAuthenticationV1 as unknown as ModelClass,
  'security.istio.io/v1beta1/PeerAuthentication': PeerAuthenticationV1beta1 as unknown as ModelClass,
  'security.istio.io/v1/RequestAuthentication': RequestAuthenticationV1 as unknown as ModelClass,
  'security.istio.io/v1beta1/RequestAuthentication': RequestAuthenticationV1beta1 as unknown as ModelClass,
  'networking.istio.io/v1/DestinationRule': DestinationRuleV1 as unknown as ModelClass,
  'networking.istio.io/v1beta1/DestinationRule': DestinationRuleV1beta1 as unknown as ModelClass,
  'networking.istio.io/v1alpha3/DestinationRule': DestinationRuleV1alpha3 as unknown as ModelClass,
  'networking.istio.io/v1/VirtualService': VirtualServiceV1 as unknown as ModelClass,
  'networking.istio.io/v1beta1/VirtualService': VirtualServiceV1beta1 as unknown as ModelClass,
  'networking.istio.io/v1alpha3/VirtualService': VirtualServiceV1alpha3 as unknown as ModelClass,
  'v1/ServiceAccount': ServiceAccount as unknown as ModelClass,
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
};

/**
 * Fields the semantics reference documents for Istio 1.30 that the 1.29 CRDs in the package do
 * not have yet (`source.trustDomains` / `notTrustDomains`). Added here, not invented: see
 * istio-semantics.md §2 "Source fields".
 */
const FIELDS_NEWER_THAN_PACKAGE: Readonly<Record<string, readonly string[]>> = {
  AuthorizationPolicy: ['trustDomains', 'notTrustDomains'],
};

interface AjvLikeError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

function withNewerFields(kind: string, tree: FieldTree): FieldTree {
  const extra = FIELDS_NEWER_THAN_PACKAGE[kind];
  if (extra === undefined) return tree;
  const spec = tree['spec'];
  if (spec === undefined || spec === 1) return tree;
  const rules = spec['rules'];
  if (rules === undefined || rules === 1) return tree;
  const from = rules['from'];
  if (from === undefined || from === 1) return tree;
  const source = from['source'];
  if (source === undefined || source === 1) return tree;
  const added = Object.fromEntries(extra.map((k) => [k, 1 as const]));
  return { ...tree, spec: { ...spec, rules: { ...rules, from: { ...from, source: { ...source, ...added } } } } };
}

function describeSchemaError(error: AjvLikeError): string {
  const params = error.params ?? {};
  switch (error.keyword) {
    case 'enum':
      return `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'required':
      return `required field '${String(params['missingProperty'])}' is missing`;
    case 'type':
      return `must be of type ${String(params['type'])}`;
    default:
      return error.message ?? error.keyword;
  }
}

export interface CrdValidationResult {
  /** Wrong types, enum values, missing required fields: the document cannot be read further. */
  readonly structural: Issue[];
  /** Fields the CRD does not have: errors, but the rest of the document can still be checked. */
  readonly unknownFields: Issue[];
}

/** Schema problems of one document; `apiVersion/kind` must be in SUPPORTED_KINDS. */
export function validateAgainstCrd(typeKey: string, kind: string, data: Record<string, unknown>, source: DocumentSource): CrdValidationResult {
  const issues: Issue[] = [];
  const unknownFields: Issue[] = [];
  const Model = SUPPORTED_KINDS[typeKey];
  if (Model === undefined) return { structural: issues, unknownFields };
  try {
    new Model(data as never).validate();
  } catch (error) {
    const errors = (error as { errors?: AjvLikeError[] }).errors;
    if (!Array.isArray(errors)) throw error;
    // anyOf/oneOf/not wrappers repeat the precise error underneath; keep the precise ones.
    const precise = errors.filter((e) => !['anyOf', 'oneOf', 'not', 'if'].includes(e.keyword));
    const seen = new Set<string>();
    for (const e of precise.length > 0 ? precise : errors) {
      const path = pointerToPath(e.instancePath);
      if (e.keyword === 'required' && e.params?.['missingProperty'] !== undefined) path.push(String(e.params['missingProperty']));
      const message = `${describeSchemaError(e)} (Istio CRD schema)`;
      const key = `${e.instancePath}|${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const at = e.keyword === 'required' ? path.slice(0, -1) : path;
      issues.push({ severity: 'error', message, location: { ...source.locate(at), field: formatFieldPath(path) } });
    }
  }
  const trees = knownFields();
  const tree = trees[typeKey];
  if (tree !== undefined) {
    const full = withNewerFields(kind, tree);
    for (const unknown of findUnknownFields(data, full)) unknownFields.push(unknownFieldIssue(unknown.path, unknown.name, unknown.known, kind, source));
    const meta = trees['meta/v1/ObjectMeta'];
    if (meta !== undefined && data['metadata'] !== undefined) {
      for (const unknown of findUnknownFields(data['metadata'], meta, ['metadata'])) unknownFields.push(unknownFieldIssue(unknown.path, unknown.name, unknown.known, kind, source));
    }
  }
  return { structural: issues, unknownFields };
}

function unknownFieldIssue(path: (string | number)[], name: string, known: string[], kind: string, source: DocumentSource): Issue {
  const guess = closestName(name, known);
  return {
    severity: 'error',
    message: `unknown field '${name}' in ${kind}`,
    location: source.locate(path, { key: true }),
    hint: guess !== undefined ? `did you mean '${guess}'?` : `known fields here: ${known.join(', ')}`,
  };
}
