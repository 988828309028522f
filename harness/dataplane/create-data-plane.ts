/** The data plane a run names (`--dataplane reference|envoy`), as an adapter: the one way suites, benches and the CLI get one. */
import { ErrorCode, MeshproofError } from '../errors.ts';
import type { ImageQuestions } from '../runtime/types.ts';
import type { AvailabilityOptions } from './envoy/availability.ts';
import { EnvoyAdapter } from './envoy/envoy-adapter.ts';
import { ReferenceDataPlane } from './reference/reference-data-plane.ts';
import type { DataPlaneAdapter } from './types.ts';

import { DATA_PLANES } from '../spec/data-plane.ts';

export interface CreateDataPlaneOptions {
  /** The runtime's image questions: how the Envoy adapter finds out whether its image can be had. */
  readonly images?: ImageQuestions;
  /** Replaces how Envoy is looked for (tests: another environment, no project binary, a fake probe). */
  readonly envoyAvailability?: AvailabilityOptions;
}

export function createDataPlane(name: string, options: CreateDataPlaneOptions = {}): DataPlaneAdapter {
  switch (name) {
    case 'reference':
      return new ReferenceDataPlane();
    case 'envoy':
      return new EnvoyAdapter({ availability: { ...(options.images === undefined ? {} : { images: options.images }), ...options.envoyAvailability } });
    default:
      throw new MeshproofError(ErrorCode.BadArgument, `unknown data plane '${name}'`, { hint: `choose one of: ${DATA_PLANES.join(', ')}` });
  }
}
