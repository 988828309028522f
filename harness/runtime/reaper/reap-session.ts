/**
 * Removes one session's objects: its containers (all but reapers), then its networks, then the
 * run folder while its `owner` file still names the session's owner. Used by the reaper when its
 * owner's connection drops, so the owner is gone and nothing it made can be in use.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROLE_LABEL, SESSION_LABEL } from '../types.ts';
import type { ReapEngine } from './engine-api.ts';

export interface ReapSummary {
  readonly containers: string[];
  readonly networks: string[];
  readonly folderRemoved: boolean;
  readonly problems: string[];
}

export async function reapSession(engine: ReapEngine, session: string, runFolder: string | undefined, owner: string | undefined): Promise<ReapSummary> {
  const label = `${SESSION_LABEL}=${session}`;
  const containers: string[] = [];
  const networks: string[] = [];
  const problems: string[] = [];
  // Two passes: a network still holding an endpoint of a container being removed refuses the
  // first time; the second pass finds what the first left.
  for (let pass = 0; pass < 2; pass += 1) {
    const own = (await engine.listContainers(label)).filter((c) => c.labels[ROLE_LABEL] !== 'reaper');
    const removed = await Promise.allSettled(own.map(async (c) => {
      await engine.removeContainer(c.id);
      return c.name;
    }));
    for (const r of removed) if (r.status === 'fulfilled') containers.push(r.value);
    const nets = await engine.listNetworks(label);
    const removedNets = await Promise.allSettled(nets.map(async (n) => {
      await engine.removeNetwork(n.id);
      return n.name;
    }));
    for (const r of removedNets) if (r.status === 'fulfilled') networks.push(r.value);
    const failed = [...removed, ...removedNets].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length === 0) break;
    if (pass === 1) problems.push(...failed.map((f) => String((f.reason as Error)?.message ?? f.reason)));
  }
  let folderRemoved = false;
  if (runFolder !== undefined && owner !== undefined) {
    let written: string | undefined;
    try {
      written = readFileSync(join(runFolder, 'owner'), 'utf8').trim();
    } catch {
      written = undefined;
    }
    if (written === owner) {
      rmSync(runFolder, { recursive: true, force: true });
      folderRemoved = true;
    }
  }
  return { containers, networks, folderRemoved, problems };
}
