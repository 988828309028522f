/**
 * The mesh environment: a topology and its policies, running. One pod per workload replica (echo
 * app + the data plane's sidecar, with its own workload certificate kept fresh by a CertRotator),
 * one per client (in-mesh clients with a sidecar and identity, plaintext clients without), and
 * attacker pods that present the certificates a case hands them.
 *
 * Suites talk to it in the words of the specification:
 *
 *   const env = await MeshEnvironment.start({ runtime, mesh, dataPlane, ca });
 *   const e = await env.call('order-client', { to: 'payment-service', method: 'POST', path: '/pay/1' });
 *   ctx.expect(e, and(allowed(), peerIdentity(env.identityOf('order-client'))));
 *   await env.apply(resolveMesh(strictPolicies, topology));   // rewrite sidecar configs, await convergence
 *   (await env.metrics('payment-service')).value('envoy_http_rbac_denied');
 *
 * Every call returns two-ended evidence: what the client observed, what the destination apps
 * received meanwhile (echo agents), and the access-log lines the sidecars wrote for it. An
 * in-mesh source calls through its own sidecar's outbound side when the data plane has one
 * (mesh-call.ts), so DestinationRules and VirtualServices act on the client side, as in Istio.
 *
 * For the resilience suite: forward() drives load from inside a pod and returns each request's
 * status, replica, timing and response flags; echoTargets()/setEchoMode() switch replicas' echo
 * fault modes (the targets chaos/faults.ts takes); clusters() reads a client sidecar's /clusters;
 * redirectEndpoint() points a pod's name at another pod (DNS spoofing, for secure naming).
 */
import { join } from 'node:path';
import { resolveTimeouts, type Timeouts } from '../config/timeouts.ts';
import { awaitConvergence } from '../util/await-convergence.ts';
import type { CallEvidence } from '../traffic/evidence.ts';
import { SIDECAR_CERT_DIR, type DataPlaneAdapter, type ProxyTarget, type RenderOptions, type RenderedProxy } from '../dataplane/types.ts';
import { unixGet } from '../dataplane/unix-http.ts';
import { ErrorCode, MeshproofError } from '../errors.ts';
import { publish } from '../events.ts';
import type { ResolvedMesh } from '../model/resolve.ts';
import { CertRotator } from '../pki/cert-rotator.ts';
import type { MeshCa } from '../pki/mesh-ca.ts';
import type { WorkloadCredentials } from '../pki/workload-credentials.ts';
import { READY_LINE, type Pod, type RunNetwork, type Runtime, type WireTapBounds } from '../runtime/types.ts';
import type { Fault } from '../chaos/fault.ts';
import { AgentClient, AGENT_SOCKET } from '../traffic/agent-client.ts';
import type { AccessLogEntry, CallRequest, EchoMode, EchoReport } from '../traffic/types.ts';
import { entriesSince, logSize } from './access-log-file.ts';
import { parseClusters, type ClusterStatus } from './cluster-status.ts';
import { buildCallRequest, buildSidecarCallRequest, callsThroughSidecar, resolveTarget, type CallTarget, type MeshCall } from './mesh-call.ts';
import { forwardDeadline, requestIndexOf, withSidecarDurations, type MeshForward, type MeshForwardEvidence, type MeshForwardResult } from './mesh-forward.ts';
import './mesh-events.ts';
import { MetricSamples } from './metrics.ts';
import { findParticipant, planParticipants, type Participant } from './participants.ts';
import { DEFAULT_WIRE_BOUNDS, WireObserver } from './wire-observer.ts';

/** The echo app's port in pods without a sidecar. */
const APP_PORT_WITHOUT_SIDECAR = 8080;

export interface MeshEnvironmentOptions {
  readonly runtime: Runtime;
  readonly mesh: ResolvedMesh;
  readonly dataPlane: DataPlaneAdapter;
  readonly ca: MeshCa;
  /** Names of attacker pods to start (no sidecar, no identity). */
  readonly attackers?: readonly string[];
  readonly timeouts?: Partial<Timeouts>;
  /** The run seed; the echo apps' ?codes= mixes and the sidecars' fault rolls derive from it. Default 1. */
  readonly seed?: number;
  /** Multiplies policy durations in rendered configs. Default 1. */
  readonly timeScale?: number;
  /** Lifetime of workload certificates (renewed at half of it). Default the CA's (24 h). */
  readonly certificateTtlMs?: number;
  /** Pods started at once. Default 3 (a 2-core machine). */
  readonly startConcurrency?: number;
  /**
   * Capture the pod network from before the first pod starts (WireObserver), within these bounds
   * (`true`: the defaults; the time bound is timeouts.wireCapture). Default: no capture.
   */
  readonly observeWire?: boolean | Partial<WireTapBounds>;
}

