/**
 * Boundary probes generated from the AuthorizationPolicies: for every rule, a request that
 * matches it; for each field, one that just misses; each `notX` value as an edge; the plaintext
 * variant; path-normalization variants. Each probe carries the oracle's expected Decision and the
 * stable id of the rule it exercises, so a run can report rule coverage.
 *
 * Workloads with no policy get one mTLS and one plaintext probe per port (PeerAuthentication).
 */
import { principalOf, toPrincipal } from '../model/identity.ts';
import type { ResolvedMesh, ResolvedPort, ResolvedWorkload } from '../model/resolve.ts';
import { ruleId, type AuthorizationOperation, type AuthorizationPolicy, type AuthorizationRule, type AuthorizationSource } from '../model/resources.ts';
import type { Decision } from './decision.ts';
import { InboundOracle, type InboundRequest, type RequestSource } from './inbound.ts';
import { addressIn, matchesAny, methodMiss, pathMiss, sampleFor } from './probe-values.ts';

export type ProbeKind = 'match' | 'miss' | 'not-edge' | 'plaintext' | 'normalization' | 'mtls';

export interface Probe {
  /** Stable: `<rule id>#<variant>` or `<workload>:<port>#<variant>`. */
  readonly id: string;
  readonly kind: ProbeKind;
  /** The rule this probe exercises (`namespace/policy/rules[i]`), if any. */
  readonly ruleId?: string;
  /** What the probe is meant to do to that rule: match it, or just miss it. */
  readonly intent?: 'match' | 'miss';
  readonly description: string;
  readonly request: InboundRequest;
  readonly expected: Decision;
}

const FILLER = 'probe';
const OTHER_SA = 'meshproof-other';

function sourceFor(mesh: ResolvedMesh, workload: ResolvedWorkload, s: AuthorizationSource | undefined): RequestSource {
  const td = mesh.mesh.trustDomain;
  const positive = s?.principals?.find((p) => p !== '*');
  if (positive !== undefined) {
    const sample = sampleFor(positive, FILLER);
    const parts = sample.split('/');
    // `cluster.local/...` and `*/...` stand for the mesh trust domain.
    const identity = parts.length === 5 && (parts[0] === 'cluster.local' || parts[0] === FILLER) ? [td, ...parts.slice(1)].join('/') : sample;
    return { kind: 'mesh', identity };
  }
  const sa = s?.serviceAccounts?.[0];
  if (sa !== undefined) {
    const [ns, name] = sa.includes('/') ? (sa.split('/') as [string, string]) : [workload.namespace, sa];
    return { kind: 'mesh', identity: principalOf(td, ns, name) };
  }
  const ns = s?.namespaces?.find((n) => n !== '*');
  if (ns !== undefined) return { kind: 'mesh', identity: principalOf(td, sampleFor(ns, FILLER), 'meshproof-probe') };
  const client = mesh.clients.find((c) => c.principal !== undefined && !(s?.notPrincipals !== undefined && matchesAny(c.principal, s.notPrincipals)));
  return { kind: 'mesh', identity: client?.principal ?? principalOf(td, workload.namespace, 'meshproof-probe') };
}

function httpPort(workload: ResolvedWorkload, op: AuthorizationOperation | undefined): ResolvedPort | undefined {
  const wanted = op?.ports?.[0];
  if (wanted !== undefined) return workload.ports.find((p) => String(p.port) === wanted);
  return workload.ports.find((p) => p.protocol === 'http' && !(op?.notPorts ?? []).includes(String(p.port))) ?? workload.ports[0];
}

