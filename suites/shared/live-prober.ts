/**
 * The live prober: one request, as a security reviewer would write it ("order-service-sa POSTs
 * /pay/1 to payment-service"), sent for real from the right pod, with the oracle's decision for
 * exactly what was sent and the two-ended check of the result.
 *
 * Who sends it (ProbeSource):
 * - `participant`: a client pod of the topology, as its sidecar would call (env.call: mTLS with its
 *   own workload certificate, plaintext to a DISABLE port; a plaintext client speaks plaintext);
 * - `identity`: an in-mesh caller running as any service account, emulated from the attacker pod
 *   with a certificate the mesh CA issued for that identity (the same auto-mTLS rule: plaintext to
 *   a DISABLE port). Authorization matrices need many identities, not one pod per identity;
 * - `plaintext`: a pod with no sidecar (the topology's plaintext client, else the attacker pod);
 * - `no-client-cert`: TLS with no client certificate, from the attacker pod;
 * - `kit`: the attacker pod presenting one attacker-kit certificate.
 *
 * What the oracle is asked is what was sent: the caller pod's address as source.ip, the
 * destination pod's address as destination.ip, the Host header, every header (the probe tag
 * included). A generated probe that asked for a source address no pod has is re-decided for the
 * address used (see LiveProbeResult.expectationChanged).
 */
import {
  DEFAULT_TRUST_DOMAIN,
  ErrorCode,
  InboundOracle,
  MeshproofError,
  parseIdentity,
  toPrincipal,
  workloadPod,
  type BadCertificate,
  type CallEvidence,
  type ClientTls,
  type Decision,
  type InboundRequest,
  type MeshCa,
  type MeshCall,
  type MeshEnvironment,
  type RequestSource,
  type ResolvedMesh,
  type ResolvedWorkload,
  type WorkloadCredentials,
} from '../../harness/index.ts';
import { callLive } from './live-call.ts';
import { PROBE_HEADER, expectedDecisionOf, matchesDecision, observedAgainst, type ExpectedDecision, type LiveDecision } from './live-decision.ts';

export type ProbeSource =
  | { readonly kind: 'participant'; readonly name: string }
  | { readonly kind: 'identity'; readonly identity: string }
  | { readonly kind: 'plaintext' }
  | { readonly kind: 'no-client-cert' }
  | { readonly kind: 'kit'; readonly certificate: BadCertificate };

export interface LiveProbe {
  readonly source: ProbeSource;
  /** Destination workload, `namespace/name` (its first replica answers). */
  readonly to: string;
  /** Workload port; default the workload's first. */
  readonly port?: number;
  readonly method?: string;
  /** Sent byte for byte. Default `/`. */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A request body (sent as is). */
  readonly body?: string;
  /** `:authority`; default `<service>:<port>` of the service in front of the port (what a client names). */
  readonly host?: string;
  /** TLS server name; a participant with an SNI is emulated from the attacker pod with its identity. */
  readonly sni?: string;
  /** TLS protocol bounds for TLS sources (the handshake floor cases). */
  readonly tlsVersions?: Pick<ClientTls, 'minVersion' | 'maxVersion'>;
  /**
   * An `identity` source speaks mTLS even to a DISABLE port (a client that does TLS itself, not a
   * sidecar following auto mTLS): how a case sees whether a port takes TLS at all.
   */
  readonly forceTls?: boolean;
}

export interface LiveProbeResult {
  readonly probe: LiveProbe;
  readonly tag: string;
  /** Row label: `prod-namespace/order-service-sa`, `plaintext`, `rogue-ca`, … */
  readonly sourceLabel: string;
  /** Column label: `POST /pay/1`. */
  readonly requestLabel: string;
  readonly evidence: CallEvidence;
  /** The pod that sent it, and the destination pod that served it (or was called, when none did). */
  readonly pods: { readonly caller: string; readonly server: string };
  /** The oracle's decision for what was sent. */
  readonly decision: Decision;
  readonly expected: ExpectedDecision;
  readonly observed: LiveDecision;
  /** Undefined when both ends agree with the decision. */
  readonly failure?: Error;
  readonly agrees: boolean;
}

/** Why a request the oracle reasons about cannot be sent live; undefined when it can. */
export function notRunnableLive(request: InboundRequest): string | undefined {
  if (request.remoteIp !== undefined) return 'it names a remote.ip (X-Forwarded-For from a trusted proxy chain), which live probes do not forge';
  if (request.source.kind === 'certificate' && request.source.problem !== undefined) return `its client certificate is described only as '${request.source.problem}'; probe the attacker kit instead`;
  const path = request.path ?? '/';
  if (!path.startsWith('/')) return `its request target '${path}' does not start with '/', so it is no origin-form HTTP request`;
  return undefined;
}