/** One running pod of the environment. */
export interface MeshPod {
  readonly participant: Participant;
  readonly pod: Pod;
  readonly agent: AgentClient;
  /** The sidecar's rendering in force (pods with a sidecar). */
  readonly rendered?: RenderedProxy;
  readonly rotator?: CertRotator;
}

export class MeshEnvironment {
  readonly dataPlane: DataPlaneAdapter;
  readonly network: RunNetwork;
  readonly participants: readonly Participant[];
  readonly timeouts: Timeouts;
  readonly #options: MeshEnvironmentOptions;
  readonly #pods = new Map<string, MeshPod>();
  readonly #turn = new Map<string, number>();
  readonly #endpointOverrides = new Map<string, string>();
  /** Pods whose echo agent cannot answer now (a killed or frozen app): calls do not ask them what they received. */
  readonly #agentDown = new Set<string>();
  #mesh: ResolvedMesh;
  #wire: WireObserver | undefined;
  #generation = 1;
  #closed = false;

  private constructor(options: MeshEnvironmentOptions, network: RunNetwork, participants: readonly Participant[]) {
    this.#options = options;
    this.#mesh = options.mesh;
    this.dataPlane = options.dataPlane;
    this.network = network;
    this.participants = participants;
    this.timeouts = resolveTimeouts(options.timeouts);
  }

