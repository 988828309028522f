/**
 * Removes what runs left behind: containers, networks and run folders labelled
 * `org.meshproof.run`, either of runs whose process is gone (at every start) or of every run
 * (`meshproof clean --all`). Runs whose process still lives are left alone.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { publish } from '../../events.ts';
import { isOwnerDead, parseOwner } from '../owner.ts';
import { OWNER_LABEL, RUN_LABEL } from '../types.ts';
import type { DockerClient } from './docker-connection.ts';

export interface SweepResult {
  readonly runIds: string[];
  readonly containers: number;
  readonly networks: number;
  readonly folders: number;
}

export type SweepScope = 'dead-runs' | 'all-runs';

export async function sweep(client: DockerClient, runsRoot: string, scope: SweepScope, keepRunId?: string): Promise<SweepResult> {
  const docker = client.container.dockerode;
  const shouldRemove = (labels: Record<string, string> | undefined): boolean => {
    const runId = labels?.[RUN_LABEL];
    if (runId === undefined || runId === keepRunId) return false;
    return scope === 'all-runs' || isOwnerDead(parseOwner(labels?.[OWNER_LABEL]));
  };
  const runIds = new Set<string>();

  const containers = (await docker.listContainers({ all: true, filters: { label: [RUN_LABEL] } })).filter((c) => shouldRemove(c.Labels));
  await Promise.allSettled(
    containers.map(async (c) => {
      runIds.add(c.Labels[RUN_LABEL]!);
      await docker.getContainer(c.Id).remove({ force: true, v: true });
    }),
  );
  const networks = (await docker.listNetworks({ filters: { label: [RUN_LABEL] } })).filter((n) => shouldRemove(n.Labels));
  await Promise.allSettled(
    networks.map(async (n) => {
      runIds.add(n.Labels![RUN_LABEL]!);
      await docker.getNetwork(n.Id).remove();
    }),
  );
  const folders = sweepRunFolders(runsRoot, scope, keepRunId);
  const result = { runIds: [...runIds], containers: containers.length, networks: networks.length, folders };
  if (result.containers + result.networks > 0) publish('runtime:swept', { runIds: result.runIds, containers: result.containers, networks: result.networks });
  return result;
}

/** Each run folder holds an `owner` file; folders of dead owners are removed. */
function sweepRunFolders(runsRoot: string, scope: SweepScope, keepRunId: string | undefined): number {
  if (!existsSync(runsRoot)) return 0;
  let removed = 0;
  for (const entry of readdirSync(runsRoot)) {
    if (entry === keepRunId) continue;
    const dir = join(runsRoot, entry);
    let owner: string | undefined;
    try {
      owner = readFileSync(join(dir, 'owner'), 'utf8').trim();
    } catch {
      owner = undefined;
    }
    if (scope === 'all-runs' || isOwnerDead(parseOwner(owner))) {
      rmSync(dir, { recursive: true, force: true });
      removed += 1;
    }
  }
  return removed;
}