export class LiveProber {
  readonly env: MeshEnvironment;
  readonly ca: MeshCa;
  /** The attacker pod that emulates identities and presents attacker certificates. */
  readonly attacker: string;
  readonly #issued = new Map<string, Promise<WorkloadCredentials>>();
  #oracle: { mesh: ResolvedMesh; oracle: InboundOracle } | undefined;
  #count = 0;

  constructor(env: MeshEnvironment, ca: MeshCa, attacker: string) {
    this.env = env;
    this.ca = ca;
    this.attacker = attacker;
  }

  /**
   * The oracle for the policies in force now. Keyed on the mesh object itself, not on the
   * environment's generation: apply() counts the generation up before it swaps the mesh, so a probe
   * running meanwhile would otherwise cache the old policies under the new generation.
   */
  oracle(): InboundOracle {
    const mesh = this.env.mesh;
    if (this.#oracle?.mesh !== mesh) this.#oracle = { mesh, oracle: new InboundOracle(mesh) };
    return this.#oracle.oracle;
  }

  /** The probe source a request the oracle reasons about stands for: a client pod with that identity if there is one. */
  sourceFor(source: RequestSource): ProbeSource {
    if (source.kind === 'plaintext') return { kind: 'plaintext' };
    if (source.kind === 'certificate') {
      if (source.problem === 'no-client-cert') return { kind: 'no-client-cert' };
      if (source.identity === undefined) throw new MeshproofError(ErrorCode.BadArgument, 'a certificate source with no identity cannot be probed live; use the attacker kit');
      return { kind: 'identity', identity: source.identity };
    }
    const principal = toPrincipal(source.identity);
    const client = this.env.mesh.clients.find((c) => c.principal === principal);
    return client === undefined ? { kind: 'identity', identity: source.identity } : { kind: 'participant', name: client.key };
  }

  /** A live probe for a request the oracle reasons about (a generated probe, an intent). */
  fromRequest(request: InboundRequest): LiveProbe {
    const headers = request.headers === undefined ? undefined : Array.isArray(request.headers) ? mergeHeaderList(request.headers as readonly (readonly [string, string])[]) : (request.headers as Readonly<Record<string, string>>);
    return {
      source: this.sourceFor(request.source),
      to: request.to,
      ...(request.port === undefined ? {} : { port: request.port }),
      ...(request.method === undefined ? {} : { method: request.method }),
      ...(request.path === undefined ? {} : { path: request.path }),
      ...(headers === undefined ? {} : { headers }),
      ...(request.host === undefined ? {} : { host: request.host }),
      ...(request.sni === undefined ? {} : { sni: request.sni }),
    };
  }

  /**
   * Sends the probe and checks it against the oracle's decision for what was sent. Probes to one
   * app must not overlap in time.
   *
   * An in-mesh client pod calls the service in front of the port (through its own sidecar where
   * the data plane has an outbound side, which routes by the Host header), naming it as an app in
   * its namespace would: `payment-service:80`, or `inventory-service.legacy:9080` from another
   * namespace. Every other caller goes straight to the destination's first pod with the same
   * kind of Host header. The oracle is asked after the call, for the pod that served it.
   */
  async run(probe: LiveProbe): Promise<LiveProbeResult> {
    const workload = this.#workload(probe.to);
    const port = probe.port === undefined ? workload.ports[0] : workload.ports.find((p) => p.port === probe.port);
    if (port === undefined) throw new MeshproofError(ErrorCode.BadArgument, `workload ${workload.key} has no port ${probe.port}`, { hint: `its ports: ${workload.ports.map((p) => p.port).join(', ')}` });
    this.#count += 1;
    const tag = `p${this.#count}`;
    const method = probe.method ?? 'GET';
    const path = probe.path ?? '/';
    const caller = await this.#caller(probe, workload, port.mtlsMode);
    const front = serviceInFront(this.env.mesh, workload, port.port);
    const firstPod = workloadPod(workload, 0);
    const host = probe.host ?? (front === undefined ? `${firstPod}:${port.port}` : authority(caller.namespace, front));
    const headers: Record<string, string> = { ...probe.headers, [PROBE_HEADER]: tag };
    const target = caller.inMesh && front !== undefined ? { to: front.key, port: front.port } : { to: firstPod, port: port.port };
    const call: MeshCall = { ...target, method, path, headers: { ...headers, host }, ...(probe.body === undefined ? {} : { body: probe.body }), ...(caller.tls === undefined ? {} : { tls: caller.tls }) };
    const evidence = await callLive(this.env, caller.pod, call);
    const served = servingPod(evidence, workload) ?? firstPod;
    const request: InboundRequest = {
      source: caller.source,
      to: workload.key,
      port: port.port,
      method,
      path,
      headers,
      host,
      sourceIp: this.env.pod(caller.pod).pod.ip,
      destinationIp: this.env.pod(served).pod.ip,
      ...(probe.sni === undefined ? {} : { sni: probe.sni }),
    };
    const decision = this.oracle().decide(request);
    const expected = expectedDecisionOf(decision.outcome);
    if (expected === undefined) throw new MeshproofError(ErrorCode.NotSupported, `the oracle cannot decide ${method} ${path} to ${workload.key}: ${decision.reason}`);
    const failure = matchesDecision(decision, { tag })(evidence);
    return {
      probe,
      tag,
      sourceLabel: caller.label,
      requestLabel: `${method} ${path}`,
      evidence,
      pods: { caller: caller.pod, server: served },
      decision,
      expected,
      observed: observedAgainst(decision, evidence, tag),
      ...(failure === undefined ? {} : { failure }),
      agrees: failure === undefined,
    };
  }

  /** A valid mesh certificate for an identity of the mesh's trust domain (issued once per identity). */
  credentialsFor(identity: string): Promise<WorkloadCredentials> {
    const parsed = parseIdentity(identity);
    if (parsed === undefined) throw new MeshproofError(ErrorCode.BadArgument, `'${identity}' is not a SPIFFE identity of the form [spiffe://]td/ns/<namespace>/sa/<service account>`);
    if (parsed.trustDomain !== this.ca.trustDomain) {
      throw new MeshproofError(ErrorCode.BadArgument, `identity ${identity} is in trust domain '${parsed.trustDomain}'; the mesh CA issues only for '${this.ca.trustDomain}'`, { hint: 'probe a foreign trust domain with the attacker kit (foreign-trust-domain)' });
    }
    const key = `${parsed.namespace}/${parsed.serviceAccount}`;
    let issued = this.#issued.get(key);
    if (issued === undefined) {
      issued = this.ca.issue({ namespace: parsed.namespace, serviceAccount: parsed.serviceAccount });
      this.#issued.set(key, issued);
    }
    return issued;
  }

  #workload(ref: string): ResolvedWorkload {
    const w = this.env.mesh.workloads.find((x) => x.key === ref || x.name === ref);
    if (w === undefined) throw new MeshproofError(ErrorCode.BadArgument, `no workload '${ref}' in this mesh`, { hint: `workloads: ${this.env.mesh.workloads.map((x) => x.key).join(', ')}` });
    return w;
  }

