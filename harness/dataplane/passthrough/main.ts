/**
 * Pass-through sidecar placeholder: forwards TCP from 0.0.0.0:INBOUND_PORT (default 15006) to the
 * app on 127.0.0.1:APP_PORT (default 8080), and nothing else. The runtime smoke test uses it to
 * show the pod shape (the sidecar is the only way in); it enforces no policy at all.
 */
import { createServer, connect } from 'node:net';
import { READY_LINE } from '../../runtime/types.ts';

const inboundPort = Number(process.env['INBOUND_PORT'] ?? 15006);
const appPort = Number(process.env['APP_PORT'] ?? 8080);

const server = createServer((downstream) => {
  const upstream = connect({ host: '127.0.0.1', port: appPort });
  downstream.pipe(upstream).pipe(downstream);
  const close = (): void => {
    downstream.destroy();
    upstream.destroy();
  };
  downstream.on('error', close);
  upstream.on('error', close);
});
server.listen(inboundPort, '0.0.0.0', () => {
  process.stdout.write(`${READY_LINE} passthrough ${inboundPort}->127.0.0.1:${appPort}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
