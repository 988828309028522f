/**
 * The reaper container's program (docker/reaper). It removes one session's objects when the
 * session's owner process drops its connection, and exits; the engine then removes the reaper
 * (it runs with AutoRemove).
 */
import { join } from 'node:path';
import { READY_LINE } from '../types.ts';
import { SocketEngine } from './engine-api.ts';
import { REAPER_ENV, REAPER_SOCKET } from './protocol.ts';
import { reapSession } from './reap-session.ts';
import { Reaper } from './reaper.ts';

const env = (name: string): string | undefined => {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
};

const session = env(REAPER_ENV.session);
const runFolder = env(REAPER_ENV.runFolder);
if (session === undefined || runFolder === undefined) {
  process.stderr.write(`reaper: ${REAPER_ENV.session} and ${REAPER_ENV.runFolder} must be set\n`);
  process.exit(2);
}
const engine = new SocketEngine(env(REAPER_ENV.dockerSocket) ?? '/var/run/docker.sock');
const reaper = new Reaper({
  socketPath: join(runFolder, REAPER_SOCKET),
  connectTimeoutMs: Number(env(REAPER_ENV.connectTimeoutMs) ?? 60_000),
  reap: () => reapSession(engine, session, runFolder, env(REAPER_ENV.owner)),
});
// Signals from the engine (docker stop) end the reaper without removing anything.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
await reaper.listen();
process.stdout.write(`${READY_LINE} reaper of session ${session}\n`);
const end = await reaper.done;
process.stdout.write(`reaper: ${end.how}${end.how === 'reaped' ? ` ${JSON.stringify(end.detail)}` : ''}\n`);
process.exit(0);