function matchingRequest(mesh: ResolvedMesh, workload: ResolvedWorkload, rule: AuthorizationRule): InboundRequest | undefined {
  const s = rule.from?.[0]?.source;
  const op = rule.to?.[0]?.operation;
  const port = httpPort(workload, op);
  if (port === undefined) return undefined;
  const headers: Record<string, string> = {};
  let sourceIp: string | undefined;
  let sni: string | undefined;
  for (const c of rule.when ?? []) {
    const h = /^request\.headers\[(.+)\]$/.exec(c.key);
    const v = c.values?.[0];
    if (h !== null && v !== undefined) headers[h[1] ?? ''] = sampleFor(v, FILLER);
    if (c.key === 'source.ip' && v !== undefined) sourceIp = addressIn(v);
    if (c.key === 'connection.sni' && v !== undefined) sni = sampleFor(v, FILLER);
  }
  if (s?.ipBlocks?.[0] !== undefined) sourceIp = addressIn(s.ipBlocks[0]);
  const method = op?.methods?.find((m) => m !== '*') ?? methodMiss('', op?.notMethods ?? []) ?? 'GET';
  const pathPattern = op?.paths?.[0];
  let path = pathPattern === undefined ? `/${FILLER}` : sampleFor(pathPattern, FILLER);
  if (op?.notPaths !== undefined && matchesAny(path, op.notPaths)) path = `${path}-x`;
  const host = op?.hosts?.[0] === undefined ? undefined : sampleFor(op.hosts[0], FILLER);
  return {
    source: sourceFor(mesh, workload, s),
    to: workload.key,
    port: port.port,
    method: sampleFor(method, 'T').toUpperCase(),
    path,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(host === undefined ? {} : { host }),
    ...(sourceIp === undefined ? {} : { sourceIp }),
    ...(sni === undefined ? {} : { sni }),
  };
}

interface Variant {
  readonly suffix: string;
  readonly kind: ProbeKind;
  readonly intent: 'match' | 'miss';
  readonly description: string;
  readonly request: InboundRequest;
}

function otherIdentity(mesh: ResolvedMesh, req: InboundRequest): string {
  const id = req.source.kind === 'plaintext' ? undefined : req.source.identity;
  const parts = toPrincipal(id ?? '').split('/');
  return parts.length === 5 ? [...parts.slice(0, 4), OTHER_SA].join('/') : principalOf(mesh.mesh.trustDomain, 'meshproof', OTHER_SA);
}