  /**
   * Starts every pod. Throws MESHPROOF_ERR_RUNTIME_UNAVAILABLE when the data plane cannot run here
   * (the reason is the adapter's), and removes what it started if a pod fails to start.
   */
  static async start(options: MeshEnvironmentOptions): Promise<MeshEnvironment> {
    const info = await options.dataPlane.info();
    if (!info.available) throw new MeshproofError(ErrorCode.RuntimeUnavailable, `data plane ${info.name} cannot run here: ${info.unavailableReason ?? 'unavailable'}`);
    const participants = planParticipants(options.mesh, options.attackers ?? []);
    const network = await options.runtime.createNetwork('mesh');
    const env = new MeshEnvironment(options, network, participants);
    try {
      if (options.observeWire !== undefined && options.observeWire !== false) {
        const bounds = { ...DEFAULT_WIRE_BOUNDS, maxDurationMs: env.timeouts.wireCapture, ...(options.observeWire === true ? {} : options.observeWire) };
        env.#wire = await WireObserver.start(options.runtime, network, bounds, env.timeouts.wireSettle);
      }
      const rendered = new Map<string, RenderedProxy>();
      for (const p of participants) {
        const target = proxyTarget(p, options.mesh);
        if (target !== undefined) rendered.set(p.pod, await options.dataPlane.render(options.mesh, target, env.#renderOptions()));
      }
      const sidecars = new Map([...rendered.values()].map((r) => [`${r.container.image}\0${r.container.hostBinary ?? ''}`, r.container]));
      await options.runtime.prepareImages(['echo', ...sidecars.values()]);
      await mapLimit(participants, options.startConcurrency ?? 3, (p) => env.#startPod(p, rendered.get(p.pod)));
    } catch (error) {
      await env.close();
      throw error;
    }
    return env;
  }

  /** The policies and topology in force. */
  get mesh(): ResolvedMesh {
    return this.#mesh;
  }

  get generation(): number {
    return this.#generation;
  }

  /** The eavesdropper on the pod network, when the environment was started with observeWire. */
  get wire(): WireObserver | undefined {
    return this.#wire;
  }

  /** A running pod by pod name, `namespace/name` or unambiguous name (a workload: its first replica). */
  pod(ref: string): MeshPod {
    const p = findParticipant(this.participants, ref);
    const running = this.#pods.get(p.pod);
    if (running === undefined) throw new MeshproofError(ErrorCode.Internal, `pod ${p.pod} is not running`);
    return running;
  }

  /** The pods of a workload or service (all replicas), or the one pod named. */
  podsOf(ref: string): MeshPod[] {
    const service = this.#mesh.destinations.find((d) => d.key === ref || d.name === ref || d.host === ref);
    const workloads = service?.workloads ?? this.#mesh.workloads.filter((w) => w.key === ref || w.name === ref).map((w) => w.key);
    if (workloads.length > 0) return [...this.#pods.values()].filter((m) => m.participant.workload !== undefined && workloads.includes(m.participant.workload.key));
    return [this.pod(ref)];
  }

  /** The SPIFFE id a participant's sidecar presents; undefined for plaintext clients and attackers. */
  identityOf(ref: string): string | undefined {
    return this.pod(ref).rotator?.identity;
  }

  /** A pod's current workload certificate and key (to craft calls a case needs). */
  credentialsOf(ref: string): WorkloadCredentials {
    const rotator = this.pod(ref).rotator;
    if (rotator === undefined) throw new MeshproofError(ErrorCode.BadArgument, `${ref} has no workload identity`);
    return rotator.current;
  }

  /** Where a call goes: the candidate pods and the workload port (what an oracle needs). */
  target(call: MeshCall): CallTarget {
    return resolveTarget(this.#mesh, this.participants, call);
  }

  /**
   * Makes one call from `from`'s pod and collects both ends: the client's Observation, what the
   * destination apps received during the call, and the access-log lines the sidecars wrote
   * (the source's sidecar too, when the call goes through it). Through a sidecar, a service's
   * replica is chosen by the sidecar's load balancer; otherwise replicas serve in turn.
   */
  async call(from: string, call: MeshCall): Promise<CallEvidence> {
    const source = this.pod(from);
    const target = this.target(call);
    const request = this.#request(source, target, call);
    const watched = target.candidates.filter((pod) => !this.#agentDown.has(pod)).map((pod) => this.#pods.get(pod)!);
    const marks = await this.#mark(watched, source);
    const observation = await source.agent.call(request);
    await this.#settleLogs(marks, source.rendered?.outbound !== undefined && request.host === '127.0.0.1', observation.outcome === 'tls-error');
    const { received, logged } = await this.#since(marks);
    const label = `${source.participant.name} ${call.method ?? 'GET'} ${call.path ?? '/'} → ${target.display}`;
    publish('mesh:call', { label, outcome: observation.outcome, ...(observation.status === undefined ? {} : { status: observation.status }), durationMs: observation.durationMs });
    return { label, from: source.participant.pod, to: target.display, observation, serverSaw: received.flat(), accessLog: logged.flat() };
  }

  /**
   * Sends `spec.count` requests from `from`'s pod (its echo agent's forwarder, through its own
   * sidecar for an in-mesh source) and returns each one's status, replica, timing and response
   * flags, what every destination app received meanwhile, and the source sidecar's log lines.
   */
  async forward(from: string, spec: MeshForward): Promise<MeshForwardEvidence> {
    const source = this.pod(from);
    const call: MeshCall = { to: spec.to, ...pick(spec, ['port', 'method', 'path', 'headers', 'body', 'timeoutMs']) };
    const target = this.target(call);
    const request = this.#request(source, target, call);
    const watched = target.candidates.filter((pod) => !this.#agentDown.has(pod)).map((pod) => this.#pods.get(pod)!);
    const marks = await this.#mark(watched, source);
    const deadline = spec.deadlineMs ?? forwardDeadline(spec, call.timeoutMs ?? this.timeouts.probe);
    const response = await source.agent.forward({ request, count: spec.count, ...pick(spec, ['concurrency', 'ratePerSecond', 'keepAlive']) }, deadline);
    await this.#settleLogs(marks, source.rendered?.outbound !== undefined && request.host === '127.0.0.1');
    const { received, logged } = await this.#since(marks);
    const flagsHeader = source.rendered?.responseFlagsHeader;
    const results: MeshForwardResult[] = response.results.map((r) => {
      const flags = flagsHeader === undefined ? undefined : r.headers?.[flagsHeader];
      return flags === undefined ? r : { ...r, responseFlags: flags };
    });
    const counts: Record<string, number> = {};
    watched.forEach((m, i) => (counts[m.participant.pod] = received[i]!.length));
    const receipts = received.flat().map((report) => ({ pod: report.pod, index: requestIndexOf(report) }));
    const label = `${source.participant.name} ${call.method ?? 'GET'} ${call.path ?? '/'} ×${spec.count} → ${target.display}`;
    const sourceLog = source.rendered?.accessLog === undefined ? [] : (logged[marks.logs.indexOf(source)] ?? []);
    const outbound = sourceLog.filter((e) => e.direction === 'outbound');
    return { label, from: source.participant.pod, to: target.display, startedAt: response.startedAt, results: withSidecarDurations(results, outbound, spec.concurrency ?? 1), received: counts, receipts, accessLog: outbound };
  }

  /** The request the source pod's agent sends: to its own sidecar, or straight to a destination pod. */
  #request(source: MeshPod, target: CallTarget, call: MeshCall): CallRequest {
    const outbound = source.rendered?.outbound;
    if (outbound !== undefined && callsThroughSidecar(source.participant, outbound, call)) {
      if (target.service !== undefined && target.pod === undefined) return buildSidecarCallRequest(source.participant, outbound, { kind: 'service', service: target.service }, call, this.timeouts.probe);
      const pod = target.pod ?? this.#nextPod(target);
      const w = this.#pods.get(pod)!.participant.workload!;
      const protocol = w.ports.find((p) => p.port === target.workloadPort)?.protocol ?? 'http';
      return buildSidecarCallRequest(source.participant, outbound, { kind: 'pod', pod, port: target.workloadPort, protocol }, call, this.timeouts.probe);
    }
    const destination = this.#pods.get(target.pod ?? this.#nextPod(target))!;
    const workload = this.#mesh.workloads.find((w) => w.key === destination.participant.workload!.key)!;
    const port = workload.ports.find((p) => p.port === target.workloadPort)!;
    return buildCallRequest(
      { participant: source.participant, ...(source.rotator === undefined ? {} : { credentials: source.rotator.current }) },
      { ip: destination.pod.ip, port: destination.rendered?.inboundPorts.get(port.port) ?? port.port, identity: workload.spiffeId, mode: port.mtlsMode },
      call,
      this.timeouts.probe,
    );
  }

  /** Marks where the destination apps' records and the sidecars' logs stand before a call. */
  async #mark(watched: readonly MeshPod[], source: MeshPod): Promise<{ watched: readonly MeshPod[]; ids: number[]; logs: MeshPod[]; sizes: number[] }> {
    const logs = [...new Set([...watched, source])].filter((m) => m.rendered?.accessLog !== undefined && m.pod.sidecar !== undefined);
    const [ids, sizes] = await Promise.all([Promise.all(watched.map((m) => m.agent.lastRequestId())), Promise.all(logs.map((m) => logSize(this.#logPath(m))))]);
    return { watched, ids, logs, sizes };
  }

  /**
   * Waits, bounded by timeouts.accessLogSettle, until the sidecars that buffer their access log
   * have written their lines about the call: a line at some destination (and at the source, when
   * the call went through its sidecar), then one more flush interval for the rest. A proxy that
   * writes before it answers (the reference sidecar) costs nothing here.
   */
  async #settleLogs(marks: { watched: readonly MeshPod[]; logs: MeshPod[]; sizes: number[] }, throughSource: boolean, handshakeFailed = false): Promise<void> {
    const flushMs = Math.max(0, ...marks.logs.map((m) => m.rendered?.accessLogFlushMs ?? 0));
    if (flushMs === 0) return;
    // A connection whose TLS handshake failed has no HTTP stream and no listener-level line in
    // Envoy (which logs only NR there, as istiod writes it): a line is not waited for as long.
    const deadline = performance.now() + (handshakeFailed ? Math.min(this.timeouts.accessLogSettle, 10 * flushMs) : this.timeouts.accessLogSettle);
    const grown = async (pods: readonly MeshPod[]): Promise<boolean> => {
      for (const m of pods) {
        const i = marks.logs.indexOf(m);
        if (i >= 0 && (await logSize(this.#logPath(m))) > marks.sizes[i]!) return true;
      }
      return pods.every((m) => !marks.logs.includes(m));
    };
    const sourcePods = throughSource ? marks.logs.filter((m) => !marks.watched.includes(m)) : [];
    while (performance.now() < deadline) {
      if ((await grown(marks.watched)) && (sourcePods.length === 0 || (await grown(sourcePods)))) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10, flushMs)));
    }
    await new Promise((resolve) => setTimeout(resolve, flushMs + 5));
  }

  async #since(marks: { watched: readonly MeshPod[]; ids: number[]; logs: MeshPod[]; sizes: number[] }): Promise<{ received: EchoReport[][]; logged: AccessLogEntry[][] }> {
    const [received, logged] = await Promise.all([
      Promise.all(marks.watched.map((m, i) => m.agent.received(marks.ids[i]))),
      Promise.all(marks.logs.map((m, i) => entriesSince(this.#logPath(m), marks.sizes[i]))),
    ]);
    return { received, logged };
  }

  #logPath(m: MeshPod): string {
    return join(m.pod.sidecar!.hostDir, m.rendered!.accessLog!);
  }

  /**
   * New policies for the same topology: every sidecar's config is rendered again and rewritten
   * in place, then this waits (awaitConvergence, timeouts.convergence) until every sidecar says
   * it enforces the new generation.
   */
  async apply(mesh: ResolvedMesh): Promise<void> {
    assertSameTopology(this.#mesh, mesh);
    await this.#rerender(mesh);
  }

  /**
   * DNS spoofing: every sidecar's endpoint for `pod` (a replica's pod name) now points at
   * `impostor`'s address, as if the name resolved there. Secure naming must make calls to it
   * fail (503 UF) instead of reaching the impostor. Undo with restoreEndpoints().
   */
  async redirectEndpoint(pod: string, impostor: string): Promise<void> {
    const victim = this.pod(pod);
    const to = this.pod(impostor);
    if (victim.participant.kind !== 'workload') throw new MeshproofError(ErrorCode.BadArgument, `${pod} is not a workload replica: only a replica is an endpoint`);
    this.#endpointOverrides.set(victim.participant.pod, to.participant.pod);
    await this.#rerender(this.#mesh);
  }

  async restoreEndpoints(): Promise<void> {
    if (this.#endpointOverrides.size === 0) return;
    this.#endpointOverrides.clear();
    await this.#rerender(this.#mesh);
  }

  async #rerender(mesh: ResolvedMesh): Promise<void> {
    const live = this.dataPlane.liveReload;
    if (live === undefined) throw new MeshproofError(ErrorCode.NotSupported, `data plane ${this.dataPlane.name} cannot change policies in running pods`, { hint: 'start a new environment with the new policies' });
    this.#generation += 1;
    const generation = this.#generation;
    const withSidecar = [...this.#pods.values()].filter((m) => m.pod.sidecar !== undefined);
    for (const m of withSidecar) {
      const target = proxyTarget(m.participant, mesh);
      if (target === undefined) continue;
      const rendered = await this.dataPlane.render(mesh, target, this.#renderOptions());
      await rendered.write(m.pod.sidecar!.hostDir);
      this.#pods.set(m.participant.pod, { ...m, rendered });
    }
    this.#mesh = mesh;
    const converged = await awaitConvergence(
      async () => {
        for (const m of withSidecar) {
          const applied = await live.appliedGeneration(m.pod.sidecar!.hostDir);
          if (applied !== generation) return new Error(`${m.participant.pod} enforces generation ${applied ?? 'unknown'}, not ${generation}`);
        }
        return undefined;
      },
      { name: `policy generation ${generation} in effect on ${withSidecar.length} sidecars`, timeoutMs: this.timeouts.convergence, intervalMs: this.timeouts.convergenceInterval },
    );
    publish('mesh:applied', { generation, sidecars: withSidecar.length, convergedInMs: converged.elapsedMs });
  }

  /** Metrics from the sidecars of a pod, workload or service (replicas added up). */
  async metrics(ref: string): Promise<MetricSamples> {
    const pods = this.podsOf(ref).filter((m) => m.rendered?.metricsSocket !== undefined && m.pod.sidecar !== undefined);
    if (pods.length === 0) throw new MeshproofError(ErrorCode.BadArgument, `${ref} has no sidecar exposing metrics`);
    const scraped = await Promise.all(
      pods.map(async (m) => {
        const answer = await unixGet(join(m.pod.sidecar!.hostDir, m.rendered!.metricsSocket!), '/stats/prometheus', this.timeouts.control);
        if (answer.status !== 200) throw new MeshproofError(ErrorCode.RuntimeOperation, `metrics of ${m.participant.pod}: status ${answer.status}`);
        return MetricSamples.parse(answer.body);
      }),
    );
    return MetricSamples.merge(scraped);
  }

  /** Everything the sidecars of a pod, workload or service have logged so far. */
  async accessLog(ref: string): Promise<AccessLogEntry[]> {
    const pods = this.podsOf(ref).filter((m) => m.rendered?.accessLog !== undefined && m.pod.sidecar !== undefined);
    return (await Promise.all(pods.map((m) => entriesSince(join(m.pod.sidecar!.hostDir, m.rendered!.accessLog!))))).flat();
  }

  /** The upstream clusters of a pod's sidecar (`/clusters?format=json`): hosts, ejections, counters. */
  async clusters(ref: string): Promise<ClusterStatus[]> {
    const m = this.pod(ref);
    if (m.rendered?.metricsSocket === undefined || m.pod.sidecar === undefined) throw new MeshproofError(ErrorCode.BadArgument, `${ref} has no sidecar admin socket`);
    const answer = await unixGet(join(m.pod.sidecar.hostDir, m.rendered.metricsSocket), '/clusters?format=json', this.timeouts.control);
    if (answer.status !== 200) throw new MeshproofError(ErrorCode.RuntimeOperation, `/clusters of ${m.participant.pod}: status ${answer.status}`);
    return parseClusters(answer.body, m.participant.pod);
  }

  /**
   * A whole-pod fault on one replica, undone by revert(): `crash` kills its app container (SIGKILL;
   * the sidecar stays, as when an app crashes in Kubernetes) and starts it again; `freeze` pauses
   * both containers (cgroup freezer: connections stay open, nothing answers); `partition` cuts the
   * pod off the run network and reconnects it with the same address. While the app cannot answer,
   * forward() leaves it out of what the apps received (its count is absent, not zero).
   */
  podFault(kind: 'crash' | 'freeze' | 'partition', ref: string): Fault {
    const m = this.pod(ref);
    const pod = m.pod;
    const name = m.participant.pod;
    const sidecar = pod.sidecar;
    switch (kind) {
      case 'crash':
        return {
          description: `${name}'s app is killed (SIGKILL); its sidecar stays`,
          target: name,
          inject: async () => {
            this.#agentDown.add(name);
            await pod.app.kill('SIGKILL');
          },
          revert: async () => {
            await pod.app.start();
            this.#agentDown.delete(name);
          },
        };
      case 'freeze':
        return {
          description: `${name} is frozen (its app and sidecar paused by the cgroup freezer)`,
          target: name,
          inject: async () => {
            this.#agentDown.add(name);
            await pod.app.pause();
            await sidecar?.pause();
          },
          revert: async () => {
            await sidecar?.unpause();
            await pod.app.unpause();
            this.#agentDown.delete(name);
          },
        };
      case 'partition':
        return { description: `${name} is cut off the run network`, target: name, inject: () => pod.disconnect(), revert: () => pod.reconnect() };
    }
  }

  /** The echo apps of a pod, workload or service, as fault targets (chaos/faults.ts EchoTarget). */
  echoTargets(ref: string): { readonly pod: string; readonly agent: AgentClient }[] {
    return this.podsOf(ref).map((m) => ({ pod: m.participant.pod, agent: m.agent }));
  }

  /** Switches the echo app of every pod of `ref` to `mode` (fail, mix, slow, reset, hang, normal). */
  async setEchoMode(ref: string, mode: EchoMode): Promise<void> {
    await Promise.all(this.podsOf(ref).map((m) => m.agent.setMode(mode)));
  }

  /** Issues the pod a new certificate now (the PKI's `..data` switch); the sidecar picks it up. */
  async rotateCertificates(ref: string): Promise<WorkloadCredentials> {
    const rotator = this.pod(ref).rotator;
    if (rotator === undefined) throw new MeshproofError(ErrorCode.BadArgument, `${ref} has no workload certificate`);
    return rotator.rotateNow();
  }

  /** Stops certificate renewals and removes the environment's pods (the runtime keeps its network until it closes). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pods = [...this.#pods.values()];
    await Promise.allSettled(pods.map((m) => m.rotator?.stop()));
    await Promise.allSettled(pods.map((m) => m.agent.close()));
    await Promise.allSettled(pods.map((m) => m.pod.remove()));
    await this.#wire?.stop();
  }

  #renderOptions(): RenderOptions {
    return {
      generation: this.#generation,
      timeScale: this.#options.timeScale ?? 1,
      seed: this.#options.seed ?? 1,
      ...(this.#endpointOverrides.size === 0 ? {} : { endpointOverrides: new Map(this.#endpointOverrides) }),
    };
  }

  #nextPod(target: CallTarget): string {
    const turn = this.#turn.get(target.display) ?? 0;
    this.#turn.set(target.display, turn + 1);
    return target.candidates[turn % target.candidates.length]!;
  }

  async #startPod(p: Participant, rendered: RenderedProxy | undefined): Promise<void> {
    const o = this.#options;
    let rotator: CertRotator | undefined;
    const pod = await o.runtime.startPod({
      name: p.pod,
      network: this.network,
      app: { image: 'echo', readyLine: READY_LINE, env: { ECHO_PORT: String(rendered?.appPort ?? APP_PORT_WITHOUT_SIDECAR), ECHO_SEED: String(o.seed ?? 1) } },
      ...(rendered === undefined ? {} : { sidecar: rendered.container }),
      labels: { 'org.meshproof.participant': p.kind },
      prepare: async (dirs) => {
        if (rendered === undefined || dirs.sidecar === undefined) return;
        rotator = await CertRotator.start({
          ca: o.ca,
          workload: { namespace: p.namespace!, serviceAccount: p.serviceAccount! },
          dir: join(dirs.sidecar, SIDECAR_CERT_DIR),
          ...(o.certificateTtlMs === undefined ? {} : { ttlMs: o.certificateTtlMs }),
        });
        await rendered.write(dirs.sidecar);
      },
    }).catch(async (error: unknown) => {
      await rotator?.stop();
      throw error;
    });
    const agent = new AgentClient(join(pod.app.hostDir, AGENT_SOCKET), this.timeouts.control);
    publish('mesh:pod', { pod: p.pod, kind: p.kind, ip: pod.ip, ...(rendered === undefined ? {} : { sidecar: rendered.container.image }) });
    this.#pods.set(p.pod, { participant: p, pod, agent, ...(rendered === undefined ? {} : { rendered }), ...(rotator === undefined ? {} : { rotator }) });
  }
}

/** The proxy of a participant, as `mesh` (the policies in force, or about to be) resolves it. */
function proxyTarget(p: Participant, mesh: ResolvedMesh): ProxyTarget | undefined {
  if (p.kind === 'workload' && p.workload !== undefined) {
    const workload = mesh.workloads.find((w) => w.key === p.workload!.key);
    return workload === undefined ? undefined : { kind: 'workload', workload, pod: p.pod };
  }
  if (p.kind === 'mesh-client' && p.client !== undefined) {
    const client = mesh.clients.find((c) => c.key === p.client!.key);
    return client === undefined ? undefined : { kind: 'client', client, pod: p.pod };
  }
  return undefined;
}

/** apply() changes policies only: the same workloads, replicas, ports and clients. */
function assertSameTopology(before: ResolvedMesh, after: ResolvedMesh): void {
  const shape = (m: ResolvedMesh): string =>
    JSON.stringify({
      workloads: m.workloads.map((w) => [w.key, w.serviceAccount, w.replicas, w.ports.map((p) => [p.port, p.protocol])]),
      clients: m.clients.map((c) => [c.key, c.client.sidecar, c.client.serviceAccount ?? null]),
    });
  if (shape(before) !== shape(after)) {
    throw new MeshproofError(ErrorCode.BadArgument, 'apply() takes new policies for the same topology; the workloads, replicas, ports or clients differ', { hint: 'start a new MeshEnvironment for another topology' });
  }
}

async function mapLimit<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await run(item);
      } catch (error) {
        errors.push(error);
        next = items.length;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (errors.length > 0) throw errors[0];
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}
