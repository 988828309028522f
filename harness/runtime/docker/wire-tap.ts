/**
 * The pod network's observer on Docker: tcpdump in a container of its own (docker/tcpdump, the
 * host's binary on scratch), in the engine's host network namespace, capturing the run network's
 * bridge. On a Linux bridge every frame between two of its ports reaches a capture of the bridge
 * device once that device is promiscuous (tcpdump makes it so), so one observer sees every pair
 * of pods: what an attacker on the node, or on the wire, would see. It needs the engine to allow
 * host networking and CAP_NET_RAW (in Docker's default set); where either is missing, tcpdump's
 * own words say why, and the wire checks are skipped with them.
 *
 * Bounded: tcpdump stops itself after `maxPackets`; a watcher stops it when the file reaches
 * `maxBytes` or `maxDurationMs` has passed. Packets are never cut short (no snap length), so a
 * canary cannot hide in the part of a packet not kept.
 */
import { existsSync, statSync } from 'node:fs';
import type Dockerode from 'dockerode';
import { ErrorCode, MeshproofError } from '../../errors.ts';
import { POD_DIR_IN_CONTAINER, type WireTap, type WireTapBounds } from '../types.ts';
import type { DockerContainer } from './docker-pod.ts';

/** The capture file, inside the observer's private folder. */
export const WIRE_FILE = 'wire.pcap';
/** What tcpdump prints (to stderr) once it captures. */
export const TCPDUMP_LISTENING = 'listening on';

const TCPDUMP_CANDIDATES = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump', '/usr/local/bin/tcpdump', '/usr/local/sbin/tcpdump'];

/** The host's tcpdump (MESHPROOF_TCPDUMP, else the usual places). */
export function findTcpdump(env: NodeJS.ProcessEnv = process.env): string {
  const named = env['MESHPROOF_TCPDUMP'];
  if (named !== undefined && named !== '') {
    if (!existsSync(named)) throw new MeshproofError(ErrorCode.WireCapture, `MESHPROOF_TCPDUMP names ${named}, which does not exist`);
    return named;
  }
  const found = TCPDUMP_CANDIDATES.find((p) => existsSync(p));
  if (found === undefined) {
    throw new MeshproofError(ErrorCode.WireCapture, `no tcpdump on this machine (looked in ${TCPDUMP_CANDIDATES.join(', ')})`, {
      hint: 'sh scripts/setup.sh installs Debian\'s tcpdump (apt-get install tcpdump), or set MESHPROOF_TCPDUMP',
    });
  }
  return found;
}

/** The bridge interface and subnet of a network, from the engine's inspect answer; a reason when it has none. */
export function bridgeOf(network: Pick<Dockerode.NetworkInspectInfo, 'Id' | 'Name' | 'Driver' | 'Options' | 'IPAM'>): { iface: string; subnet: string } {
  if (network.Driver !== 'bridge') throw new MeshproofError(ErrorCode.WireCapture, `network ${network.Name} uses the '${network.Driver}' driver, not a Linux bridge the observer can capture`);
  const subnet = network.IPAM?.Config?.[0]?.Subnet;
  if (subnet === undefined) throw new MeshproofError(ErrorCode.WireCapture, `network ${network.Name} has no subnet to capture`);
  // Docker names a user-defined bridge br-<first 12 of the network id>, unless an option names it.
  const iface = network.Options?.['com.docker.network.bridge.name'] ?? `br-${network.Id.slice(0, 12)}`;
  return { iface, subnet };
}

/** tcpdump's arguments: every TCP packet between addresses of the subnet, whole, written as it comes. */
export function tcpdumpArgs(iface: string, subnet: string, bounds: Pick<WireTapBounds, 'maxPackets'>): string[] {
  // -U and --immediate-mode: each packet reaches the file when it is captured, so the file can be
  // read while the capture runs. -Z root: the image has no 'tcpdump' user to drop privileges to.
  return ['-i', iface, '-n', '-U', '--immediate-mode', '-Z', 'root', '-c', String(bounds.maxPackets), '-w', `${POD_DIR_IN_CONTAINER}/${WIRE_FILE}`, `tcp and src net ${subnet} and dst net ${subnet}`];
}

const WATCH_MS = 1_000;

export class DockerWireTap implements WireTap {
  readonly iface: string;
  readonly file: string;
  readonly listeningAt: number;
  readonly #container: DockerContainer;
  readonly #docker: Dockerode;
  readonly #bounds: WireTapBounds;
  readonly #watch: NodeJS.Timeout;
  #ended: string | undefined;
  #stopping: Promise<void> | undefined;

  constructor(container: DockerContainer, docker: Dockerode, iface: string, file: string, bounds: WireTapBounds) {
    this.#container = container;
    this.#docker = docker;
    this.iface = iface;
    this.file = file;
    this.#bounds = bounds;
    this.listeningAt = Date.now();
    this.#watch = setInterval(() => void this.#check(), WATCH_MS).unref();
  }

  async endedBecause(): Promise<string | undefined> {
    if (this.#ended !== undefined || this.#stopping !== undefined) return this.#ended;
    if (!(await this.#container.isRunning().catch(() => false))) {
      const said = (await this.#container.logs().catch(() => '')).trim().split('\n').slice(-3).join('; ');
      this.#ended = `tcpdump stopped on its own (its bound is ${this.#bounds.maxPackets} packets): ${said}`;
    }
    return this.#ended;
  }

  stop(): Promise<void> {
    clearInterval(this.#watch);
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const container = this.#docker.getContainer(this.#container.id);
    // SIGINT: tcpdump writes what it holds and exits; then the container goes.
    await container.kill({ signal: 'SIGINT' }).catch(() => undefined);
    await container.wait().catch(() => undefined);
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }

  async #check(): Promise<void> {
    if (this.#stopping !== undefined) return;
    const size = existsSync(this.file) ? statSync(this.file).size : 0;
    const reason =
      size >= this.#bounds.maxBytes
        ? `the capture reached its size bound (${size} bytes of ${this.#bounds.maxBytes})`
        : Date.now() - this.listeningAt >= this.#bounds.maxDurationMs
          ? `the capture reached its time bound (${this.#bounds.maxDurationMs} ms)`
          : undefined;
    if (reason === undefined) return;
    this.#ended = reason;
    await this.stop();
  }
}
