/**
 * The faults the resilience suite injects, each undone by revert():
 *   an endpoint answering 5xx (always, or at a seeded rate), slow responses, connection resets,
 *   a hung endpoint, a killed container, a paused (frozen) container, a network partition, and an
 *   expired workload certificate. Latency is made in user space by the echo app (no netem here).
 */
import type { MeshCa } from '../pki/mesh-ca.ts';
import type { WorkloadRef } from '../pki/spiffe.ts';
import { makeBadCertificate } from '../pki/attacker-kit.ts';
import { writeWorkloadFiles } from '../pki/workload-files.ts';
import type { ContainerHandle, Pod } from '../runtime/types.ts';
import type { AgentClient } from '../traffic/agent-client.ts';
import type { EchoMode } from '../traffic/types.ts';
import type { Fault } from './fault.ts';

/** A replica's echo app, reached through its control socket. */
export interface EchoTarget {
  readonly pod: string;
  readonly agent: AgentClient;
}

function echoModeFault(target: EchoTarget, mode: EchoMode, description: string): Fault {
  return {
    description,
    target: target.pod,
    inject: async () => void (await target.agent.setMode(mode)),
    revert: async () => void (await target.agent.setMode({ mode: 'normal' })),
  };
}

export function failingEndpoint(target: EchoTarget, status = 503): Fault {
  return echoModeFault(target, { mode: 'fail', status }, `${target.pod} answers ${status} to every request`);
}

/** Fails a share of requests, drawn from the echo app's seeded generator: `{ 503: 20 }` fails 20%. */
export function flakyEndpoint(target: EchoTarget, status: number, percent: number): Fault {
  const codes = `${status}:${percent},200:${100 - percent}`;
  return echoModeFault(target, { mode: 'mix', codes }, `${target.pod} answers ${status} to ${percent}% of requests (seeded)`);
}

export function slowEndpoint(target: EchoTarget, delayMs: number): Fault {
  return echoModeFault(target, { mode: 'slow', delayMs }, `${target.pod} answers ${delayMs} ms late`);
}

export function resettingEndpoint(target: EchoTarget): Fault {
  return echoModeFault(target, { mode: 'reset' }, `${target.pod} resets every connection without answering`);
}

export function hungEndpoint(target: EchoTarget): Fault {
  return echoModeFault(target, { mode: 'hang' }, `${target.pod} accepts requests and never answers`);
}

export function killedContainer(container: ContainerHandle, pod: string): Fault {
  return {
    description: `${pod}'s ${container.role} container is killed (SIGKILL)`,
    target: pod,
    inject: () => container.kill('SIGKILL'),
    revert: () => container.start(),
  };
}

export function pausedContainer(container: ContainerHandle, pod: string): Fault {
  return {
    description: `${pod}'s ${container.role} container is frozen (cgroup freezer)`,
    target: pod,
    inject: () => container.pause(),
    revert: () => container.unpause(),
  };
}

export function partitionedPod(pod: Pod): Fault {
  return {
    description: `${pod.name} is cut off the run network`,
    target: pod.name,
    inject: () => pod.disconnect(),
    revert: () => pod.reconnect(),
  };
}

/**
 * The workload's sidecar is handed an expired certificate (from the attacker kit, for its own
 * identity); revert issues a fresh one from the CA. `dir` is the sidecar's certificate folder.
 */
export function expiredCertificate(ca: MeshCa, workload: WorkloadRef, dir: string, pod: string): Fault {
  return {
    description: `${pod}'s sidecar holds an expired certificate for ${ca.spiffeUriOf(workload)}`,
    target: pod,
    inject: async () => writeWorkloadFiles(dir, await makeBadCertificate(ca, 'expired', workload)),
    revert: async () => writeWorkloadFiles(dir, await ca.issue(workload)),
  };
}
