/**
 * One inbound listener per workload port: it reads the first bytes (tls_inspector), picks the
 * filter chain from the port's effective PeerAuthentication mode, terminates mutual TLS where
 * the chain says so, and hands the connection to the HTTP or TCP chain.
 *
 * | mode       | TLS ClientHello                 | anything else                           |
 * |------------|---------------------------------|-----------------------------------------|
 * | STRICT     | mTLS chain                      | no chain: closed, NR filter_chain_not_found |
 * | PERMISSIVE | mTLS chain (see `mtlsAlpn`)     | plaintext chain                         |
 * | DISABLE    | plaintext chain (TLS bytes hit the HTTP codec: 400 DPE) | plaintext chain |
 *
 * The mTLS chain requires a client certificate that chains to root-cert.pem (OpenSSL's check,
 * TLS ≥ meshMTLS.minProtocolVersion, Istio's cipher suites) and a URI SAN under
 * `spiffe://<trust domain or alias>/` (Istio's match_subject_alt_names prefixes).
 *
 * Where Node's TLS differs from Envoy's: a client sending no certificate gets the handshake
 * alert (`certificate required` in TLS 1.3) as from Envoy, but a certificate that fails the chain,
 * validity or SAN check completes the handshake and the connection is then closed before any
 * request is read: Node's verify callback always accepts and the result is checked after the
 * handshake (node/src/crypto/crypto_tls.cc VerifyCallback). The client sees a closed connection
 * instead of an `unknown ca` / `certificate expired` alert; the app never sees a request either way.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { ErrorCode, MeshproofError } from '../../../errors.ts';
import type { InboundPort } from '../config.ts';
import type { AccessLog } from './access-log.ts';
import type { CertificateStore } from './certificate-store.ts';
import { inspectClientHello, MAX_CLIENT_HELLO, type Inspection } from './client-hello.ts';
import { peerFacts, plainIp, xfccElement, type Downstream, type SidecarState } from './downstream.ts';
import type { HttpInbound } from './http-inbound.ts';
import { SidecarStats } from './stats.ts';
import { proxyTcp } from './tcp-inbound.ts';

export interface ListenerDeps {
  readonly pod: string;
  readonly stats: SidecarStats;
  readonly accessLog: AccessLog;
  readonly certificates: CertificateStore;
  readonly http: HttpInbound;
  /** The config generation new connections get. */
  readonly state: () => SidecarState;
  readonly diagnostics: (line: string) => void;
}

export class InboundListener {
  readonly port: number;
  readonly address: string;
  readonly #deps: ListenerDeps;
  readonly #server: Server;
  /** Raw socket → the connection handed to a chain (the TLS socket on mutual TLS) and its state. */
  readonly #open = new Map<Socket, { readonly socket: Socket; readonly d: Downstream } | undefined>();
  #config: InboundPort;

  constructor(config: InboundPort, bindAddress: string, deps: ListenerDeps) {
    this.port = config.port;
    this.#config = config;
    this.#deps = deps;
    this.address = SidecarStats.listenerAddress(bindAddress, config.port);
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#onConnection(socket));
  }

  get config(): InboundPort {
    return this.#config;
  }

