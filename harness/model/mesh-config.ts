/**
 * The mesh settings that change what Istio does with policies, read the way Istio keeps them: a
 * ConfigMap named `istio` (in the control-plane namespace) whose `data.mesh` is a YAML string.
 */
import type { Issue } from './issues.ts';
import type { HttpRetry } from './resources.ts';
import { readYamlText } from './yaml-files.ts';
import type { DocumentSource } from './source-map.ts';

export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

export interface MeshSettings {
  /** Policies here apply mesh-wide. Default: the namespace of the `istio` ConfigMap, else istio-system. */
  readonly rootNamespace: string;
  /** Default cluster.local. */
  readonly trustDomain: string;
  readonly trustDomainAliases: readonly string[];
  /** `pathNormalization.normalization`; `DEFAULT` is read as `BASE`. Default BASE. */
  readonly pathNormalization: PathNormalization;
  /** `defaultHttpRetryPolicy`, when the mesh overrides Istio's default retry policy. */
  readonly defaultHttpRetryPolicy?: HttpRetry;
  /** `meshMTLS.minProtocolVersion`; TLSv1_2 unless set to TLSV1_3. */
  readonly minTlsVersion: 'TLSv1.2' | 'TLSv1.3';
  /** Where the settings came from, when not defaults. */
  readonly source?: { readonly file: string; readonly line?: number };
}

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

export const defaultMeshSettings: MeshSettings = Object.freeze({
  rootNamespace: DEFAULT_ROOT_NAMESPACE,
  trustDomain: DEFAULT_TRUST_DOMAIN,
  trustDomainAliases: Object.freeze([]) as readonly string[],
  pathNormalization: 'BASE',
  minTlsVersion: 'TLSv1.2',
});

const NORMALIZATIONS = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES', 'DEFAULT'];
/** MeshConfig fields meshproof reads; other fields are valid Istio but change nothing we check. */
const READ_FIELDS = new Set(['rootNamespace', 'trustDomain', 'trustDomainAliases', 'pathNormalization', 'defaultHttpRetryPolicy', 'meshMTLS']);

/**
 * Mesh settings from an `istio` ConfigMap. `namespace` is the ConfigMap's; `source` locates it
 * and `data.mesh` inside it (YAML errors in the embedded string get the outer file's lines).
 */
export function meshSettingsFromConfigMap(namespace: string, data: Record<string, unknown>, source: DocumentSource): { settings: MeshSettings; issues: Issue[] } {
  const issues: Issue[] = [];
  const meshText = (data['data'] as Record<string, unknown> | undefined)?.['mesh'];
  const base: MeshSettings = { ...defaultMeshSettings, rootNamespace: namespace, source: { file: source.file, line: source.startLine } };
  if (meshText === undefined) return { settings: base, issues };
  const meshPath = ['data', 'mesh'];
  if (typeof meshText !== 'string') {
    issues.push({ severity: 'error', message: 'must be a string holding MeshConfig YAML', location: source.locate(meshPath) });
    return { settings: base, issues };
  }
  const at = source.locate(meshPath);
  // A block scalar's content starts on the line after its indicator (`mesh: |`).
  const lineOffset = at.line ?? 0;
  const parsed = readYamlText(source.file, meshText, 0, lineOffset);
  issues.push(...parsed.issues);
  const doc = parsed.documents[0];
  if (doc === undefined) return { settings: base, issues };
  const mesh = doc.data as Record<string, unknown>;
  const inner = doc.source;
  if (mesh === null || typeof mesh !== 'object' || Array.isArray(mesh)) {
    issues.push({ severity: 'error', message: 'MeshConfig must be a YAML mapping', location: at });
    return { settings: base, issues };
  }
  const where = (field: string): Issue['location'] => ({ ...inner.locate([field]), field: `data.mesh.${field}` });
  let settings: MeshSettings = base;
  const str = (field: string): string | undefined => {
    const v = mesh[field];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && v !== '') return v;
    issues.push({ severity: 'error', message: `must be a non-empty string, found ${JSON.stringify(v)}`, location: where(field) });
    return undefined;
  };
  const root = str('rootNamespace');
  if (root !== undefined) settings = { ...settings, rootNamespace: root };
  const td = str('trustDomain');
  if (td !== undefined) settings = { ...settings, trustDomain: td };
  const aliases = mesh['trustDomainAliases'];
  if (aliases !== undefined) {
    if (Array.isArray(aliases) && aliases.every((a) => typeof a === 'string' && a !== '')) settings = { ...settings, trustDomainAliases: aliases as string[] };
    else issues.push({ severity: 'error', message: 'must be a list of trust-domain names', location: where('trustDomainAliases') });
  }
  const pn = mesh['pathNormalization'];
  if (pn !== undefined) {
    const normalization = (pn as Record<string, unknown> | null)?.['normalization'];
    if (normalization !== undefined && (typeof normalization !== 'string' || !NORMALIZATIONS.includes(normalization))) {
      issues.push({ severity: 'error', message: `normalization must be one of ${NORMALIZATIONS.join(', ')}, found ${JSON.stringify(normalization)}`, location: { ...inner.locate(['pathNormalization', 'normalization']), field: 'data.mesh.pathNormalization.normalization' } });
    } else if (typeof normalization === 'string') {
      settings = { ...settings, pathNormalization: normalization === 'DEFAULT' ? 'BASE' : (normalization as PathNormalization) };
    }
  }
  const retry = mesh['defaultHttpRetryPolicy'];
  if (retry !== undefined) {
    if (retry !== null && typeof retry === 'object' && !Array.isArray(retry)) settings = { ...settings, defaultHttpRetryPolicy: retry as HttpRetry };
    else issues.push({ severity: 'error', message: 'must be an HTTPRetry mapping', location: where('defaultHttpRetryPolicy') });
  }
  const minVersion = (mesh['meshMTLS'] as Record<string, unknown> | undefined)?.['minProtocolVersion'];
  if (minVersion === 'TLSV1_3') settings = { ...settings, minTlsVersion: 'TLSv1.3' };
  for (const field of Object.keys(mesh)) {
    if (!READ_FIELDS.has(field)) {
      issues.push({ severity: 'warning', message: `MeshConfig field '${field}' is not read by meshproof; its effect is not checked`, location: { ...inner.locate([field], { key: true }), field: `data.mesh.${field}` } });
    }
  }
  return { settings, issues };
}
