/**
 * The topology of a run: which namespaces, workloads, services and clients exist. The policies
 * say what must happen; the topology says to whom. Loaded from YAML such as
 * fixtures/seed/topology.yaml and validated with the same file:line:field errors as policies.
 *
 *   apiVersion: meshproof.dev/v1alpha1
 *   kind: Topology
 *   namespaces: [prod-namespace]
 *   workloads:
 *   - name: payment-service            # unique within its namespace
 *     namespace: prod-namespace
 *     serviceAccount: payment-service-sa  # default: default
 *     labels: {app: payment-service}
 *     replicas: 2                       # default: 1
 *     ports: [{port: 8080, protocol: http}]   # container ports; protocol http | tcp
 *   services:
 *   - name: payment-service
 *     namespace: prod-namespace
 *     selector: {app: payment-service}
 *     ports: [{port: 80, targetPort: 8080}]   # protocol comes from the target workload port
 *   clients:
 *   - {name: order-client, namespace: prod-namespace, serviceAccount: order-service-sa}   # in-mesh
 *   - {name: legacy-client, namespace: legacy, sidecar: false}                           # plaintext
 *   jwks:                               # what istiod would fetch for a RequestAuthentication jwksUri,
 *     https://auth.example.com/jwks.json: keys/jwks.json   # read from a file (relative to this one)
 */
import { Ajv, type ErrorObject } from 'ajv';
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { throwIfErrors, type Issue } from './issues.ts';
import { formatFieldPath, pointerToPath } from './source-map.ts';
import { displayPath, readYamlText } from './yaml-files.ts';

export type PortProtocol = 'http' | 'tcp';

export interface WorkloadPort {
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly name?: string;
}

export interface Workload {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly replicas: number;
  readonly ports: readonly WorkloadPort[];
}

export interface ServicePort {
  readonly port: number;
  readonly targetPort: number;
  readonly name?: string;
}

export interface Service {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly ports: readonly ServicePort[];
}

export interface Client {
  readonly name: string;
  readonly namespace: string;
  /** false: a plaintext client with no sidecar and no identity. */
  readonly sidecar: boolean;
  /** Set only for in-mesh clients. */
  readonly serviceAccount?: string;
}

/** A JWKS a jwksUri stands for: istiod fetches the URI; meshproof, which reaches no network, reads this file. */
export interface JwksFile {
  readonly file: string;
  readonly text: string;
}

export interface Topology {
  readonly namespaces: readonly string[];
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  readonly clients: readonly Client[];
  /** jwksUri → the JWKS read from a local file in its place. */
  readonly jwks?: Readonly<Record<string, JwksFile>>;
  /** Where it was loaded from, for messages. */
  readonly file?: string;
}

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const labels = { type: 'object', additionalProperties: { type: 'string' } };
const port = { type: 'integer', minimum: 1, maximum: 65535 };

/** JSON Schema of the topology file, checked with ajv. */
export const TOPOLOGY_SCHEMA = {
  type: 'object',
  required: ['apiVersion', 'kind', 'namespaces', 'workloads'],
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'meshproof.dev/v1alpha1' },
    kind: { const: 'Topology' },
    metadata: { type: 'object', properties: { name: { type: 'string' } } },
    namespaces: { type: 'array', minItems: 1, items: { type: 'string', pattern: DNS_LABEL } },
    workloads: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'namespace', 'ports'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: DNS_LABEL },
          namespace: { type: 'string', pattern: DNS_LABEL },
          serviceAccount: { type: 'string', pattern: DNS_LABEL },
          labels,
          replicas: { type: 'integer', minimum: 1, maximum: 32 },
          ports: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['port', 'protocol'],
              additionalProperties: false,
              properties: { port, protocol: { enum: ['http', 'tcp'] }, name: { type: 'string' } },
            },
          },
        },
      },
    },
    services: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'namespace', 'selector', 'ports'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: DNS_LABEL },
          namespace: { type: 'string', pattern: DNS_LABEL },
          selector: { ...labels, minProperties: 1 },
          ports: {
            type: 'array',
            minItems: 1,
            items: { type: 'object', required: ['port'], additionalProperties: false, properties: { port, targetPort: port, name: { type: 'string' } } },
          },
        },
      },
    },
    jwks: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
    clients: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'namespace'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: DNS_LABEL },
          namespace: { type: 'string', pattern: DNS_LABEL },
          sidecar: { type: 'boolean' },
          serviceAccount: { type: 'string', pattern: DNS_LABEL },
        },
      },
    },
  },
} as const;