  /**
   * Who sends a probe: the pod, what the oracle is told about the source, the TLS the pod presents
   * (undefined: its own choice, as its sidecar would make it), the namespace its app names
   * services from, and whether it is an in-mesh client pod calling as its app would.
   */
  async #caller(probe: LiveProbe, workload: ResolvedWorkload, mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'): Promise<Caller> {
    const s = probe.source;
    const versions = probe.tlsVersions ?? {};
    const sni = probe.sni === undefined ? {} : { servername: probe.sni };
    switch (s.kind) {
      case 'participant': {
        const pod = this.env.pod(s.name);
        const p = pod.participant;
        if (p.kind === 'plaintext-client' || p.kind === 'attacker') return { pod: p.pod, source: { kind: 'plaintext' }, tls: false, label: `plaintext (${p.name})`, namespace: p.namespace, inMesh: false };
        const identity = this.env.identityOf(s.name)!;
        // What its sidecar cannot be asked to do (another Host, an SNI, TLS bounds) is emulated from the attacker pod.
        if (probe.host !== undefined || probe.sni !== undefined || probe.tlsVersions !== undefined || probe.forceTls === true) return this.#caller({ ...probe, source: { kind: 'identity', identity } }, workload, mode);
        return { pod: p.pod, source: { kind: 'mesh', identity }, label: shortIdentity(identity), namespace: p.namespace, inMesh: true };
      }
      case 'identity': {
        // Named after the pod that really sends it: the same identity from its own client pod is another row.
        const label = `${shortIdentity(s.identity)} (from ${this.attacker})`;
        const namespace = parseIdentity(s.identity)?.namespace;
        // Auto mTLS: a sidecar sends plaintext to a DISABLE port.
        if (mode === 'DISABLE' && probe.forceTls !== true) return { pod: this.attacker, source: { kind: 'mesh', identity: s.identity }, tls: false, label, namespace, inMesh: false };
        const credentials = await this.credentialsFor(s.identity);
        return {
          pod: this.attacker,
          source: probe.forceTls === true ? { kind: 'certificate', identity: s.identity } : { kind: 'mesh', identity: s.identity },
          tls: { ...credentials.clientTls({ expectServerIdentity: workload.spiffeId }), ...versions, ...sni },
          label,
          namespace,
          inMesh: false,
        };
      }
      case 'plaintext': {
        const client = this.env.participants.find((p) => p.kind === 'plaintext-client');
        return { pod: client?.pod ?? this.attacker, source: { kind: 'plaintext' }, tls: false, label: 'plaintext', namespace: client?.namespace, inMesh: false };
      }
      case 'no-client-cert':
        return { pod: this.attacker, source: { kind: 'certificate', problem: 'no-client-cert' }, tls: { ...versions, ...sni }, label: 'TLS, no client certificate', namespace: undefined, inMesh: false };
      case 'kit':
        return { pod: this.attacker, source: kitSource(s.certificate), tls: { certChainPem: s.certificate.certChainPem, keyPem: s.certificate.keyPem, ...versions, ...sni }, label: `attacker: ${s.certificate.kind}`, namespace: undefined, inMesh: false };
    }
  }
}