  listen(bindAddress: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new MeshproofError(ErrorCode.ContainerStart, `inbound listener cannot bind ${bindAddress}:${this.port}: ${error.message}`, { cause: error })),
      );
      this.#server.listen(this.port, bindAddress, () => resolve());
    });
  }

  /** A new config for this port: new connections use it; connections of older generations drain. */
  update(config: InboundPort, drainTimeoutMs: number): void {
    this.#config = config;
    this.#drainOlder(drainTimeoutMs);
  }

  /**
   * Envoy's filter-chain drain with `--drain-strategy immediate`: a connection of an older
   * generation answers its next request with `connection: close` and closes after it; one that
   * stays idle is closed when the drain time ends. It is not closed at once when idle: a client
   * may be sending on it at that moment, and the request would reach the app while the client
   * saw the connection close before any answer (503 UC at the client's sidecar).
   */
  #drainOlder(drainTimeoutMs: number): void {
    const current = this.#deps.state();
    for (const [raw, open] of this.#open) {
      if (open === undefined || open.d.state === current || open.d.draining) continue;
      open.d.draining = true;
      setTimeout(() => raw.destroy(), drainTimeoutMs).unref();
    }
  }

  /** Connections still open that a config older than the one in force serves. */
  get olderConnections(): number {
    const current = this.#deps.state();
    let n = 0;
    for (const open of this.#open.values()) if (open !== undefined && open.d.state !== current) n += 1;
    return n;
  }

  /** Connections still open (a removed listener drains them). */
  get openConnections(): number {
    return this.#open.size;
  }

  /** Stops accepting; open connections drain as on a config change (see #drainOlder). */
  close(drainTimeoutMs: number): Promise<void> {
    for (const [raw, open] of this.#open) {
      if (open !== undefined) open.d.draining = true;
      setTimeout(() => raw.destroy(), drainTimeoutMs).unref();
    }
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #onConnection(socket: Socket): void {
    const { stats } = this.#deps;
    stats.listener(this.address, 'downstream_cx_total');
    stats.cxActive.inc({ listener_address: this.address });
    this.#open.set(socket, undefined);
    socket.once('close', () => {
      this.#open.delete(socket);
      stats.cxActive.dec({ listener_address: this.address });
    });
    socket.on('error', () => socket.destroy());
    const state = this.#deps.state();
    const port = this.#config;
    const timer = setTimeout(() => {
      stats.listener(this.address, 'downstream_pre_cx_timeout');
      socket.destroy();
    }, state.config.inbound.listenerFiltersTimeoutMs);
    let seen: Buffer = Buffer.alloc(0);
    let routed = false;
    const route = (inspection: Inspection): void => {
      routed = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.pause();
      socket.unshift(seen);
      try {
        this.#route(socket, inspection, port, state);
      } catch (error) {
        this.#deps.diagnostics(`closing ${socket.remoteAddress}:${socket.remotePort} after an internal error: ${(error as Error).stack ?? String(error)}`);
        socket.destroy();
      }
    };
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const inspection = inspectClientHello(seen);
      if (inspection.kind === 'need-more' && seen.length < MAX_CLIENT_HELLO) return;
      route(inspection);
    };
    socket.on('data', onData);
    socket.once('end', () => {
      // The client stopped sending before the inspector could decide (nothing, or part of a
      // ClientHello: anything else is decided on its first byte). No chain can take that.
      if (routed) return;
      clearTimeout(timer);
      socket.destroy();
    });
  }

  #route(socket: Socket, hello: Inspection, port: InboundPort, state: SidecarState): void {
    const tls = hello.kind === 'tls';
    if (port.mtlsMode === 'DISABLE' || (port.mtlsMode === 'PERMISSIVE' && !tls)) return this.#plaintext(socket, port, state, hello);
    if (!tls) return this.#noFilterChain(socket);
    if (port.mtlsMode === 'PERMISSIVE' && port.mtlsAlpn !== undefined && !hello.alpn.some((a) => port.mtlsAlpn!.includes(a))) {
      // Istio's PERMISSIVE chains: mTLS only with an Istio ALPN; other TLS is passed through on TCP ports.
      if (port.protocol === 'tcp') return this.#plaintext(socket, port, state, hello);
      return this.#noFilterChain(socket);
    }
    this.#mutualTls(socket, port, state, hello.kind === 'tls' ? hello.sni : '');
  }

  #noFilterChain(socket: Socket): void {
    this.#deps.stats.listener(this.address, 'no_filter_chain_match');
    this.#deps.accessLog.write({
      time: new Date().toISOString(),
      direction: 'inbound',
      pod: this.#deps.pod,
      downstreamAddress: `${plainIp(socket.remoteAddress)}:${socket.remotePort}`,
      status: 0,
      responseFlags: 'NR',
      responseCodeDetails: 'filter_chain_not_found',
      connectionSecurity: 'none',
      durationMs: 0,
    });
    socket.destroy();
  }

  #plaintext(socket: Socket, port: InboundPort, state: SidecarState, hello: Inspection): void {
    this.#hand(socket, socket, this.#downstream(socket, port, state, { sni: hello.kind === 'tls' ? hello.sni : '' }));
  }

  #mutualTls(raw: Socket, port: InboundPort, state: SidecarState, sni: string): void {
    const { stats, certificates } = this.#deps;
    const loaded = certificates.current;
    const tls = new TLSSocket(raw, { isServer: true, secureContext: loaded.context, requestCert: true, rejectUnauthorized: true });
    const timer = setTimeout(() => tls.destroy(), state.config.inbound.listenerFiltersTimeoutMs);
    let secure = false;
    tls.once('secure', () => {
      secure = true;
      clearTimeout(timer);
      try {
        this.#secured(tls, raw, port, state, sni, loaded.localUri);
      } catch (error) {
        // A bug must cost this connection, not the sidecar.
        this.#deps.diagnostics(`closing ${raw.remoteAddress}:${raw.remotePort} after an internal error: ${(error as Error).stack ?? String(error)}`);
        tls.destroy();
      }
    });
    tls.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (secure) return;
      if (error.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') stats.ssl(this.address, 'fail_verify_no_cert');
      stats.ssl(this.address, 'connection_error');
      tls.destroy();
    });
  }

  #secured(tls: TLSSocket, raw: Socket, port: InboundPort, state: SidecarState, sni: string, localUri: string): void {
    const { stats } = this.#deps;
    const refusal = verifyPeer(tls, state);
    if (refusal !== undefined) {
      stats.ssl(this.address, refusal);
      stats.ssl(this.address, 'connection_error');
      tls.destroy();
      return;
    }
    stats.ssl(this.address, 'handshake');
    const peer = tls.getPeerX509Certificate()!;
    const facts = peerFacts(peer);
    const d = this.#downstream(raw, port, state, { sni, peer: facts, xfcc: xfccElement(localUri, peer, facts) });
    this.#hand(tls, raw, d);
  }

  #downstream(raw: Socket, port: InboundPort, state: SidecarState, tls: { sni: string; peer?: ReturnType<typeof peerFacts>; xfcc?: string }): Downstream {
    const sourceIp = plainIp(raw.remoteAddress);
    return {
      state,
      port,
      statPrefix: `inbound_${port.port}`,
      facts: { ...(tls.peer === undefined ? {} : { peer: tls.peer }), sourceIp, destinationIp: plainIp(raw.localAddress), destinationPort: port.port, sni: tls.sni },
      mutualTls: tls.peer !== undefined,
      ...(tls.peer?.uriSans[0] === undefined ? {} : { peerUri: tls.peer.uriSans[0] }),
      ...(tls.xfcc === undefined ? {} : { xfcc: tls.xfcc }),
      address: `${sourceIp}:${raw.remotePort}`,
      startedAt: Date.now(),
      draining: false,
      active: 0,
    };
  }

  #hand(socket: Socket, raw: Socket, d: Downstream): void {
    this.#open.set(raw, { socket, d });
    if (d.state !== this.#deps.state()) d.draining = true;
    if (d.port.protocol === 'http') this.#deps.http.accept(socket, d);
    else proxyTcp(socket, d, this.#deps);
  }
}

/** The checks Node leaves until after the handshake: chain (OpenSSL's result) and the trust-domain SAN prefix. */
function verifyPeer(tls: TLSSocket, state: SidecarState): 'fail_verify_error' | 'fail_verify_no_cert' | 'fail_verify_san' | undefined {
  // Node keeps OpenSSL's verification result on the handle (what tls.Server reads as authorizationError).
  const handle = (tls as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  if (typeof handle?.verifyError !== 'function') return 'fail_verify_error'; // cannot tell: refuse
  if (handle.verifyError() !== null) return 'fail_verify_error';
  const peer = tls.getPeerX509Certificate();
  if (peer === undefined) return 'fail_verify_no_cert';
  const mesh = state.config.mesh;
  const prefixes = [mesh.trustDomain, ...mesh.trustDomainAliases].map((td) => `spiffe://${td}/`);
  const uris = peerFacts(peer).uriSans;
  return uris.some((uri) => prefixes.some((p) => uri.startsWith(p))) ? undefined : 'fail_verify_san';
}