function variants(mesh: ResolvedMesh, workload: ResolvedWorkload, rule: AuthorizationRule, base: InboundRequest): Variant[] {
  const out: Variant[] = [{ suffix: 'match', kind: 'match', intent: 'match', description: 'matches every field of the rule', request: base }];
  const s = rule.from?.[0]?.source;
  const op = rule.to?.[0]?.operation;
  const miss = (field: string, description: string, request: InboundRequest): void => {
    out.push({ suffix: `miss:${field}`, kind: 'miss', intent: 'miss', description, request });
  };
  if (s?.principals !== undefined && !s.principals.includes('*')) miss('principals', 'another service account, everything else matching', { ...base, source: { kind: 'mesh', identity: otherIdentity(mesh, base) } });
  if (s?.serviceAccounts !== undefined) miss('serviceAccounts', 'another service account', { ...base, source: { kind: 'mesh', identity: otherIdentity(mesh, base) } });
  if (s?.namespaces !== undefined && !s.namespaces.includes('*')) miss('namespaces', 'a namespace not listed', { ...base, source: { kind: 'mesh', identity: principalOf(mesh.mesh.trustDomain, 'meshproof-other-ns', 'meshproof-probe') } });
  if (s?.ipBlocks !== undefined) miss('ipBlocks', 'a source address outside the blocks', { ...base, sourceIp: '192.0.2.250' });
  if (op?.methods !== undefined) {
    const m = op.methods[0] === undefined ? undefined : methodMiss(op.methods[0], [...op.methods, ...(op.notMethods ?? [])]);
    if (m !== undefined) miss('methods', `method ${m}, not listed`, { ...base, method: m });
  }
  if (op?.paths !== undefined && op.paths[0] !== undefined && op.paths[0] !== '*') {
    const p = pathMiss(op.paths[0]);
    if (!matchesAny(p, op.paths)) miss('paths', `path ${p}, just outside ${op.paths[0]}`, { ...base, path: p });
  }
  if (op?.hosts !== undefined) miss('hosts', 'a host not listed', { ...base, host: 'meshproof-miss.invalid' });
  if (op?.ports !== undefined) {
    const other = workload.ports.find((p) => !op.ports?.includes(String(p.port)));
    if (other !== undefined) miss('ports', `port ${other.port}, not listed`, { ...base, port: other.port });
  }
  for (const c of rule.when ?? []) {
    const h = /^request\.headers\[(.+)\]$/.exec(c.key);
    if (h !== null && c.values !== undefined) {
      const { [h[1] ?? '']: _dropped, ...rest } = (base.headers ?? {}) as Record<string, string>;
      miss(`when:${c.key}`, `without header ${h[1]}`, { ...base, headers: rest });
    }
  }
  // notX edges: the request with the field set to each excluded value.
  s?.notPrincipals?.forEach((v, i) => {
    if (v !== '*') out.push({ suffix: `not:notPrincipals[${i}]`, kind: 'not-edge', intent: 'miss', description: `identity ${v}, excluded by notPrincipals`, request: { ...base, source: { kind: 'mesh', identity: sampleFor(v, FILLER) } } });
  });
  op?.notMethods?.forEach((v, i) => out.push({ suffix: `not:notMethods[${i}]`, kind: 'not-edge', intent: 'miss', description: `method ${v}, excluded by notMethods`, request: { ...base, method: sampleFor(v, 'T').toUpperCase() } }));
  op?.notPaths?.forEach((v, i) => out.push({ suffix: `not:notPaths[${i}]`, kind: 'not-edge', intent: 'miss', description: `path ${sampleFor(v, FILLER)}, excluded by notPaths`, request: { ...base, path: sampleFor(v, FILLER) } }));
  op?.notPorts?.forEach((v, i) => {
    if (workload.ports.some((p) => String(p.port) === v)) out.push({ suffix: `not:notPorts[${i}]`, kind: 'not-edge', intent: 'miss', description: `port ${v}, excluded by notPorts`, request: { ...base, port: Number(v) } });
  });
  out.push({ suffix: 'plaintext', kind: 'plaintext', intent: 'miss', description: 'the matching request without mTLS (no sidecar)', request: { ...base, source: { kind: 'plaintext' } } });
  const path = base.path ?? '/';
  if (workload.ports.find((p) => p.port === base.port)?.protocol === 'http' && path.length > 1) {
    const cut = path.lastIndexOf('/');
    const head = cut > 0 ? path.slice(0, cut) : '';
    const tail = path.slice(cut + 1);
    const norm: [string, string][] = [
      ['//', `${head}//${tail}`],
      ['/./', `${head}/./${tail}`],
      ['/../', `${head}/meshproof/../${tail}`],
      ['%2F', `${head}%2F${tail}`],
      ['%2e', `${head}/%2e/${tail}`],
      ['case', path.toUpperCase() === path ? path.toLowerCase() : path.toUpperCase()],
      [';', `${path};x=1`],
      ['#', `${path}#fragment`],
      ['%00', `${path}%00`],
    ];
    for (const [name, p] of norm) out.push({ suffix: `path:${name}`, kind: 'normalization', intent: 'match', description: `path ${p} (${name} variant of ${path})`, request: { ...base, path: p } });
  }
  return out;
}

/** Most alternative match probes per rule, and ALLOW rules a DENY rule is probed against (GenerateOptions.alternatives). */
const MAX_ALTERNATIVES = 32;

/**
 * The rule narrowed to each alternative it ORs that the main match probe does not take: each
 * `from` and `to` entry after the first, and each value after the first of a positive field
 * (principals, namespaces, serviceAccounts, ipBlocks; methods, paths, hosts, ports; `when` values).
 */