interface Caller {
  readonly pod: string;
  readonly source: RequestSource;
  readonly tls?: ClientTls | false;
  readonly label: string;
  /** The namespace the caller's app names services from (short names in its own). */
  readonly namespace: string | undefined;
  /** An in-mesh client pod calling as its app would (through its sidecar, where it has an outbound side). */
  readonly inMesh: boolean;
}

interface FrontService {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
}

/** The first service whose port targets this workload port. */
export function serviceInFront(mesh: ResolvedMesh, workload: ResolvedWorkload, port: number): FrontService | undefined {
  for (const d of mesh.destinations) {
    if (!d.workloads.includes(workload.key)) continue;
    const p = d.ports.find((x) => x.targetPort === port);
    if (p !== undefined) return { key: d.key, name: d.name, namespace: d.namespace, port: p.port };
  }
  return undefined;
}

/** The Host an app in `namespace` sends for a service: its short name at home, `name.namespace` from elsewhere. */
export function authority(namespace: string | undefined, service: FrontService): string {
  return namespace === undefined || namespace === service.namespace ? `${service.name}:${service.port}` : `${service.name}.${service.namespace}:${service.port}`;
}

/** The destination pod that handled the call: the one whose sidecar logged it inbound, else the app that received it. */
export function servingPod(evidence: CallEvidence, workload: ResolvedWorkload): string | undefined {
  const pods = new Set(Array.from({ length: workload.replicas }, (_, i) => workloadPod(workload, i)));
  return evidence.accessLog?.find((l) => l.direction === 'inbound' && pods.has(l.pod))?.pod ?? evidence.serverSaw?.find((r) => pods.has(r.pod))?.pod;
}

/**
 * How the oracle reads an attacker-kit certificate. The oracle knows three certificate problems;
 * readings chosen for the kinds it does not name (each ends in a failed handshake either way):
 * not-yet-valid is a validity failure like `expired`; a missing intermediate and a CA certificate
 * used as a leaf both fail chain or key-usage verification, read as `untrusted-ca`.
 */
export function kitSource(certificate: BadCertificate): RequestSource {
  const presented = certificate.uriSans[0];
  switch (certificate.kind) {
    case 'rogue-ca':
    case 'missing-intermediate':
    case 'ca-as-leaf':
      return { kind: 'certificate', ...(presented === undefined ? {} : { identity: presented }), problem: 'untrusted-ca' };
    case 'expired':
    case 'not-yet-valid':
      return { kind: 'certificate', ...(presented === undefined ? {} : { identity: presented }), problem: 'expired' };
    case 'foreign-trust-domain':
    case 'impersonation':
    case 'no-uri-san':
      return { kind: 'certificate', ...(presented === undefined ? {} : { identity: presented }) };
  }
}

/** `prod-namespace/order-service-sa` for an identity of the default trust domain; others keep theirs (`evil.example/ns/x/sa/y`). */
export function shortIdentity(identity: string): string {
  const parsed = parseIdentity(identity);
  if (parsed === undefined) return identity;
  return parsed.trustDomain === DEFAULT_TRUST_DOMAIN ? `${parsed.namespace}/${parsed.serviceAccount}` : toPrincipal(identity);
}

function mergeHeaderList(list: readonly (readonly [string, string])[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [name, value] of list) merged[name] = merged[name] === undefined ? value : `${merged[name]},${value}`;
  return merged;
}
