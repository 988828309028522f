/**
 * The runtime smoke path: one pod (echo app + pass-through sidecar) and one client on a run
 * network. It shows the pod shape the whole harness relies on: the app is reachable through the
 * sidecar, and not directly on its own port, and the app saw exactly what came through.
 */
import { join } from 'node:path';
import { AgentClient, AGENT_SOCKET } from '../traffic/agent-client.ts';
import type { Observation } from '../traffic/types.ts';
import { READY_LINE, type Runtime } from './types.ts';

export interface SmokeResult {
  readonly runId: string;
  readonly throughSidecar: Observation;
  readonly direct: Observation;
  /** Paths the server's echo app received, in order. */
  readonly appReceived: readonly string[];
  readonly passed: boolean;
  readonly problems: readonly string[];
}

export const SMOKE_APP_PORT = 8080;
export const SMOKE_SIDECAR_PORT = 15006;

export async function runSmokeCheck(runtime: Runtime, controlTimeoutMs: number): Promise<SmokeResult> {
  const network = await runtime.createNetwork('smoke');
  const server = await runtime.startPod({
    name: 'smoke-server',
    aliases: ['smoke-service'],
    network,
    app: { image: 'echo', readyLine: READY_LINE, env: { ECHO_PORT: String(SMOKE_APP_PORT) } },
    sidecar: { image: 'passthrough', readyLine: READY_LINE, env: { INBOUND_PORT: String(SMOKE_SIDECAR_PORT), APP_PORT: String(SMOKE_APP_PORT) } },
  });
  const client = await runtime.startPod({ name: 'smoke-client', network, app: { image: 'echo', readyLine: READY_LINE } });
  const clientAgent = new AgentClient(join(client.app.hostDir, AGENT_SOCKET), controlTimeoutMs);
  const serverAgent = new AgentClient(join(server.app.hostDir, AGENT_SOCKET), controlTimeoutMs);
  try {
    const throughSidecar = await clientAgent.call({ protocol: 'http', host: 'smoke-service', port: SMOKE_SIDECAR_PORT, path: '/through-sidecar' });
    const direct = await clientAgent.call({ protocol: 'http', host: 'smoke-service', port: SMOKE_APP_PORT, path: '/direct' });
    const appReceived = (await serverAgent.received()).map((report) => report.path);
    const problems: string[] = [];
    if (throughSidecar.outcome !== 'response' || throughSidecar.status !== 200) {
      problems.push(`through the sidecar: expected 200 from the app, got ${describe(throughSidecar)}`);
    } else if (throughSidecar.echo?.pod !== 'smoke-server') {
      problems.push(`through the sidecar: expected the answer of pod smoke-server, got ${throughSidecar.echo?.pod ?? 'a non-echo body'}`);
    }
    if (direct.outcome !== 'refused') problems.push(`direct to the app's port ${SMOKE_APP_PORT}: expected refused, got ${describe(direct)}`);
    if (appReceived.join(',') !== '/through-sidecar') problems.push(`the app should have received only /through-sidecar, received [${appReceived.join(', ')}]`);
    return { runId: runtime.runId, throughSidecar, direct, appReceived, passed: problems.length === 0, problems };
  } finally {
    await Promise.allSettled([clientAgent.close(), serverAgent.close()]);
  }
}

function describe(observation: Observation): string {
  return observation.outcome === 'response' ? `status ${observation.status}` : `${observation.outcome} (${observation.error?.code ?? ''})`;
}