let compiled: ReturnType<Ajv['compile']> | undefined;

function schemaMessage(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field '${String(e.params['additionalProperty'])}'`;
    case 'required':
      return `required field '${String(e.params['missingProperty'])}' is missing`;
    case 'enum':
      return `must be one of ${(e.params['allowedValues'] as unknown[]).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(e.params['allowedValue'])}`;
    case 'pattern':
      return 'must be a DNS label: lower-case letters, digits and -, starting and ending with a letter or digit';
    default:
      return e.message ?? e.keyword;
  }
}

/** Parses and validates a topology; problems come back as issues (nothing thrown for content). */
export function parseTopology(text: string, file = '<inline>'): { topology: Topology | undefined; issues: Issue[] } {
  const read = readYamlText(file, text);
  const issues: Issue[] = [...read.issues];
  const docs = read.documents.filter((d) => (d.data as Record<string, unknown> | null)?.['kind'] === 'Topology');
  const doc = docs[0] ?? read.documents[0];
  if (doc === undefined) {
    if (issues.length === 0) issues.push({ severity: 'error', message: 'no Topology document found', location: { file }, hint: 'start the file with apiVersion: meshproof.dev/v1alpha1 and kind: Topology' });
    return { topology: undefined, issues };
  }
  compiled ??= new Ajv({ allErrors: true, strict: true }).compile(TOPOLOGY_SCHEMA);
  if (!compiled(doc.data)) {
    for (const e of compiled.errors ?? []) {
      const path = pointerToPath(e.instancePath);
      const key = e.keyword === 'additionalProperties' ? String(e.params['additionalProperty']) : e.keyword === 'required' ? String(e.params['missingProperty']) : undefined;
      const at = e.keyword === 'additionalProperties' && key !== undefined ? doc.source.locate([...path, key], { key: true }) : doc.source.locate(path);
      issues.push({ severity: 'error', message: `${schemaMessage(e)} (topology)`, location: { ...at, field: formatFieldPath(key === undefined ? path : [...path, key]) } });
    }
    return { topology: undefined, issues };
  }
  const raw = doc.data as {
    namespaces: string[];
    workloads: { name: string; namespace: string; serviceAccount?: string; labels?: Record<string, string>; replicas?: number; ports: WorkloadPort[] }[];
    services?: { name: string; namespace: string; selector: Record<string, string>; ports: { port: number; targetPort?: number; name?: string }[] }[];
    clients?: { name: string; namespace: string; sidecar?: boolean; serviceAccount?: string }[];
    jwks?: Record<string, string>;
  };
  const err = (path: (string | number)[], message: string, hint?: string): void => {
    issues.push({ severity: 'error', message, location: doc.source.locate(path), ...(hint === undefined ? {} : { hint }) });
  };
  const namespaces = new Set(raw.namespaces);
  const checkNamespace = (path: (string | number)[], ns: string): void => {
    if (!namespaces.has(ns)) err(path, `namespace '${ns}' is not declared in namespaces`, `add it to namespaces: [${[...namespaces, ns].join(', ')}]`);
  };
  const names = new Map<string, string>();
  const unique = (path: (string | number)[], what: string, ns: string, name: string): void => {
    const key = `${ns}/${name}`;
    const prior = names.get(key);
    if (prior !== undefined) err(path, `${what} '${key}' has the same name as ${prior}`, 'names are unique per namespace across workloads and clients');
    else names.set(key, `${what} '${key}'`);
  };
  const workloads: Workload[] = raw.workloads.map((w, i) => {
    checkNamespace(['workloads', i, 'namespace'], w.namespace);
    unique(['workloads', i, 'name'], 'workload', w.namespace, w.name);
    const seenPorts = new Set<number>();
    w.ports.forEach((p, j) => {
      if (seenPorts.has(p.port)) err(['workloads', i, 'ports', j, 'port'], `port ${p.port} is listed twice`);
      seenPorts.add(p.port);
    });
    return { name: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount ?? 'default', labels: w.labels ?? { app: w.name }, replicas: w.replicas ?? 1, ports: w.ports };
  });
  const services: Service[] = (raw.services ?? []).map((s, i) => {
    checkNamespace(['services', i, 'namespace'], s.namespace);
    const selected = workloads.filter((w) => w.namespace === s.namespace && Object.entries(s.selector).every(([k, v]) => w.labels[k] === v));
    if (selected.length === 0) err(['services', i, 'selector'], `selects no workload in namespace ${s.namespace}`, 'a service needs at least one workload whose labels match its selector');
    const ports = s.ports.map((p, j) => {
      const targetPort = p.targetPort ?? p.port;
      for (const w of selected) {
        if (!w.ports.some((wp) => wp.port === targetPort)) err(['services', i, 'ports', j, p.targetPort === undefined ? 'port' : 'targetPort'], `target port ${targetPort} is not a port of workload ${w.namespace}/${w.name} (it has ${w.ports.map((wp) => wp.port).join(', ')})`);
      }
      return { port: p.port, targetPort, ...(p.name === undefined ? {} : { name: p.name }) };
    });
    return { name: s.name, namespace: s.namespace, selector: s.selector, ports };
  });
  const serviceNames = new Set<string>();
  services.forEach((s, i) => {
    const key = `${s.namespace}/${s.name}`;
    if (serviceNames.has(key)) err(['services', i, 'name'], `service '${key}' is declared twice`);
    serviceNames.add(key);
  });
  const clients: Client[] = (raw.clients ?? []).map((c, i) => {
    checkNamespace(['clients', i, 'namespace'], c.namespace);
    unique(['clients', i, 'name'], 'client', c.namespace, c.name);
    const sidecar = c.sidecar ?? true;
    if (!sidecar && c.serviceAccount !== undefined) err(['clients', i, 'serviceAccount'], 'a client without a sidecar has no identity, so it cannot have a serviceAccount', 'remove serviceAccount, or set sidecar: true');
    return { name: c.name, namespace: c.namespace, sidecar, ...(sidecar ? { serviceAccount: c.serviceAccount ?? 'default' } : {}) };
  });
  const jwks: Record<string, JwksFile> = {};
  for (const [uri, path] of Object.entries(raw.jwks ?? {})) {
    const full = resolvePath(dirname(file), path);
    try {
      jwks[uri] = { file: full, text: readFileSync(full, 'utf8') };
    } catch {
      err(['jwks', uri], `cannot read the JWKS file '${path}' (${full})`, 'the path is relative to the topology file; meshproof pki jwt --out DIR writes a jwks.json');
    }
  }
  return { topology: { namespaces: raw.namespaces, workloads, services, clients, ...(raw.jwks === undefined ? {} : { jwks }), file }, issues };
}

/** Reads a topology file; throws MeshproofError (exit code 2) on any problem. */
export function loadTopology(file: string): Topology {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new MeshproofError(ErrorCode.FileNotFound, `cannot read topology '${file}'`, { cause, location: { file }, hint: 'pass --topology FILE, or put topology.yaml in the policy directory' });
  }
  const { topology, issues } = parseTopology(text, displayPath(file));
  throwIfErrors(issues, 'topology file');
  if (topology === undefined) throw new MeshproofError(ErrorCode.Internal, `topology '${file}' produced no result and no error`);
  return topology;
}

/** Topology from YAML text; throws on problems. */
export function topologyFromYaml(text: string, file = '<inline>'): Topology {
  const { topology, issues } = parseTopology(text, file);
  throwIfErrors(issues, 'topology');
  if (topology === undefined) throw new MeshproofError(ErrorCode.Internal, 'topology produced no result and no error');
  return topology;
}
