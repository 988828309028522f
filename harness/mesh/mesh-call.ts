/**
 * A call as a case writes it ("order-client calls payment-service POST /pay/1"), and how it
 * becomes the CallRequest the source pod's agent sends.
 *
 * How each kind of source calls:
 * - an in-mesh source (a workload pod or an in-mesh client) whose sidecar has an outbound side
 *   calls as its app would, in Istio: plaintext to its own sidecar's outbound listener on
 *   127.0.0.1 (the listener of the port called; TCP ports have one per destination), with the
 *   destination in the Host header (`payment-service:80` in the same namespace,
 *   `payment-service.prod:80` from another, `payment-service-1.prod:8080` for one pod). The
 *   sidecar then makes the mutual-TLS call with the pod's identity, checks the server's
 *   (secure naming) and applies the DestinationRule and VirtualService (buildSidecarCallRequest);
 * - an in-mesh source whose data plane has no outbound side, or a call that hands the source its
 *   own `tls` or asks for a bare `tls-handshake`, is made by the agent in the source pod: mutual
 *   TLS with the pod's own certificate checking the destination's identity (auto mTLS), or
 *   plaintext to a DISABLE port (buildCallRequest);
 * - a plaintext client sends plaintext; an attacker sends plaintext, or TLS with whatever `tls`
 *   the case hands it. Both call the pod address and the port its inbound listener binds.
 */
import { ErrorCode, MeshproofError } from '../errors.ts';
import type { EffectiveMtlsMode } from '../model/resolve-peer-authentication.ts';
import type { ResolvedDestination, ResolvedMesh, ResolvedWorkload } from '../model/resolve.ts';
import { MESH_PROBE_ALPN } from '../dataplane/istiod/istio-constants.ts';
import type { OutboundPorts } from '../dataplane/types.ts';
import type { CallRequest, ClientTls } from '../traffic/types.ts';
import type { Participant } from './participants.ts';

export interface MeshCall {
  /** A service (`name`, `namespace/name` or FQDN), a workload (`name` or `namespace/name`), or one pod. */
  readonly to: string;
  /** A service port when `to` is a service, else a workload port. Default: the first. */
  readonly port?: number;
  /** Default GET. */
  readonly method?: string;
  /** Sent byte for byte (no normalization). Default `/`. */
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** `http` (default; over TLS when the source uses TLS), `tcp` (raw, plaintext only) or `tls-handshake`. */
  readonly protocol?: 'http' | 'tcp' | 'tls-handshake';
  /** TLS the source presents instead of its own choice (attackers); `false` forces plaintext. Without `alpn`, Istio's is offered. */
  readonly tls?: ClientTls | false;
  readonly timeoutMs?: number;
}

export interface CallTarget {
  /** The pods that may serve the call (every replica of the workloads behind a service). */
  readonly candidates: readonly string[];
  /** Set when the call names one pod. */
  readonly pod?: string;
  /** The workload port the request reaches (what PeerAuthentication port keys and `ports` rules mean). */
  readonly workloadPort: number;
  /** `payment-service:80` (a service) or `payment-service-0.prod:8080` (a pod), for evidence labels. */
  readonly display: string;
  /** Set when the call names a service: which one, and the service port called. */
  readonly service?: { readonly host: string; readonly name: string; readonly namespace: string; readonly port: number; readonly protocol: 'http' | 'tcp' };
}

export function resolveTarget(mesh: ResolvedMesh, participants: readonly Participant[], call: MeshCall): CallTarget {
  const service = findService(mesh, call.to);
  if (service !== undefined) {
    const port = call.port === undefined ? service.ports[0] : service.ports.find((p) => p.port === call.port);
    if (port === undefined) throw new MeshproofError(ErrorCode.BadArgument, `service ${service.key} has no port ${call.port ?? ''}`, { hint: `ports: ${service.ports.map((p) => p.port).join(', ')}` });
    const candidates = participants.filter((p) => p.workload !== undefined && service.workloads.includes(p.workload.key)).map((p) => p.pod);
    if (candidates.length === 0) throw new MeshproofError(ErrorCode.BadArgument, `service ${service.key} selects no running pod`);
    return { candidates, workloadPort: port.targetPort, display: `${service.name}:${port.port}`, service: { host: service.host, name: service.name, namespace: service.namespace, port: port.port, protocol: port.protocol } };
  }
  const workload = mesh.workloads.find((w) => w.key === call.to || w.name === call.to);
  const pod = participants.find((p) => p.pod === call.to);
  const w: ResolvedWorkload | undefined = workload ?? pod?.workload;
  if (w === undefined) {
    throw new MeshproofError(ErrorCode.BadArgument, `'${call.to}' is no service, workload or workload pod of this mesh`, {
      hint: `services: ${mesh.destinations.map((d) => d.key).join(', ') || '(none)'}; workloads: ${mesh.workloads.map((x) => x.key).join(', ')}`,
    });
  }
  const port = call.port === undefined ? w.ports[0] : w.ports.find((p) => p.port === call.port);
  if (port === undefined) throw new MeshproofError(ErrorCode.BadArgument, `workload ${w.key} has no port ${call.port ?? ''}`, { hint: `ports: ${w.ports.map((p) => p.port).join(', ')}` });
  const candidates = participants.filter((p) => p.workload?.key === w.key).map((p) => p.pod);
  return pod !== undefined && workload === undefined
    ? { candidates, pod: pod.pod, workloadPort: port.port, display: `${pod.pod}:${port.port}` }
    : { candidates, workloadPort: port.port, display: `${w.name}:${port.port}` };
}

