/**
 * Echo app entry point (runs in the echo image). Environment:
 *   POD_NAME     which replica this is (reported in every answer)
 *   ECHO_PORT    port of the echo server on 127.0.0.1 (default 8080)
 *   POD_DIR      folder for the control socket (default /run/meshproof)
 *   ECHO_SEED    seed for the ?codes= response mix (default 1; the run seed in suites)
 */
import { join } from 'node:path';
import { hostname } from 'node:os';
import { AGENT_SOCKET } from '../../traffic/agent-client.ts';
import { POD_DIR_IN_CONTAINER, READY_LINE } from '../../runtime/types.ts';
import { ControlServer } from './control-server.ts';
import { EchoServer } from './echo-server.ts';

const pod = process.env['POD_NAME'] ?? hostname();
const echoPort = Number(process.env['ECHO_PORT'] ?? 8080);
const podDir = process.env['POD_DIR'] ?? POD_DIR_IN_CONTAINER;

const seed = Number(process.env['ECHO_SEED'] ?? 1);

const echo = new EchoServer({ pod, host: '127.0.0.1', port: echoPort, seed });
const control = new ControlServer({ pod, socketPath: join(podDir, AGENT_SOCKET), echo, echoPort });
await echo.listen();
await control.listen();
process.stdout.write(`${READY_LINE} echo pod=${pod} port=${echoPort}\n`);

const shutdown = (): void => {
  void Promise.allSettled([echo.close(), control.close()]).then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
