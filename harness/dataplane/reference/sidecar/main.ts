/**
 * Reference sidecar entry point (runs in the sidecar image). Environment:
 *   SIDECAR_CONFIG   the config file (default /run/meshproof/sidecar.json), written by render.ts
 * Prints READY_LINE once every listener and the admin socket are up; exits 1 with the reason when
 * the config or certificates cannot be loaded.
 */
import { join } from 'node:path';
import { describeError } from '../../../errors.ts';
import { POD_DIR_IN_CONTAINER, READY_LINE } from '../../../runtime/types.ts';
import { Sidecar } from './sidecar.ts';

const configPath = process.env['SIDECAR_CONFIG'] ?? join(POD_DIR_IN_CONTAINER, 'sidecar.json');

let sidecar: Sidecar;
try {
  sidecar = await Sidecar.start({ configPath });
} catch (error) {
  process.stderr.write(`meshproof-sidecar: cannot start\n${describeError(error)}\n`);
  process.exit(1);
}
process.stdout.write(`${READY_LINE} sidecar generation=${sidecar.generation} listeners=${sidecar.listeners.map((l) => l.address).join(',') || 'none'}\n`);

const shutdown = (): void => {
  void sidecar.close().finally(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
