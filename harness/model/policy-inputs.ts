/**
 * A policy directory and its topology, as the CLI commands take them: load a policy directory and its topology.
 * The topology is `--topology FILE`, else `<policy dir>/topology.yaml` when present.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readPolicies, type PolicyLoadResult } from './load-policies.ts';
import { parseTopology, type Topology } from './topology.ts';
import type { Issue } from './issues.ts';
import { ErrorCode, MeshproofError, isMeshproofError } from '../errors.ts';
import { displayPath, readYamlFileText } from './yaml-files.ts';

export const TOPOLOGY_HELP = 'topology YAML (workloads, services, clients); default: <policy dir>/topology.yaml when present';

export function defaultTopologyPath(policyPath: string, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  try {
    if (statSync(policyPath).isDirectory()) {
      const candidate = join(policyPath, 'topology.yaml');
      if (existsSync(candidate)) return candidate;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export interface PolicyInputs {
  readonly policies: PolicyLoadResult;
  readonly topology: Topology | undefined;
  readonly topologyFile: string | undefined;
  readonly issues: readonly Issue[];
}

export function readPolicyInputs(policyPath: string, topologyOption: string | undefined): PolicyInputs {
  const topologyFile = defaultTopologyPath(policyPath, topologyOption);
  const policies = readPolicies([policyPath]);
  if (topologyFile === undefined) return { policies, topology: undefined, topologyFile, issues: policies.issues };
  let text: string;
  try {
    text = readYamlFileText(topologyFile, 'topology file');
  } catch (cause) {
    if (isMeshproofError(cause, ErrorCode.FileNotFound)) throw new MeshproofError(ErrorCode.FileNotFound, `cannot read topology '${topologyFile}'`, { cause, location: { file: topologyFile }, hint: 'pass --topology FILE' });
    throw cause;
  }
  const parsed = parseTopology(text, displayPath(topologyFile));
  return { policies, topology: parsed.topology, topologyFile, issues: [...policies.issues, ...parsed.issues] };
}