function alternatives(rule: AuthorizationRule): { label: string; rule: AuthorizationRule }[] {
  const out: { label: string; rule: AuthorizationRule }[] = [];
  const from = rule.from ?? [];
  const to = rule.to ?? [];
  from.forEach((entry, i) => {
    if (i > 0) out.push({ label: `from[${i}]`, rule: { ...rule, from: [entry] } });
    const source = entry.source ?? {};
    for (const field of ['principals', 'namespaces', 'serviceAccounts', 'ipBlocks'] as const) {
      (source[field] ?? []).forEach((value, k) => {
        if (k > 0) out.push({ label: `from[${i}].${field}[${k}]`, rule: { ...rule, from: [{ source: { ...source, [field]: [value] } }] } });
      });
    }
  });
  to.forEach((entry, j) => {
    if (j > 0) out.push({ label: `to[${j}]`, rule: { ...rule, to: [entry] } });
    const operation = entry.operation ?? {};
    for (const field of ['methods', 'paths', 'hosts', 'ports'] as const) {
      (operation[field] ?? []).forEach((value, k) => {
        if (k > 0) out.push({ label: `to[${j}].${field}[${k}]`, rule: { ...rule, to: [{ operation: { ...operation, [field]: [value] } }] } });
      });
    }
  });
  (rule.when ?? []).forEach((condition, c) => {
    (condition.values ?? []).forEach((value, k) => {
      if (k > 0) out.push({ label: `when[${c}].values[${k}]`, rule: { ...rule, when: (rule.when ?? []).map((x, n) => (n === c ? { ...x, values: [value] } : x)) } });
    });
  });
  return out.slice(0, MAX_ALTERNATIVES);
}

const IDENTITY_FIELDS = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'requestPrincipals', 'notRequestPrincipals'] as const;

/**
 * A DENY rule matters where an ALLOW rule would let the request through: for each ALLOW rule of
 * the workload, the DENY rule with what it leaves open (who calls, the method, the path, the port)
 * taken from that ALLOW rule's first entries. The request that matches it is stopped by the DENY
 * and would be allowed without it.
 */
function againstAllows(rule: AuthorizationRule, allows: readonly { id: string; rule: AuthorizationRule }[]): { label: string; rule: AuthorizationRule }[] {
  const out: { label: string; rule: AuthorizationRule }[] = [];
  for (const allow of allows.slice(0, MAX_ALTERNATIVES)) {
    const src = rule.from?.[0]?.source ?? {};
    const op = rule.to?.[0]?.operation ?? {};
    const allowSrc = allow.rule.from?.[0]?.source ?? {};
    const allowOp = allow.rule.to?.[0]?.operation ?? {};
    const namesCaller = IDENTITY_FIELDS.some((f) => src[f] !== undefined);
    const source = namesCaller ? src : { ...allowSrc, ...src };
    const operation = {
      ...op,
      ...(op.methods === undefined && op.notMethods === undefined && allowOp.methods !== undefined ? { methods: allowOp.methods } : {}),
      ...(op.paths === undefined && op.notPaths === undefined && allowOp.paths !== undefined ? { paths: allowOp.paths, ...(allowOp.notPaths === undefined ? {} : { notPaths: allowOp.notPaths }) } : {}),
      ...(op.ports === undefined && op.notPorts === undefined && allowOp.ports !== undefined ? { ports: allowOp.ports } : {}),
      ...(op.hosts === undefined && op.notHosts === undefined && allowOp.hosts !== undefined ? { hosts: allowOp.hosts } : {}),
    };
    out.push({ label: `where ${allow.id} allows`, rule: { ...rule, from: [{ source }], to: [{ operation }], when: [...(allow.rule.when ?? []), ...(rule.when ?? [])] } });
  }
  return out;
}

function allowRulesOf(workload: ResolvedWorkload): { id: string; rule: AuthorizationRule }[] {
  return workload.authorizationPolicies
    .filter((p) => (p.spec.action ?? 'ALLOW') === 'ALLOW')
    .flatMap((p) => (p.spec.rules ?? []).map((rule, i) => ({ id: ruleId(p, i), rule })));
}

