/**
 * What meshproof left on an engine and in the runs folder, run by run, and which of it may go.
 *
 * Every container and network carries `org.meshproof.run` and the owner label; every run folder
 * an `owner` file. An object may be removed only when its owner is proved gone (owner.ts): checked
 * in the owner's own PID namespace of the same boot. Everything else is kept: a live run's reaper
 * removes it when its process ends, and `meshproof clean --all` removes it on request. The sweep
 * at every start and `meshproof clean` use the same rule.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { publish } from '../../events.ts';
import { localProcessView, ownerState, parseOwner, type OwnerState, type ProcessView } from '../owner.ts';
import { OWNER_LABEL, ROLE_LABEL, RUN_LABEL } from '../types.ts';

export interface LeftObject {
  readonly kind: 'container' | 'network' | 'folder';
  readonly id: string;
  readonly name: string;
  readonly owner: OwnerState;
  /** A reaper that is running holds its owner's connection at this moment. */
  readonly liveReaper: boolean;
}

export interface LeftRun {
  readonly runId: string;
  readonly objects: readonly LeftObject[];
  /** True when every object's owner is proved gone. */
  readonly gone: boolean;
  /** Why it may go, or why it is kept. */
  readonly reason: string;
}

export type SweepScope = 'gone' | 'all';

export interface SweepResult {
  readonly runs: readonly LeftRun[];
  readonly removed: readonly LeftObject[];
  readonly failed: readonly { readonly object: LeftObject; readonly error: string }[];
}

/** Lists every run's objects on the engine and in `runsRoot`, with its owner's state. */
export async function inventory(docker: Dockerode, runsRoot: string, view: ProcessView = localProcessView()): Promise<LeftRun[]> {
  const objects = new Map<string, LeftObject[]>();
  const add = (runId: string, object: LeftObject): void => {
    objects.set(runId, [...(objects.get(runId) ?? []), object]);
  };
  const stateOf = (text: string | undefined): OwnerState => ownerState(parseOwner(text), view);

  for (const c of await docker.listContainers({ all: true, filters: { label: [RUN_LABEL] } })) {
    const labels = c.Labels ?? {};
    add(labels[RUN_LABEL]!, {
      kind: 'container',
      id: c.Id,
      name: c.Names[0]?.replace(/^\//, '') ?? c.Id,
      owner: stateOf(labels[OWNER_LABEL]),
      liveReaper: labels[ROLE_LABEL] === 'reaper' && c.State === 'running',
    });
  }
  for (const n of await docker.listNetworks({ filters: { label: [RUN_LABEL] } })) {
    const labels = n.Labels ?? {};
    add(labels[RUN_LABEL]!, { kind: 'network', id: n.Id, name: n.Name, owner: stateOf(labels[OWNER_LABEL]), liveReaper: false });
  }
  for (const folder of runFolders(runsRoot)) add(folder.runId, { kind: 'folder', id: folder.path, name: folder.path, owner: stateOf(folder.owner), liveReaper: false });

  return [...objects.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([runId, list]) => describeRun(runId, list));
}

function describeRun(runId: string, objects: LeftObject[]): LeftRun {
  const gone = objects.every((o) => o.owner.state === 'gone');
  const notGone = objects.find((o) => o.owner.state !== 'gone');
  const reaper = objects.some((o) => o.liveReaper);
  const reason = gone
    ? objects[0]!.owner.reason
    : `${notGone!.owner.state === 'alive' ? 'owner alive: ' : 'owner cannot be proved gone: '}${notGone!.owner.reason}${reaper ? '; its reaper holds the owner\'s connection and removes the run when it drops' : ''}`;
  return { runId, objects, gone, reason };
}

/** Folders below runsRoot with the `owner` file each holds (undefined when unreadable). */
function runFolders(runsRoot: string): { runId: string; path: string; owner: string | undefined }[] {
  let entries: string[];
  try {
    entries = readdirSync(runsRoot);
  } catch {
    return [];
  }
  const out: { runId: string; path: string; owner: string | undefined }[] = [];
  for (const entry of entries) {
    const path = join(runsRoot, entry);
    try {
      if (!statSync(path).isDirectory()) continue;
    } catch {
      continue;
    }
    let owner: string | undefined;
    try {
      owner = readFileSync(join(path, 'owner'), 'utf8').trim();
    } catch {
      owner = undefined;
    }
    out.push({ runId: entry, path, owner });
  }
  return out;
}

/**
 * Removes the objects of every run whose owner is proved gone (`gone`), or of every run (`all`),
 * except `keepRunId` (and only of `onlyRunIds` when given). With `dryRun` it only says what it
 * would remove.
 */
export async function sweep(
  docker: Dockerode,
  runsRoot: string,
  options: { readonly scope: SweepScope; readonly keepRunId?: string; readonly onlyRunIds?: readonly string[]; readonly dryRun?: boolean; readonly view?: ProcessView },
): Promise<SweepResult> {
  const runs = (await inventory(docker, runsRoot, options.view)).filter((r) => r.runId !== options.keepRunId && (options.onlyRunIds === undefined || options.onlyRunIds.includes(r.runId)));
  const doomed = runs.filter((r) => options.scope === 'all' || r.gone).flatMap((r) => r.objects);
  if (options.dryRun === true) return { runs, removed: doomed, failed: [] };
  const failed: { object: LeftObject; error: string }[] = [];
  const removed: LeftObject[] = [];
  const attempt = async (object: LeftObject, remove: () => Promise<unknown>): Promise<void> => {
    try {
      await remove();
      removed.push(object);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) removed.push(object);
      else failed.push({ object, error: (error as Error).message });
    }
  };
  // Containers first (a network with endpoints cannot go), then networks, then folders.
  await Promise.all(doomed.filter((o) => o.kind === 'container').map((o) => attempt(o, () => docker.getContainer(o.id).remove({ force: true, v: true }))));
  await Promise.all(doomed.filter((o) => o.kind === 'network').map((o) => attempt(o, () => docker.getNetwork(o.id).remove())));
  for (const o of doomed.filter((x) => x.kind === 'folder')) await attempt(o, async () => rmSync(o.id, { recursive: true, force: true }));
  const containers = removed.filter((o) => o.kind === 'container').length;
  const networks = removed.filter((o) => o.kind === 'network').length;
  if (containers + networks > 0) {
    const runIds = runs.filter((r) => r.objects.some((o) => removed.includes(o))).map((r) => r.runId);
    publish('runtime:swept', { runIds, containers, networks });
  }
  return { runs, removed, failed };
}