function findService(mesh: ResolvedMesh, ref: string): ResolvedDestination | undefined {
  return mesh.destinations.find((d) => d.key === ref || d.host === ref || d.name === ref);
}

export interface CallSource {
  readonly participant: Participant;
  /** The source's own workload certificate (in-mesh sources only). */
  readonly credentials?: { readonly certChainPem: string; readonly keyPem: string; readonly rootCertPem: string };
}

export interface CallDestination {
  readonly ip: string;
  /** The pod port the inbound listener binds for the workload port. */
  readonly port: number;
  /** The destination workload's SPIFFE id (what secure naming expects). */
  readonly identity: string;
  readonly mode: EffectiveMtlsMode;
}

export function buildCallRequest(source: CallSource, destination: CallDestination, call: MeshCall, defaultTimeoutMs: number): CallRequest {
  const tls = chooseTls(source, destination, call);
  const protocol = call.protocol ?? 'http';
  if (protocol === 'tcp' && tls !== undefined) {
    throw new MeshproofError(ErrorCode.BadArgument, `raw TCP calls are plaintext only (from ${source.participant.pod}); speak HTTP over the TCP port instead (protocol 'http'), which the sidecar proxies as TCP`);
  }
  const wire: CallRequest['protocol'] = protocol === 'tls-handshake' ? 'tls-handshake' : protocol === 'tcp' ? 'tcp' : tls === undefined ? 'http' : 'https';
  return {
    protocol: wire,
    host: destination.ip,
    port: destination.port,
    method: call.method ?? 'GET',
    path: call.path ?? '/',
    ...(call.headers === undefined ? {} : { headers: call.headers }),
    ...(call.body === undefined ? {} : { body: call.body }),
    ...(tls === undefined ? (protocol === 'tls-handshake' ? { tls: { alpn: [...MESH_PROBE_ALPN] } } : {}) : { tls }),
    timeoutMs: call.timeoutMs ?? defaultTimeoutMs,
  };
}

/**
 * The TLS a source presents. Mesh TLS offers Istio's ALPN unless the call says otherwise, as a
 * sidecar does: a PERMISSIVE port takes only such ClientHellos into its mTLS chain.
 */
function chooseTls(source: CallSource, destination: CallDestination, call: MeshCall): ClientTls | undefined {
  if (call.tls === false) return undefined;
  if (call.tls !== undefined) return call.tls.alpn === undefined ? { ...call.tls, alpn: [...MESH_PROBE_ALPN] } : call.tls;
  const inMesh = source.participant.kind === 'workload' || source.participant.kind === 'mesh-client';
  if (!inMesh || destination.mode === 'DISABLE') return undefined;
  const c = source.credentials;
  if (c === undefined) throw new MeshproofError(ErrorCode.Internal, `in-mesh source ${source.participant.pod} has no certificate`);
  return { certChainPem: c.certChainPem, keyPem: c.keyPem, caPem: c.rootCertPem, expectServerIdentity: destination.identity, alpn: [...MESH_PROBE_ALPN] };
}

/** True when `source` calls through its own sidecar's outbound side (see the header). */
export function callsThroughSidecar(source: Participant, outbound: OutboundPorts | undefined, call: MeshCall): boolean {
  const inMesh = source.kind === 'workload' || source.kind === 'mesh-client';
  return inMesh && outbound !== undefined && call.tls === undefined && call.protocol !== 'tls-handshake';
}

/** Where a sidecar-bound call goes: a service (by target) or one pod of a workload. */
export type SidecarDestination =
  | { readonly kind: 'service'; readonly service: NonNullable<CallTarget['service']> }
  | { readonly kind: 'pod'; readonly pod: string; readonly port: number; readonly protocol: 'http' | 'tcp' };

/**
 * The app's request to its own sidecar: plaintext to 127.0.0.1 on the outbound listener for the
 * port called, the destination in the Host header (a `host` header the case sets wins).
 */
export function buildSidecarCallRequest(source: Participant, outbound: OutboundPorts, destination: SidecarDestination, call: MeshCall, defaultTimeoutMs: number): CallRequest {
  const protocol = destination.kind === 'service' ? destination.service.protocol : destination.protocol;
  const port = destination.kind === 'service' ? destination.service.port : destination.port;
  const host = destination.kind === 'service' ? destination.service.host : destination.pod;
  let local: number | undefined;
  let authority: string | undefined;
  if (protocol === 'tcp') {
    local = outbound.tcp.get(`${host}:${port}`);
  } else {
    local = outbound.http.get(port);
    if (destination.kind === 'pod') authority = `${destination.pod}:${port}`;
    else {
      const s = destination.service;
      authority = s.namespace === source.namespace ? `${s.name}:${port}` : `${s.name}.${s.namespace}:${port}`;
    }
  }
  if (local === undefined) throw new MeshproofError(ErrorCode.Internal, `the sidecar of ${source.pod} has no outbound listener for ${host}:${port} (${protocol})`);
  const wire = call.protocol === 'tcp' ? 'tcp' : 'http';
  const ownHost = Object.keys(call.headers ?? {}).some((h) => h.toLowerCase() === 'host');
  const headers = authority === undefined || ownHost || wire === 'tcp' ? call.headers : { host: authority, ...call.headers };
  return {
    protocol: wire,
    host: '127.0.0.1',
    port: local,
    method: call.method ?? 'GET',
    path: call.path ?? '/',
    ...(headers === undefined ? {} : { headers }),
    ...(call.body === undefined ? {} : { body: call.body }),
    timeoutMs: call.timeoutMs ?? defaultTimeoutMs,
  };
}
