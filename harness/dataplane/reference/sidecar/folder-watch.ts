/**
 * Calls `onChange` (never twice at once) when anything in a folder changes: fs.watch for speed,
 * plus a slow poll in case an event is lost (a bind mount, an editor's rename dance). The PKI
 * swaps certificates by renaming `..data` and the harness swaps the config by renaming a temp
 * file, so the folder, not a file, is what is watched.
 */
import { watch, type FSWatcher } from 'node:fs';

export interface FolderWatch {
  close(): void;
}

export function watchFolder(dir: string, onChange: () => Promise<void>, options: { readonly pollMs: number; readonly debounceMs?: number }): FolderWatch {
  let running: Promise<void> | undefined;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;
  const run = (): void => {
    if (running !== undefined) {
      again = true;
      return;
    }
    running = onChange()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        }
      });
  };
  const soon = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(run, options.debounceMs ?? 10);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, soon);
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // the poll still runs
  }
  const poll = setInterval(run, options.pollMs);
  poll.unref();
  return {
    close(): void {
      watcher?.close();
      clearInterval(poll);
      clearTimeout(debounce);
    },
  };
}
