/** The data plane a run names (`--dataplane reference|envoy`), as an adapter. */
import { ErrorCode, MeshproofError } from '../errors.ts';
import type { ImageQuestions } from '../runtime/types.ts';
import { EnvoyAdapter } from './envoy/envoy-adapter.ts';
import { ReferenceDataPlane } from './reference/reference-data-plane.ts';
import type { DataPlaneAdapter } from './types.ts';

import { DATA_PLANES } from './names.ts';

export interface CreateDataPlaneOptions {
  /** The runtime's image questions: how the Envoy adapter finds out whether its image can be had. */
  readonly images?: ImageQuestions;
  /** Multiplies policy durations; also given per render. */
  readonly timeScale?: number;
}

export function createDataPlane(name: string, options: CreateDataPlaneOptions = {}): DataPlaneAdapter {
  switch (name) {
    case 'reference':
      return new ReferenceDataPlane();
    case 'envoy':
      return new EnvoyAdapter({
        ...(options.images === undefined ? {} : { availability: { images: options.images } }),
        ...(options.timeScale === undefined ? {} : { render: { timeScale: options.timeScale } }),
      });
    default:
      throw new MeshproofError(ErrorCode.BadArgument, `unknown data plane '${name}'`, { hint: `choose one of: ${DATA_PLANES.join(', ')}` });
  }
}
