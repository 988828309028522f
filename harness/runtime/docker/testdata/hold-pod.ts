/**
 * Test helper: opens a run, starts one pod, prints `HOLDING <run id>` and waits to be signalled.
 * The parent test then interrupts (SIGINT) or kills (SIGKILL) it and checks what is left.
 */
import { DockerRuntime } from '../docker-runtime.ts';
import { READY_LINE } from '../../types.ts';

const runtime = await DockerRuntime.start();
const network = await runtime.createNetwork();
await runtime.startPod({ name: 'held', network, app: { image: 'echo', readyLine: READY_LINE } });
process.stdout.write(`HOLDING ${runtime.runId}\n`);
setInterval(() => undefined, 60_000);
