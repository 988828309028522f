/**
 * The reference sidecar: inbound listeners, the outbound side (outbound/outbound-side.ts), admin,
 * access log and metrics, driven by one config file and the certificate files, both watched.
 *
 * - Config change: the file is parsed and compiled first; a bad file is refused (the old config
 *   stays, /config_dump says why). New connections get the new generation; connections of older
 *   generations finish what is in flight and close (HTTP: the next answer says `connection: close`
 *   and the connection closes after it; any: after drainTimeoutMs, Envoy's drain time). An idle
 *   one is not closed at once: the client may be sending on it. /config_dump counts the
 *   connections still draining; the harness waits for none, as it waits for Envoy's
 *   `listener_manager.total_filter_chains_draining`. Listeners are added and removed with the ports.
 * - Certificate change: the next handshakes use the new certificate; nothing is closed.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Pool } from './undici-core.ts';
import { isMeshproofError } from '../../../errors.ts';
import { parseSidecarConfig, type SidecarConfig } from '../config.ts';
import { AccessLog } from './access-log.ts';
import { AdminServer } from './admin-server.ts';
import { CertificateStore, uriSans } from './certificate-store.ts';
import type { SidecarState } from './downstream.ts';
import { watchFolder, type FolderWatch } from './folder-watch.ts';
import { HttpInbound } from './http-inbound.ts';
import { InboundListener } from './inbound-listener.ts';
import { clustersJson, clustersText } from './outbound/clusters-admin.ts';
import { OutboundSide } from './outbound/outbound-side.ts';
import { compileListener } from './outbound/route-table.ts';
import { JwtAuthn } from './jwt-authn.ts';
import { RbacEngine } from './rbac-engine.ts';
import { SidecarStats } from './stats.ts';
import { REFERENCE_SIDECAR_VERSION } from './version.ts';

export { REFERENCE_SIDECAR_VERSION };

export interface SidecarOptions {
  readonly configPath: string;
  /** Diagnostics (not the access log). Default: stderr. */
  readonly diagnostics?: (line: string) => void;
  /** How often the folders are polled in case a file event is lost. Default 1000 ms. */
  readonly pollMs?: number;
}

export function compileState(config: SidecarConfig): SidecarState {
  // Route tables compile again when applied; compiling here refuses a bad regex with the whole config.
  for (const l of config.outbound?.listeners ?? []) compileListener(l);
  const http = config.inbound.rbac.http;
  return {
    config,
    generation: config.generation,
    rbac: { httpCustom: new RbacEngine(http.filter((f) => f.source === 'custom')), http: new RbacEngine(http.filter((f) => f.source !== 'custom')), tcp: new RbacEngine(config.inbound.rbac.tcp) },
    ...(config.inbound.jwtAuthn === undefined ? {} : { jwt: new JwtAuthn(config.inbound.jwtAuthn) }),
  };
}

export class Sidecar {
  readonly #options: SidecarOptions;
  readonly #stats: SidecarStats;
  readonly #accessLog: AccessLog;
  readonly #certificates: CertificateStore;
  readonly #http: HttpInbound;
  readonly #admin: AdminServer;
  readonly #outbound: OutboundSide;
  readonly #listeners = new Map<number, InboundListener>();
  /** Listeners removed from the config whose connections are still draining. */
  readonly #removed = new Set<InboundListener>();
  readonly #pools = new Map<number, Pool>();
  readonly #watches: FolderWatch[] = [];
  readonly #startedAt = Date.now();
  #state: SidecarState;
  #configText: string;
  #lastReloadError: string | undefined;
  #lastCertificateError: string | undefined;
  #ready = false;
  #reloading: Promise<void> = Promise.resolve();

