/**
 * The line protocol between a run's process and its reaper, over a Unix socket in the run folder.
 *
 *   reaper → owner  `held`      the connection is counted: from now on its end without a release reaps
 *   owner → reaper  `release`   the owner is removing its objects itself; end without reaping
 *   reaper → owner  `released`  the reaper will remove nothing and exits
 *
 * Only one connection is held; a second one is told `busy` and closed.
 */
export const REAPER_SOCKET = 'reaper.sock';
export const HELD = 'held';
export const RELEASE = 'release';
export const RELEASED = 'released';
export const BUSY = 'busy';

/** Environment of the reaper container. */
export const REAPER_ENV = {
  /** The session whose objects it removes (label org.meshproof.session). */
  session: 'MESHPROOF_SESSION',
  /** The run folder, as mounted in the reaper. */
  runFolder: 'MESHPROOF_RUN_FOLDER',
  /** The owner label: the run folder is removed only while its `owner` file still says this. */
  owner: 'MESHPROOF_OWNER',
  /** How long to wait for the owner's first connection before exiting without removing anything. */
  connectTimeoutMs: 'MESHPROOF_REAPER_CONNECT_TIMEOUT_MS',
  /** The engine's socket inside the reaper. */
  dockerSocket: 'MESHPROOF_DOCKER_SOCKET',
} as const;