function policyProbes(mesh: ResolvedMesh, oracle: InboundOracle, workload: ResolvedWorkload, policy: AuthorizationPolicy, options: GenerateOptions): Probe[] {
  const probes: Probe[] = [];
  const allows = options.alternatives === true && policy.spec.action === 'DENY' ? allowRulesOf(workload) : [];
  (policy.spec.rules ?? []).forEach((rule, index) => {
    const base = matchingRequest(mesh, workload, rule);
    if (base === undefined) return;
    const id = ruleId(policy, index);
    const all = variants(mesh, workload, rule, base);
    if (options.alternatives === true) {
      const sent = new Set([JSON.stringify(base)]);
      for (const alt of [...alternatives(rule), ...againstAllows(rule, allows)]) {
        const request = matchingRequest(mesh, workload, alt.rule);
        if (request === undefined || sent.has(JSON.stringify(request))) continue;
        sent.add(JSON.stringify(request));
        all.push({ suffix: `match:${alt.label}`, kind: 'match', intent: 'match', description: `matches the rule through ${alt.label}`, request });
      }
    }
    for (const v of all) {
      probes.push({ id: `${id}@${workload.key}#${v.suffix}`, kind: v.kind, ruleId: id, intent: v.intent, description: v.description, request: v.request, expected: oracle.decide(v.request) });
    }
  });
  return probes;
}

export interface GenerateOptions {
  /**
   * Also a match probe through every alternative a rule ORs (each `from`/`to` entry, each value of
   * a positive field), not only the first, and for a DENY rule one per ALLOW rule it stands in
   * front of: what a diff needs to see a value added to a list, or a DENY removed.
   */
  readonly alternatives?: boolean;
}

/** The boundary probes of one workload: an mTLS and a plaintext probe per port, then its policies' rules. */
export function generateWorkloadProbes(mesh: ResolvedMesh, oracle: InboundOracle, workload: ResolvedWorkload, options: GenerateOptions = {}): Probe[] {
  const probes: Probe[] = [];
  const client = mesh.clients.find((c) => c.principal !== undefined);
  const identity = client?.principal ?? principalOf(mesh.mesh.trustDomain, workload.namespace, 'meshproof-probe');
  for (const port of workload.ports) {
    const base: InboundRequest = { source: { kind: 'mesh', identity }, to: workload.key, port: port.port, method: 'GET', path: '/' };
    const plain: InboundRequest = { ...base, source: { kind: 'plaintext' } };
    probes.push({ id: `${workload.key}:${port.port}#mtls`, kind: 'mtls', description: `GET / over mTLS to port ${port.port} (${port.mtlsMode})`, request: base, expected: oracle.decide(base) });
    probes.push({ id: `${workload.key}:${port.port}#plaintext`, kind: 'mtls', description: `GET / in plaintext to port ${port.port} (${port.mtlsMode})`, request: plain, expected: oracle.decide(plain) });
  }
  for (const policy of workload.authorizationPolicies) probes.push(...policyProbes(mesh, oracle, workload, policy, options));
  const seen = new Set<string>();
  return probes.filter((p) => (seen.has(p.id) ? false : (seen.add(p.id), true)));
}

/** The boundary matrix for every workload of the mesh, in a stable order. */
export function generateProbes(mesh: ResolvedMesh, oracle: InboundOracle = new InboundOracle(mesh)): Probe[] {
  // Ids start with the workload's key, so probes of two workloads never share one.
  return mesh.workloads.flatMap((workload) => generateWorkloadProbes(mesh, oracle, workload));
}

/** Rules exercised by a set of probes, against every rule of the mesh: for a coverage line. */
export function ruleCoverage(mesh: ResolvedMesh, probes: readonly Probe[]): { covered: string[]; uncovered: string[] } {
  const all = new Set<string>();
  for (const w of mesh.workloads) for (const p of w.authorizationPolicies) (p.spec.rules ?? []).forEach((_, i) => all.add(ruleId(p, i)));
  const covered = new Set(probes.map((p) => p.ruleId).filter((x): x is string => x !== undefined));
  return { covered: [...all].filter((r) => covered.has(r)).sort(), uncovered: [...all].filter((r) => !covered.has(r)).sort() };
}