  private constructor(options: SidecarOptions, text: string, state: SidecarState, certificates: CertificateStore) {
    this.#options = options;
    this.#configText = text;
    this.#state = state;
    const config = state.config;
    this.#certificates = certificates;
    this.#stats = new SidecarStats(config.node);
    this.#stats.configGeneration.set(config.generation);
    this.#stats.certificateLoad('success');
    this.#accessLog = new AccessLog(config.accessLog);
    this.#http = new HttpInbound({
      pod: config.node.pod,
      stats: this.#stats,
      accessLog: this.#accessLog,
      upstream: (port) => this.#pool(port),
      maxHeaderBytes: config.inbound.maxRequestHeadersKb * 1024,
      diagnostics: (line) => this.#diagnose(line),
    });
    this.#outbound = new OutboundSide({ pod: config.node.pod, stats: this.#stats, accessLog: this.#accessLog, certificates, diagnostics: (line) => this.#diagnose(line) });
    this.#admin = new AdminServer({
      ready: () => this.#ready,
      metrics: () => this.#stats.metrics(),
      configDump: () => this.configDump(),
      certs: () => this.#certs(),
      serverInfo: () => ({ version: REFERENCE_SIDECAR_VERSION, state: this.#ready ? 'LIVE' : 'PRE_INITIALIZING', uptime_seconds: Math.round((Date.now() - this.#startedAt) / 1000), node: this.#state.config.node, memory: process.memoryUsage() }),
      clusters: (format) => (format === 'json' ? clustersJson(this.#outbound.clusters()) : clustersText(this.#outbound.clusters())),
    });
  }

  /** Reads the config and certificates, binds every listener and the admin socket. */
  static async start(options: SidecarOptions): Promise<Sidecar> {
    const text = await readFile(options.configPath, 'utf8');
    const config = withPathsFrom(dirname(options.configPath), parseSidecarConfig(text, options.configPath));
    const state = compileState(config);
    const certificates = await CertificateStore.load(config.certificates.dir, config.mesh);
    const sidecar = new Sidecar(options, text, state, certificates);
    try {
      for (const port of config.inbound.ports) await sidecar.#addListener(port);
      const outboundError = await sidecar.#outbound.apply(config.outbound);
      if (outboundError !== undefined) throw new Error(outboundError);
      await sidecar.#admin.listen(config.admin.socket, config.admin.port === undefined ? undefined : { port: config.admin.port, address: config.admin.address ?? '127.0.0.1' });
    } catch (error) {
      await sidecar.close();
      throw error;
    }
    const pollMs = options.pollMs ?? 1000;
    sidecar.#watches.push(watchFolder(dirname(options.configPath), () => sidecar.reload(), { pollMs }));
    sidecar.#watches.push(watchFolder(config.certificates.dir, () => sidecar.reloadCertificates(), { pollMs }));
    sidecar.#ready = true;
    return sidecar;
  }

  get generation(): number {
    return this.#state.generation;
  }

  /** Bound addresses of the inbound listeners (useful when tests bind port numbers they chose). */
  get listeners(): readonly { readonly port: number; readonly address: string }[] {
    return [...this.#listeners.values()].map((l) => ({ port: l.port, address: l.address }));
  }

  /**
   * Re-reads the config file; applies it if it changed and is valid. Never throws. Calls run one
   * after another: a read that started earlier (an older file) is never applied after a newer one.
   */
  reload(): Promise<void> {
    const next = this.#reloading.then(() => this.#reloadOnce());
    this.#reloading = next;
    return next;
  }

  async #reloadOnce(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#options.configPath, 'utf8');
    } catch (error) {
      this.#rejectConfig(`cannot read ${this.#options.configPath}: ${(error as Error).message}`);
      return;
    }
    if (text === this.#configText) return;
    let state: SidecarState;
    try {
      state = compileState(withPathsFrom(dirname(this.#options.configPath), parseSidecarConfig(text, this.#options.configPath)));
    } catch (error) {
      this.#configText = text;
      this.#rejectConfig(isMeshproofError(error) ? error.toString() : (error as Error).message);
      return;
    }
    this.#configText = text;
    await this.#apply(state);
  }

  async #apply(state: SidecarState): Promise<void> {
    const previous = this.#state.config;
    this.#state = state;
    this.#lastReloadError = undefined;
    // The TLS floor and cipher suites apply to the next handshakes, as Envoy's listener update does.
    try {
      if (await this.#certificates.retune(state.config.mesh)) this.#diagnose(`config generation ${state.generation}: TLS minimum ${state.config.mesh.minTlsVersion}, ${state.config.mesh.cipherSuites.length} TLS ≤ 1.2 cipher suites`);
    } catch (error) {
      this.#lastReloadError = `TLS settings refused, the previous ones stay: ${(error as Error).message}`;
    }
    const inbound = state.config.inbound;
    const wanted = new Map(inbound.ports.map((p) => [p.port, p]));
    for (const [port, listener] of this.#listeners) {
      const next = wanted.get(port);
      if (next === undefined) {
        this.#listeners.delete(port);
        this.#removed.add(listener);
        void listener.close(inbound.drainTimeoutMs).then(() => this.#removed.delete(listener));
      } else {
        listener.update(next, inbound.drainTimeoutMs);
      }
    }
    for (const port of inbound.ports) {
      if (this.#listeners.has(port.port)) continue;
      try {
        await this.#addListener(port);
      } catch (error) {
        this.#lastReloadError = (error as Error).message;
      }
    }
    const outboundError = await this.#outbound.apply(state.config.outbound);
    if (outboundError !== undefined) this.#lastReloadError ??= outboundError;
    const fixed = restartOnlyChanges(previous, state.config);
    if (fixed.length > 0) this.#diagnose(`config generation ${state.generation}: ${fixed.join(', ')} changed; these take effect only when the sidecar restarts`);
    this.#stats.configGeneration.set(state.generation);
    this.#stats.configReload(this.#lastReloadError === undefined ? 'success' : 'rejected');
  }

  #rejectConfig(reason: string): void {
    this.#lastReloadError = reason;
    this.#stats.configReload('rejected');
    this.#diagnose(`config refused, generation ${this.#state.generation} stays in force: ${reason}`);
  }

  /** Re-reads the certificate files; a version that does not load is refused. Never throws. */
  async reloadCertificates(): Promise<void> {
    try {
      if (await this.#certificates.reload()) {
        this.#lastCertificateError = undefined;
        this.#stats.certificateLoad('success');
        this.#diagnose(`certificate loaded: serial ${this.#certificates.current.leaf.serialNumber}, valid to ${this.#certificates.current.leaf.validTo}`);
      }
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.#lastCertificateError) {
        this.#stats.certificateLoad('rejected');
        this.#diagnose(`certificate files refused, the current certificate stays: ${message}`);
      }
      this.#lastCertificateError = message;
    }
  }

  async #addListener(port: SidecarConfig['inbound']['ports'][number]): Promise<void> {
    const bind = this.#state.config.inbound.bindAddress;
    const listener = new InboundListener(port, bind, {
      pod: this.#state.config.node.pod,
      stats: this.#stats,
      accessLog: this.#accessLog,
      certificates: this.#certificates,
      http: this.#http,
      state: () => this.#state,
      diagnostics: (line) => this.#diagnose(line),
    });
    await listener.listen(bind);
    this.#listeners.set(port.port, listener);
  }

  #pool(appPort: number): Pool {
    let pool = this.#pools.get(appPort);
    if (pool === undefined) {
      pool = new Pool(`http://${this.#state.config.inbound.appAddress}:${appPort}`, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
      this.#pools.set(appPort, pool);
    }
    return pool;
  }

  /** Open connections that an older config serves (they drain: see the header). */
  get drainingConnections(): number {
    let n = 0;
    for (const l of this.#listeners.values()) n += l.olderConnections;
    for (const l of this.#removed) n += l.openConnections;
    return n;
  }

  configDump(): unknown {
    const c = this.#certificates.current;
    return {
      version: REFERENCE_SIDECAR_VERSION,
      generation: this.#state.generation,
      drainingConnections: this.drainingConnections,
      ...(this.#lastReloadError === undefined ? {} : { lastReloadError: this.#lastReloadError }),
      ...(this.#lastCertificateError === undefined ? {} : { lastCertificateError: this.#lastCertificateError }),
      listeners: [...this.#listeners.values()].map((l) => ({ address: l.address, port: l.port, protocol: l.config.protocol, mtlsMode: l.config.mtlsMode })),
      outboundListeners: this.#outbound.listeners.map((l) => ({ name: l.name, port: l.port, servicePort: l.servicePort, protocol: l.protocol })),
      certificate: { serialNumber: c.leaf.serialNumber, uriSans: uriSans(c.leaf), validTo: c.leaf.validTo, loadedAt: c.loadedAt },
      config: this.#state.config,
    };
  }

  #certs(): unknown {
    const c = this.#certificates.current;
    const describe = (cert: X509Certificate): Record<string, unknown> => ({
      serial_number: cert.serialNumber,
      subject_alt_names: uriSans(cert).map((uri) => ({ uri })),
      valid_from: new Date(cert.validFrom).toISOString(),
      expiration_time: new Date(cert.validTo).toISOString(),
      sha256: cert.fingerprint256,
    });
    return { certificates: [{ cert_chain: [describe(c.leaf)], ca_cert: [describe(new X509Certificate(c.rootPem))] }], loads: this.#certificates.loads };
  }

  #diagnose(line: string): void {
    (this.#options.diagnostics ?? ((l: string) => process.stderr.write(`${l}\n`)))(`meshproof-sidecar: ${line}`);
  }

  async close(): Promise<void> {
    this.#ready = false;
    for (const w of this.#watches) w.close();
    await Promise.all([...this.#listeners.values()].map((l) => l.close(0)));
    this.#listeners.clear();
    await this.#outbound.close();
    this.#http.close();
    await this.#admin.close();
    await Promise.all([...this.#pools.values()].map((p) => p.destroy()));
    this.#accessLog.close();
  }
}

/** The config with its relative paths made absolute against the config file's folder. */
function withPathsFrom(dir: string, config: SidecarConfig): SidecarConfig {
  return {
    ...config,
    certificates: { dir: resolve(dir, config.certificates.dir) },
    admin: { ...config.admin, socket: resolve(dir, config.admin.socket) },
    accessLog: { ...config.accessLog, ...(config.accessLog.path === undefined ? {} : { path: resolve(dir, config.accessLog.path) }) },
  };
}

/** Parts of the config a running sidecar does not re-apply. */
function restartOnlyChanges(before: SidecarConfig, after: SidecarConfig): string[] {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const changed: string[] = [];
  if (!same(before.admin, after.admin)) changed.push('admin');
  if (!same(before.accessLog, after.accessLog)) changed.push('accessLog');
  if (!same(before.certificates, after.certificates)) changed.push('certificates');
  if (before.inbound.bindAddress !== after.inbound.bindAddress || before.inbound.appAddress !== after.inbound.appAddress) changed.push('inbound addresses');
  if (before.inbound.maxRequestHeadersKb !== after.inbound.maxRequestHeadersKb) changed.push('inbound.maxRequestHeadersKb');
  if (!same(before.node, after.node)) changed.push('node');
  return changed;
}
